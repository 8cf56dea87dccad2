// Decoder of encoding 2 (docs/FORMAT.md): int8 weights as canonical-Huffman-coded
// (zero run, value) pairs. Every read is checked against the tensor's data size and
// every code against its table, so a corrupt stream is reported, never followed.

const MAX_BITS: i32 = 15;
const HEADER: usize = 260; // two tables of 128 nibble bytes, then u32 value count
const ESCAPE: i32 = 255;

const runCount: usize = memory.data(2 * 16, 2);
const runSyms: usize = memory.data(256);
const valCount: usize = memory.data(2 * 16, 2);
const valSyms: usize = memory.data(256);
const offsets: usize = memory.data(2 * 17, 2);
// A lookup table per code: the next LUT_BITS bits → (length << 8 | symbol) for codes of
// at most LUT_BITS bits, 0 for longer ones (decoded bit by bit). Load time was two
// thirds Huffman decoding, one bit per step.
const LUT_BITS: i32 = 9;
const runLut: usize = memory.data(2 << LUT_BITS, 2);
const valLut: usize = memory.data(2 << LUT_BITS, 2);

let bitPos: usize = 0;
let bitEnd: usize = 0;
let stream: usize = 0;

// Counts per length, symbols sorted by (length, symbol) and the lookup table; false when
// the lengths over-subscribe the code space.
function build(lengths: usize, count: usize, syms: usize, lut: usize): bool {
  memory.fill(count, 0, 32);
  for (let s = 0; s < 256; s++) {
    const l = <i32>(load<u8>(lengths + (s >> 1)) >> <u8>((s & 1) << 2)) & 15;
    store<u16>(count + (<usize>l << 1), load<u16>(count + (<usize>l << 1)) + 1);
  }
  let left: i32 = 1;
  for (let len = 1; len <= MAX_BITS; len++) {
    left = (left << 1) - <i32>load<u16>(count + (<usize>len << 1));
    if (left < 0) return false;
  }
  store<u16>(offsets + 2, 0);
  for (let len = 1; len < MAX_BITS; len++) {
    store<u16>(offsets + (<usize>(len + 1) << 1), load<u16>(offsets + (<usize>len << 1)) + load<u16>(count + (<usize>len << 1)));
  }
  for (let s = 0; s < 256; s++) {
    const l = <i32>(load<u8>(lengths + (s >> 1)) >> <u8>((s & 1) << 2)) & 15;
    if (l == 0) continue;
    const at = <usize>load<u16>(offsets + (<usize>l << 1));
    store<u8>(syms + at, <u8>s);
    store<u16>(offsets + (<usize>l << 1), <u16>(at + 1));
  }
  // canonical codes in (length, symbol) order: code = first code of its length + rank
  memory.fill(lut, 0, 2 << LUT_BITS);
  let code: i32 = 0, index: i32 = 0;
  for (let len = 1; len <= LUT_BITS; len++) {
    const c = <i32>load<u16>(count + (<usize>len << 1));
    for (let j = 0; j < c; j++) {
      const entry = <u16>((len << 8) | <i32>load<u8>(syms + <usize>(index + j)));
      const lo = (code + j) << (LUT_BITS - len), hi = lo + (1 << (LUT_BITS - len));
      for (let v = lo; v < hi; v++) store<u16>(lut + (<usize>v << 1), entry);
    }
    index += c;
    code = (code + c) << 1;
  }
  return true;
}

// Next symbol, or −1 at the end of the data or on a code the table does not hold.
// @ts-ignore: decorator
@inline function symbol(count: usize, syms: usize, lut: usize): i32 {
  if (bitEnd - bitPos >= 24) {
    // three whole bytes of the stream hold the next LUT_BITS bits
    const p = stream + (bitPos >> 3);
    const window = (<i32>load<u8>(p) << 16) | (<i32>load<u8>(p, 1) << 8) | <i32>load<u8>(p, 2);
    const e = <i32>load<u16>(lut + (<usize>((window >> (24 - LUT_BITS - <i32>(bitPos & 7))) & ((1 << LUT_BITS) - 1)) << 1));
    if (e != 0) {
      bitPos += <usize>(e >> 8);
      return e & 255;
    }
  }
  return symbolBitwise(count, syms);
}

// A code longer than LUT_BITS, or the stream's last bits: one bit per step.
function symbolBitwise(count: usize, syms: usize): i32 {
  let code: i32 = 0, first: i32 = 0, index: i32 = 0;
  for (let len = 1; len <= MAX_BITS; len++) {
    if (bitPos >= bitEnd) return -1;
    code |= (load<u8>(stream + (bitPos >> 3)) >> <u8>(7 - (bitPos & 7))) & 1;
    bitPos++;
    const c = <i32>load<u16>(count + (<usize>len << 1));
    if (code - first < c) return load<u8>(syms + <usize>(index + code - first));
    index += c;
    first = (first + c) << 1;
    code <<= 1;
  }
  return -1;
}

// The non-zero values a stream of `n` elements declares in its header, or −1 when the
// header cannot hold (the stream itself is checked where it is decoded).
export function rle_huffman_values(src: usize, size: usize, n: usize): i64 {
  if (size < HEADER) return -1;
  const values = <usize>load<u32>(src + 256);
  return values > n ? -1 : <i64>values;
}

// Decodes `n` int8 elements from [src, src + size) into dst, or only checks the stream
// when dst is 0. Returns the number of non-zero values, or −1 when the data is invalid.
export function rle_huffman_decode(src: usize, size: usize, n: usize, dst: usize): i64 {
  if (size < HEADER) return -1;
  if (!build(src, runCount, runSyms, runLut) || !build(src + 128, valCount, valSyms, valLut)) return -1;
  const values = <usize>load<u32>(src + 256);
  if (values > n) return -1;
  stream = src + HEADER;
  bitPos = 0;
  bitEnd = (size - HEADER) << 3;
  if (dst) memory.fill(dst, 0, n);
  let pos: usize = 0;
  for (let k: usize = 0; k < values; k++) {
    for (;;) {
      const r = symbol(runCount, runSyms, runLut);
      if (r < 0) return -1;
      if (r == ESCAPE) {
        pos += 255;
        if (pos > n) return -1;
        continue;
      }
      pos += <usize>r;
      break;
    }
    if (pos >= n) return -1;
    const v = symbol(valCount, valSyms, valLut);
    if (v <= 0) return -1; // 0 is not a value
    if (dst) store<u8>(dst + pos, <u8>v);
    pos++;
  }
  // the stream ends with the last value: only zero padding bits may follow
  if ((bitPos + 7) >> 3 != size - HEADER) return -1;
  for (; bitPos < bitEnd; bitPos++) if ((load<u8>(stream + (bitPos >> 3)) >> <u8>(7 - (bitPos & 7))) & 1) return -1;
  return <i64>values;
}
