import { describe, expect, it } from 'vitest';
import * as F from '../assembly/format.js';
import { crc32 } from '../src/toolchain/format/crc32.js';
import type { EdgeqModel, WeightEncoding } from '../src/toolchain/format/model.js';
import { codeLengths, encodeCodebook, encodeRleHuffman } from '../src/toolchain/format/huffman.js';
import { encodeModel } from '../src/toolchain/format/write.js';
import { loadModel, ModelFormatError } from '../src/runtime/node.js';
import { BUILDS, randomInt8, rng } from './helpers/quant.js';

// A dense layer whose weights are the values under test: the engine decodes them, and
// with input e_i the output row reads back column i of the weights.
function probe(weights: Int8Array, units: number, encoding: WeightEncoding): EdgeqModel {
  return {
    metadata: { name: 'probe' },
    input: { shape: [weights.length / units], quant: { scale: 1, zeroPoint: 0 } },
    layers: [{ type: 'dense', units, activation: 'none', weights, weightScales: new Float32Array(units).fill(1), output: { scale: 1, zeroPoint: 0 }, encoding }],
  };
}

async function decoded(weights: Int8Array, units: number, encoding: WeightEncoding): Promise<{ values: Int8Array; encoding: string; bytes: number }> {
  const k = weights.length / units;
  const m = await loadModel(encodeModel(probe(weights, units, encoding)));
  const eye = new Float32Array(k * k);
  for (let i = 0; i < k; i++) eye[i * k + i] = 1;
  const y = m.predict(eye, { batch: k }); // y[i][o] = w[o][i]
  const values = new Int8Array(weights.length);
  for (let i = 0; i < k; i++) for (let o = 0; o < units; o++) values[o * k + i] = y[i * units + o];
  const w = m.layers()[0].weights![0];
  m.dispose();
  return { values, encoding: w.encoding, bytes: w.fileBytes };
}

describe('rle-huffman weights (encoding 2)', () => {
  const r = rng(31);
  const sparse = (n: number, density: number, spread: number) => Int8Array.from({ length: n }, () => (r() < density ? Math.max(-127, Math.min(127, Math.round((r() - 0.5) * spread))) || 1 : 0));
  const cases: [string, Int8Array, number][] = [
    ['90 % zeros, small values', sparse(64 * 40, 0.1, 20), 40],
    ['dense, wide values', sparse(32 * 16, 1, 254), 16],
    ['all zeros', new Int8Array(16 * 8), 8],
    ['one value', Int8Array.from({ length: 12 * 4 }, (_, i) => (i === 47 ? -127 : 0)), 4],
    ['runs longer than 255', Int8Array.from({ length: 40 * 30 }, (_, i) => (i % 600 === 599 ? 5 : 0)), 30],
  ];
  for (const [name, weights, units] of cases) {
    it(`decodes to the same weights: ${name}`, async () => {
      const d = await decoded(weights, units, 'huffman');
      expect(d.encoding).toBe('huffman');
      expect(Array.from(d.values)).toEqual(Array.from(weights));
    });
  }

  it('auto picks it where it is smallest, and it beats the bitmask on pruned weights', async () => {
    // values over the whole int8 range: a codebook of ~250 entries costs more than
    // rle-huffman's 260 table bytes (with few distinct values codebook wins: below)
    const w = sparse(100 * 100, 0.1, 254);
    const [h, b, c, a] = await Promise.all([decoded(w, 100, 'huffman'), decoded(w, 100, 'bitmask'), decoded(w, 100, 'codebook'), decoded(w, 100, 'auto')]);
    expect(h.bytes).toBeLessThan(b.bytes);
    expect(h.bytes).toBeLessThan(c.bytes);
    expect(a.encoding).toBe('huffman');
    const scale = 100 * 4; // per-channel scales in the file
    console.log(`10,000 weights, 10 % non-zero, −127 .. 127: bitmask ${b.bytes - scale} B, rle-huffman ${h.bytes - scale} B, codebook ${c.bytes - scale} B, raw 10,000 B`);
  });

  it('limits code lengths to 15 bits', () => {
    const fib = [1, 1];
    while (fib.length < 40) fib.push(fib[fib.length - 1] + fib[fib.length - 2]);
    const lengths = codeLengths(fib);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(15);
    expect(lengths.reduce((s, l) => s + 2 ** -l, 0)).toBeLessThanOrEqual(1);
    expect(encodeRleHuffman(new Int8Array(10)).length).toBe(260); // no values: tables only
  });
});

