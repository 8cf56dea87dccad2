// Encoding 2 of docs/FORMAT.md ("rle-huffman"): pruned int8 weights as Huffman-coded
// (zero run, value) pairs, canonical codes of at most 15 bits, bits MSB first.

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

export function encodeRleHuffman(values: Int8Array): Uint8Array {
  const { runs, vals } = tokens(values);
  const rf = new Uint32Array(256), vf = new Uint32Array(256);
  runs.forEach((r) => rf[r]++);
  vals.forEach((v) => vf[v]++);
  const rl = codeLengths(rf), vl = codeLengths(vf);
  const rc = canonicalCodes(rl), vc = canonicalCodes(vl);
  const bits: number[] = [];
  const put = (code: number, len: number) => { for (let i = len - 1; i >= 0; i--) bits.push((code >> i) & 1); };
  let vi = 0;
  for (const r of runs) {
    put(rc[r], rl[r]);
    if (r !== ESCAPE_RUN) { put(vc[vals[vi]], vl[vals[vi]]); vi++; }
  }
  const out = new Uint8Array(TABLES + Math.ceil(bits.length / 8));
  for (let s = 0; s < 256; s += 2) {
    out[s >> 1] = rl[s] | (rl[s + 1] << 4);
    out[128 + (s >> 1)] = vl[s] | (vl[s + 1] << 4);
  }
  new DataView(out.buffer).setUint32(256, vals.length, true);
  bits.forEach((b, i) => { if (b) out[TABLES + (i >> 3)] |= 0x80 >> (i & 7); });
  return out;
}
