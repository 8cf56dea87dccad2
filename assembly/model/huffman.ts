// Decoders of encodings 2 (rle-huffman) and 3 (codebook) of docs/FORMAT.md: int8 weights
// as canonical-Huffman-coded (zero run, value) pairs. The two share the token stream and
// differ only in their tables: rle-huffman's value symbol is the value's byte, codebook's
// indexes a list of values. Every read is checked against the tensor's data size and
// every code against its table, so a corrupt stream is reported, never followed.

const MAX_BITS: i32 = 15;
const RLE_HEADER: usize = 260; // two tables of 128 nibble bytes, then u32 value count
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

// Counts per length, symbols sorted by (length, symbol) and the lookup table for an
// alphabet of `symbols` (1 .. 256) nibble lengths; false when the lengths over-subscribe
// the code space or an odd alphabet's padding nibble is not 0.
function build(lengths: usize, symbols: i32, count: usize, syms: usize, lut: usize): bool {
  if ((symbols & 1) != 0 && (load<u8>(lengths + <usize>(symbols >> 1)) >> 4) != 0) return false;
  memory.fill(count, 0, 32);
  for (let s = 0; s < symbols; s++) {
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
  for (let s = 0; s < symbols; s++) {
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

// The token stream of `values` non-zero values over `n` elements at [src, src + size),
// decoded into dst (only checked when dst is 0). A value symbol is the value's byte, or
// with a codebook (book ≠ 0) its index there. Returns `values`, or −1 when invalid
// (more values than elements end in a run past element n − 1).
function tokens(src: usize, size: usize, values: usize, n: usize, dst: usize, book: usize): i64 {
  stream = src;
  bitPos = 0;
  bitEnd = size << 3;
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
    const s = symbol(valCount, valSyms, valLut);
    if (s < 0) return -1;
    const v = book ? <i32>load<u8>(book + <usize>s) : s;
    if (v == 0) return -1; // 0 is not a value
    if (dst) store<u8>(dst + pos, <u8>v);
    pos++;
  }
  // the stream ends with the last value: only zero padding bits may follow
  if ((bitPos + 7) >> 3 != size) return -1;
  for (; bitPos < bitEnd; bitPos++) if ((load<u8>(stream + (bitPos >> 3)) >> <u8>(7 - (bitPos & 7))) & 1) return -1;
  return <i64>values;
}

// The non-zero values an rle-huffman stream of `n` elements declares in its header, or
// −1 when the header cannot hold (the stream itself is checked where it is decoded).
export function rle_huffman_values(src: usize, size: usize, n: usize): i64 {
  if (size < RLE_HEADER) return -1;
  const values = <usize>load<u32>(src + 256);
  return values > n ? -1 : <i64>values;
}

// Decodes `n` int8 elements of rle-huffman data [src, src + size) into dst, or only
// checks the stream when dst is 0. Returns the number of non-zero values, or −1 when
// the data is invalid.
export function rle_huffman_decode(src: usize, size: usize, n: usize, dst: usize): i64 {
  if (size < RLE_HEADER) return -1;
  if (!build(src, 256, runCount, runSyms, runLut) || !build(src + 128, 256, valCount, valSyms, valLut)) return -1;
  return tokens(src + RLE_HEADER, size - RLE_HEADER, <usize>load<u32>(src + 256), n, dst, 0);
}

// A codebook tensor's header size (k, r, the codebook, both tables, the value count),
// or 0 when k is 0 or data_size cannot hold it.
function codebookHeader(src: usize, size: usize): usize {
  if (size < 2) return 0;
  const k = <usize>load<u8>(src), r = <usize>load<u8>(src, 1);
  const header: usize = k + ((r + 2) >> 1) + ((k + 1) >> 1) + 6; // + 2 (k, r) + 4 (count)
  return k == 0 || header > size ? 0 : header;
}

// As rle_huffman_values, for encoding 3.
export function codebook_values(src: usize, size: usize, n: usize): i64 {
  const header = codebookHeader(src, size);
  if (!header) return -1;
  const values = <usize>load<u32>(src + header - 4);
  return values > n ? -1 : <i64>values;
}

// As rle_huffman_decode, for encoding 3: the codebook's entries must be non-zero and
// strictly increasing (one way to write each codebook, so a file has one meaning).
export function codebook_decode(src: usize, size: usize, n: usize, dst: usize): i64 {
  const header = codebookHeader(src, size);
  if (!header) return -1;
  const k = <i32>load<u8>(src), r = <i32>load<u8>(src, 1);
  const book = src + 2;
  for (let i = 0; i < k; i++) {
    const v = <i32>load<i8>(book + <usize>i);
    if (v == 0 || (i > 0 && v <= <i32>load<i8>(book + <usize>(i - 1)))) return -1;
  }
  const runLengths = book + <usize>k, valueLengths = runLengths + <usize>((r + 2) >> 1);
  if (!build(runLengths, r + 1, runCount, runSyms, runLut) || !build(valueLengths, k, valCount, valSyms, valLut)) return -1;
  return tokens(src + header, size - header, <usize>load<u32>(src + header - 4), n, dst, book);
}