describe('codebook weights (encoding 3)', () => {
  const r = rng(47);
  // n elements, a fraction `density` non-zero, drawn from `values` (clustered weights)
  const clustered = (n: number, density: number, values: number[]) => Int8Array.from({ length: n }, () => (r() < density ? values[Math.floor(r() * values.length)] : 0));
  const centroids = (k: number) => Array.from({ length: k }, (_, i) => (i < k / 2 ? -9 * (i + 1) : 9 * (i + 1 - Math.floor(k / 2))));
  const all255 = Array.from({ length: 256 }, (_, i) => i - 128).filter((v) => v !== 0);
  const cases: [string, Int8Array, number][] = [
    ['1 distinct value, dense', new Int8Array(24 * 3).fill(-7), 3],
    ['2 distinct values, 95 % zeros', clustered(80 * 10, 0.05, [-40, 40]), 10],
    ['16 distinct values, dense', clustered(64 * 8, 1, centroids(16)), 8],
    ['16 distinct values, 95 % zeros', clustered(128 * 16, 0.05, centroids(16)), 16],
    ['255 distinct values (−128 .. 127), dense', Int8Array.from([...all255, ...all255.reverse()]), 2],
    ['3 distinct values, runs of 0 .. 4 (odd k, odd r + 1)', Int8Array.from({ length: 30 * 2 }, (_, i) => [3, 0, -5, 0, 0, 11, 0, 0, 0, 3, 0, 0, 0, 0, -5][i % 15]), 2],
    ['runs of 255 and more (the escape)', Int8Array.from({ length: 40 * 30 }, (_, i) => (i % 600 === 599 ? 5 : i === 0 ? -3 : 0)), 30],
    ['one value', Int8Array.from({ length: 12 * 4 }, (_, i) => (i === 47 ? -127 : 0)), 4],
  ];
  for (const [name, weights, units] of cases) {
    it(`decodes to the same weights: ${name}`, async () => {
      const data = encodeCodebook(weights)!;
      expect(data[0]).toBe(new Set(weights.filter((v) => v !== 0)).size); // k
      const d = await decoded(weights, units, 'codebook');
      expect(d.encoding).toBe('codebook');
      expect(Array.from(d.values)).toEqual(Array.from(weights));
    });
  }

  it('the cases cover padding nibbles, the escape and one-symbol alphabets', () => {
    const header = (name: string) => { const d = encodeCodebook(cases.find((c) => c[0].startsWith(name))![1])!; return { k: d[0], r: d[1] }; };
    expect(header('3 distinct')).toEqual({ k: 3, r: 4 }); // both tables end in a padding nibble
    expect(header('runs of 255').r).toBe(255);
    expect(header('1 distinct')).toEqual({ k: 1, r: 0 });
    expect(header('255 distinct')).toEqual({ k: 255, r: 0 });
    expect(encodeCodebook(new Int8Array(10))).toBeNull(); // no values, no codebook
  });

  it('auto picks it for clustered weights: 16 values, 90 % zeros, 10,000 elements', async () => {
    const w = clustered(100 * 100, 0.1, centroids(16));
    const [c, h, a] = await Promise.all([decoded(w, 100, 'codebook'), decoded(w, 100, 'huffman'), decoded(w, 100, 'auto')]);
    expect(a.encoding).toBe('codebook');
    expect(Array.from(a.values)).toEqual(Array.from(w));
    // the same token stream, so the same bits: codebook saves rle-huffman's 260 table
    // bytes less its own 2 + k + ⌈(r + 1)/2⌉ + ⌈k/2⌉ + 4
    const runs = encodeCodebook(w)![1] + 1;
    const tables = 2 + 16 + Math.ceil(runs / 2) + 8 + 4;
    expect(h.bytes - c.bytes).toBe(260 - tables);
    expect(h.bytes - c.bytes).toBeGreaterThan(150);
    console.log(`10,000 clustered weights (16 values, 90 % zeros): rle-huffman ${h.bytes - 400} B, codebook ${c.bytes - 400} B (${h.bytes - c.bytes} B less, tables ${tables} B instead of 260)`);
  });

  it.each(BUILDS)('the %s engine: a model written with codebook weights gives the outputs of the same model written raw, bit for bit', async (build) => {
    const rr = rng(5);
    const conv = clustered(4 * 3 * 3 * 2, 0.6, centroids(8)), dense = clustered(144 * 5, 0.2, centroids(5));
    const model = (encoding: WeightEncoding): EdgeqModel => ({
      metadata: { name: 'clustered' },
      input: { shape: [6, 6, 2], quant: { scale: 0.02, zeroPoint: -3 } },
      layers: [
        { type: 'conv2d', filters: 4, kernel: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', weights: conv, weightScales: new Float32Array(4).fill(0.01), bias: Int32Array.from([5, -3, 0, 9]), output: { scale: 0.05, zeroPoint: -128 }, encoding },
        { type: 'flatten' },
        { type: 'dense', units: 5, activation: 'none', weights: dense, weightScales: new Float32Array(5).fill(0.02), output: { scale: 0.1, zeroPoint: 2 }, encoding },
      ],
    });
    const [raw, book] = await Promise.all([loadModel(encodeModel(model('raw')), { build }), loadModel(encodeModel(model('codebook')), { build })]);
    expect(book.layers().flatMap((l) => (l.weights ?? []).filter((w) => w.role === 'weights').map((w) => w.encoding))).toEqual(['codebook', 'codebook']);
    const x = Float32Array.from({ length: 4 * 72 }, () => rr() * 4 - 2);
    expect(Array.from(book.predict(x, { batch: 4 }))).toEqual(Array.from(raw.predict(x, { batch: 4 })));
    raw.dispose();
    book.dispose();
  });
});

// Hand-made codebook tensors: a dense layer of 32 weights (16 inputs, 2 units) written
// raw, then given the bytes under test as its encoding-3 data (the 32 raw bytes hold them).
describe('codebook tensors that a reader rejects (E_TENSOR)', () => {
  const N = 32;
  const nibbles = (lengths: number[], pad: number) => Array.from({ length: Math.ceil(lengths.length / 2) }, (_, i) => lengths[2 * i] | ((lengths[2 * i + 1] ?? pad) << 4));
  // k, r, codebook, run lengths (r + 1 of them), value lengths (k), value count, stream
  function tensor(p: { book: number[]; runs: number[]; vals: number[]; count: number; stream: number[]; k?: number; runPad?: number; valPad?: number }): number[] {
    const count = [0, 8, 16, 24].map((s) => (p.count >>> s) & 255);
    return [p.k ?? p.book.length, p.runs.length - 1, ...p.book.map((v) => v & 255), ...nibbles(p.runs, p.runPad ?? 0), ...nibbles(p.vals, p.valPad ?? 0), ...count, ...p.stream];
  }
  function file(data: number[]): Uint8Array {
    const b = encodeModel(probe(randomInt8(rng(3), N, 1, 100), 2, 'raw'));
    const v = new DataView(b.buffer, b.byteOffset);
    const rec = v.getUint32(F.H_TENSORS_OFFSET, true) + F.TENSOR_RECORD_SIZE; // tensor 1: the weights
    expect(data.length).toBeLessThanOrEqual(N);
    b[rec + F.T_ENCODING] = F.ENCODING_CODEBOOK;
    v.setUint32(rec + F.T_DATA_SIZE, data.length, true);
    b.set(data, v.getUint32(F.H_DATA_OFFSET, true) + v.getUint32(rec + F.T_DATA_OFFSET, true));
    v.setUint32(F.H_CRC32, crc32(b.subarray(16)), true);
    return b;
  }
  // [−2, 5, 0, …]: one-symbol run table (run 0: code 0), value codes 0 (−2) and 1 (5);
  // the stream 0 0 0 1 = 0x10
  const good = { book: [-2, 5], runs: [1], vals: [1, 1], count: 2, stream: [0x10] };

  it('the unchanged tensor loads and reads back [−2, 5, 0, …]', async () => {
    const m = await loadModel(file(tensor(good)));
    expect(m.layers()[0].weights![0].encoding).toBe('codebook');
    const y = m.predict([1, 1, ...new Array(14).fill(0)]); // w[0][0] + w[0][1], w[1][0] + w[1][1]
    expect(Array.from(y)).toEqual([3, 0]);
    m.dispose();
  });

  const cases: [string, number[]][] = [
    // all zeros with no table to index: valid but for k = 0
    ['k = 0', tensor({ book: [], runs: [0], vals: [], count: 0, stream: [] })],
    ['a codebook entry 0 (unused)', tensor({ ...good, book: [-2, 0, 5], vals: [1, 0, 1] })],
    ['entries decreasing', tensor({ ...good, book: [5, -2] })],
    ['entries equal', tensor({ ...good, book: [5, 5] })],
    ['a run table padding nibble not 0', tensor({ ...good, runPad: 1 })],
    ['a value table padding nibble not 0', tensor({ ...good, book: [-2, 3, 5], vals: [1, 0, 1], valPad: 2 })],
    ['the value table over-subscribed', tensor({ ...good, book: [-2, 3, 5], vals: [1, 1, 1] })],
    ['the run table over-subscribed', tensor({ ...good, runs: [1, 1, 1] })],
    ['a code not in its table', tensor({ ...good, book: [4], vals: [1], count: 1, stream: [0x40] })], // value code 1
    ['a run past element n − 1', tensor({ ...good, runs: [...new Array(N).fill(0), 1], count: 1, book: [4], vals: [1], stream: [0x00] })], // N zeros, then a value
    ['the value count above n', tensor({ ...good, count: N + 1 })],
    ['the stream cut short', tensor({ ...good, stream: [] })],
    ['a padding bit set', tensor({ ...good, stream: [0x11] })],
    ['a byte after the stream', tensor({ ...good, stream: [0x10, 0x00] })],
    ['data_size short of the header', tensor(good).slice(0, 9)],
    ['data_size of 1', [2]],
  ];
  for (const [name, data] of cases) {
    it(name, async () => {
      const err = await loadModel(file(data)).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(ModelFormatError);
      expect((err as ModelFormatError).code).toBe('E_TENSOR');
      expect((err as Error).message).toMatch(/model tensor 1 is invalid: encoded weight data is inconsistent/);
    });
  }
});
