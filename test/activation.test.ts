import { describe, expect, it } from 'vitest';
import { prepareActivation, prepareActivationS8, prepareSoftmax, type FloatActivation } from './helpers/kernels.js';
import { BUILDS, dequantize, firstMismatch, heapFor, maxAbsDiff, quantFor, randomInt8, rng } from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';

const f = Math.fround;
// the LSTM's gate functions, which have vector forms
const exact: Record<Extract<FloatActivation, 'relu' | 'sigmoid' | 'tanh' | 'hardSigmoid'>, (x: number) => number> = {
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

describe.each(BUILDS)('the activation op (int8 → int8) on the %s build', (build) => {
  const all: FloatActivation[] = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'hardSigmoid', 'swish', 'hardSwish', 'leakyRelu', 'elu'];
  const every = Int8Array.from({ length: 256 }, (_, i) => i - 128);

  it('the table lookup is bit-exact with the reference for every input code, function and quantization', async () => {
    const heap = await heapFor(build);
    let cases = 0, distinct = 0;
    for (const activation of all) {
      for (let k = 0; k < 6; k++) {
        const s = {
          n: 256, activation, alpha: [0.1, 0.3, 1, 2][k % 4],
          input: { scale: [0.01, 0.05, 0.2][k % 3], zeroPoint: [-128, 0, 30, 127][k % 4] },
          output: { scale: [0.004, 0.02, 0.1][(k + 1) % 3], zeroPoint: [-128, -5, 0, 100][(k + 2) % 4] },
        };
        heap.e.mem_reset();
        const a = prepareActivationS8(heap, s, 'ref'), b = prepareActivationS8(heap, s, 'opt');
        a.setInput(every); b.setInput(every); a.run(); b.run();
        expect(firstMismatch(a.output(), b.output()), JSON.stringify(s)).toBe('none');
        distinct += new Set(a.output()).size;
        cases++;
      }
    }
    expect(cases).toBe(60);
    expect(distinct).toBeGreaterThan(60 * 20); // the functions really map codes to many codes
  });

  it('hand-computed codes: ReLU6, leaky ReLU, hard swish on scale 1', async () => {
    const heap = await heapFor(build);
    const run = (activation: FloatActivation, alpha: number, x: number[]) => {
      heap.e.mem_reset();
      const op = prepareActivationS8(heap, { n: x.length, activation, alpha, input: { scale: 1, zeroPoint: 0 }, output: { scale: 0.5, zeroPoint: 0 } }, 'opt');
      op.setInput(x);
      op.run();
      return Array.from(op.output());
    };
    expect(run('relu6', 0, [-3, 2, 7])).toEqual([0, 4, 12]); // 0, 2, 6 over scale 0.5
    expect(run('leakyRelu', 0.25, [-4, -1, 3])).toEqual([-2, 0, 6]); // −1, −0.25 → −0.5 → 0 (half to even), 3
    expect(run('hardSwish', 0, [-4, -1, 1, 4])).toEqual([0, -1, 1, 8]); // 0, −1/3, 2/3, 4 over 0.5
  });

  it('matches TF.js within half an output step (plus the function\'s own f32 error)', async () => {
    const tf = await tfCpu();
    const input = { scale: 0.05, zeroPoint: -10 };
    const xd = Float32Array.from(every, (q) => input.scale * (q - input.zeroPoint));
    const fns: Record<FloatActivation, (x: import('@tensorflow/tfjs').Tensor) => import('@tensorflow/tfjs').Tensor> = {
      linear: (x) => x, relu: tf.relu, relu6: tf.relu6, sigmoid: tf.sigmoid, tanh: tf.tanh,
      hardSigmoid: (x) => tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1),
      swish: (x) => tf.mul(x, tf.sigmoid(x)), hardSwish: (x) => tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6)),
      leakyRelu: (x) => tf.leakyRelu(x, 0.2), elu: (x) => tf.elu(x),
    };
    const heap = await heapFor(build);
    for (const activation of all) {
      const yf = tf.tidy(() => fns[activation](tf.tensor1d(xd)).dataSync() as Float32Array);
      const output = quantFor(yf);
      heap.e.mem_reset();
      const op = prepareActivationS8(heap, { n: 256, activation, alpha: activation === 'elu' ? 1 : 0.2, input, output }, 'opt');
      op.setInput(every);
      op.run();
      expect(maxAbsDiff(dequantize(op.output(), output), yf), activation).toBeLessThanOrEqual(output.scale * 0.5 * (1 + 1e-3) + 1e-6);
    }
  });
});
