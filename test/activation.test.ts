import { describe, expect, it } from 'vitest';
import { prepareActivation, prepareSoftmax, type FloatActivation } from './helpers/kernels.js';
import { BUILDS, dequantize, heapFor, maxAbsDiff, randomInt8, rng } from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';

const f = Math.fround;
const exact: Record<Exclude<FloatActivation, 'linear'>, (x: number) => number> = {
  relu: (x) => Math.max(x, 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  hardSigmoid: (x) => Math.min(Math.max(f(f(x * f(0.2)) + f(0.5)), 0), 1),
};
// Largest absolute error allowed against the exact function (f32 has 6e-8 at 1.0).
const tolerance = { relu: 0, sigmoid: 2e-7, tanh: 3e-7, hardSigmoid: 0 };

function inputs(): Float32Array {
  const xs: number[] = [0, -0, 1e-8, -1e-8, 1e-3, -1e-3, 0.5, -0.5, 2.5, -2.5, 8.99, 9, 9.01, -9, 30, -30, 87, -87, 88, -88, 100, -100, 1e30, -1e30];
  for (let x = -20; x <= 20; x += 1 / 64) xs.push(x);
  const r = rng(17);
  for (let i = 0; i < 4001; i++) xs.push((r() - 0.5) * 40);
  return Float32Array.from(xs);
}

describe.each(BUILDS)('float activations on the %s build', (build) => {
  for (const act of Object.keys(exact) as (keyof typeof exact)[]) {
    it(`${act}: vector form bit-exact with scalar form, and within ${tolerance[act]} of the exact function`, async () => {
      const x = inputs();
      const heap = await heapFor(build);
      const a = prepareActivation(heap, act, x.length, 'ref');
      const b = prepareActivation(heap, act, x.length, 'opt');
      a.setInput(x); b.setInput(x); a.run(); b.run();
      const ya = a.output(), yb = b.output();
      expect(Array.from(new Uint32Array(yb.buffer))).toEqual(Array.from(new Uint32Array(ya.buffer)));
      const want = Float64Array.from(x, exact[act]);
      expect(maxAbsDiff(ya, want)).toBeLessThanOrEqual(tolerance[act]);
    });
  }

  it('softmax of int8 logits matches TF.js softmax', async () => {
    const tf = await tfCpu();
    const r = rng(8);
    const heap = await heapFor(build);
    for (const [rows, n, scale] of [[1, 10, 0.1], [4, 10, 0.5], [3, 1000, 0.05], [2, 7, 2]] as [number, number, number][]) {
      const q = { scale, zeroPoint: Math.floor(r() * 256) - 128 };
      const x = randomInt8(r, rows * n);
      const op = prepareSoftmax(heap, rows, n, q);
      op.setInput(x);
      op.run();
      const y = op.output();
      const yf = tf.tidy(() => tf.softmax(tf.tensor2d(dequantize(x, q), [rows, n])).dataSync() as Float32Array);
      expect(maxAbsDiff(y, yf)).toBeLessThanOrEqual(1e-6);
      for (let i = 0; i < rows; i++) {
        expect(y.subarray(i * n, (i + 1) * n).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
      }
    }
  });
});
