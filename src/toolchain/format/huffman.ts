// Encodings 2 ("rle-huffman") and 3 ("codebook") of docs/FORMAT.md: pruned int8 weights
// as Huffman-coded (zero run, value) pairs, canonical codes of at most 15 bits, bits MSB
// first. Both write the same token stream; codebook's value symbols index a list of the
// tensor's distinct values and its tables cover only runs up to the longest and those
// values, which is what clustered weights (few distinct values) in small tensors need.

const MAX_BITS = 15;
export const ESCAPE_RUN = 255; // 255 zeros, no value follows
const TABLES = 128 + 128 + 4;

// Code lengths (0: unused) for symbol frequencies, limited to MAX_BITS.
export function codeLengths(freq: ArrayLike<number>): Uint8Array {
  const f = Array.from(freq);
  for (;;) {
    const lengths = huffmanLengths(f);
    if (lengths.every((l) => l <= MAX_BITS)) return lengths;
    // too deep: flatten the distribution and try again
    for (let i = 0; i < f.length; i++) if (f[i] > 0) f[i] = Math.max(1, f[i] >> 1);
  }
}

function huffmanLengths(freq: number[]): Uint8Array {
  const lengths = new Uint8Array(freq.length);
  const used = freq.map((w, s) => ({ w, s })).filter((x) => x.w > 0);
  if (used.length === 0) return lengths;
  if (used.length === 1) { lengths[used[0].s] = 1; return lengths; }
  type Node = { w: number; s?: number; a?: Node; b?: Node };
  let nodes: Node[] = used.map((x) => ({ w: x.w, s: x.s }));
  while (nodes.length > 1) {
    nodes.sort((p, q) => p.w - q.w);
    const [a, b] = nodes;
    nodes = [{ w: a.w + b.w, a, b }, ...nodes.slice(2)];
  }
  const walk = (n: Node, depth: number) => {
    if (n.s !== undefined) lengths[n.s] = depth;
    else { walk(n.a!, depth + 1); walk(n.b!, depth + 1); }
  };
  walk(nodes[0], 0);
  return lengths;
}

// Canonical codes: by length, then by symbol.
function canonicalCodes(lengths: Uint8Array): Uint32Array {
  const count = new Uint32Array(MAX_BITS + 1);
  lengths.forEach((l) => { if (l) count[l]++; });
  const next = new Uint32Array(MAX_BITS + 2);
  let code = 0;
  for (let bits = 1; bits <= MAX_BITS; bits++) {
    code = (code + count[bits - 1]) << 1;
    next[bits] = code;
  }
  return Uint32Array.from(lengths, (l) => (l ? next[l]++ : 0));
}

function tokens(values: Int8Array): { runs: number[]; vals: number[] } {
  const runs: number[] = [], vals: number[] = [];
  let zeros = 0;
  for (const v of values) {
    if (v === 0) { zeros++; continue; }
    while (zeros >= ESCAPE_RUN) { runs.push(ESCAPE_RUN); zeros -= ESCAPE_RUN; }
    runs.push(zeros);
    vals.push(v & 0xff);
    zeros = 0;
  }
  return { runs, vals };
}

// The bit stream of the tokens: a run code, then (unless the run is the escape) the code
// of the value's symbol.
function bitStream(runs: number[], syms: number[], rl: Uint8Array, vl: Uint8Array): Uint8Array {
  const rc = canonicalCodes(rl), vc = canonicalCodes(vl);
  const bits: number[] = [];
  const put = (code: number, len: number) => { for (let i = len - 1; i >= 0; i--) bits.push((code >> i) & 1); };
  let vi = 0;
  for (const r of runs) {
    put(rc[r], rl[r]);
    if (r !== ESCAPE_RUN) { put(vc[syms[vi]], vl[syms[vi]]); vi++; }
  }
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((b, i) => { if (b) out[i >> 3] |= 0x80 >> (i & 7); });
  return out;
}

// Code lengths as nibbles: symbol 2i in byte i's low nibble, 2i + 1 in its high one.
function nibbles(lengths: Uint8Array): Uint8Array {
  return Uint8Array.from({ length: Math.ceil(lengths.length / 2) }, (_, i) => lengths[2 * i] | ((lengths[2 * i + 1] ?? 0) << 4));
}

function frequencies(symbols: number[], alphabet: number): Uint32Array {
  const f = new Uint32Array(alphabet);
  for (const s of symbols) f[s]++;
  return f;
}

export function encodeRleHuffman(values: Int8Array): Uint8Array {
  const { runs, vals } = tokens(values);
  const rl = codeLengths(frequencies(runs, 256)), vl = codeLengths(frequencies(vals, 256));
  const stream = bitStream(runs, vals, rl, vl);
  const out = new Uint8Array(TABLES + stream.length);
  out.set(nibbles(rl), 0);
  out.set(nibbles(vl), 128);
  new DataView(out.buffer).setUint32(256, vals.length, true);
  out.set(stream, TABLES);
  return out;
}

// Encoding 3, or null for a tensor without a non-zero value (a codebook has 1 .. 255
// entries; raw or bitmask hold such a tensor).
export function encodeCodebook(values: Int8Array): Uint8Array | null {
  const { runs, vals } = tokens(values);
  if (vals.length === 0) return null;
  const book = Int8Array.from(new Set(values.filter((v) => v !== 0))).sort();
  const index = new Map<number, number>();
  book.forEach((v, i) => index.set(v & 0xff, i));
  const syms = vals.map((v) => index.get(v)!);
  const r = runs.reduce((m, x) => Math.max(m, x), 0);
  const rl = codeLengths(frequencies(runs, r + 1)), vl = codeLengths(frequencies(syms, book.length));
  const stream = bitStream(runs, syms, rl, vl);
  const tables = [Uint8Array.of(book.length, r), new Uint8Array(book.buffer), nibbles(rl), nibbles(vl)];
  const header = tables.reduce((n, t) => n + t.length, 0) + 4;
  const out = new Uint8Array(header + stream.length);
  let at = 0;
  for (const t of tables) { out.set(t, at); at += t.length; }
  new DataView(out.buffer).setUint32(at, vals.length, true);
  out.set(stream, header);
  return out;
}
