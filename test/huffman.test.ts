import { describe, expect, it } from 'vitest';
import type { EdgeqModel, WeightEncoding } from '../src/toolchain/format/model.js';
import { codeLengths, encodeRleHuffman } from '../src/toolchain/format/huffman.js';
import { encodeModel } from '../src/toolchain/format/write.js';
import { loadModel } from '../src/runtime/node.js';
import { rng } from './helpers/quant.js';

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
    const w = sparse(64 * 40, 0.1, 20);
    const [h, b, a] = await Promise.all([decoded(w, 40, 'huffman'), decoded(w, 40, 'bitmask'), decoded(w, 40, 'auto')]);
    expect(h.bytes).toBeLessThan(b.bytes);
    expect(a.encoding).toBe('huffman');
    const scale = 40 * 4; // per-channel scales in the file
    console.log(`2,560 weights, 10 % non-zero: bitmask ${b.bytes - scale} B, rle-huffman ${h.bytes - scale} B, raw 2,560 B`);
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
