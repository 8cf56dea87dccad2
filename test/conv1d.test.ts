// conv1d kernels: hand-computed cases for each padding (causal included) and dilation,
// the im2col + gemm kernel bit-exact with the reference over a table of shapes on both
// builds, and the kernel against TF.js's float conv1d.

import { describe, expect, it } from 'vitest';
import { conv1dOutputShape, prepareConv1d, type Conv1dPadding, type Conv1dSpec, type FusedActivation } from './helpers/kernels.js';
import {
  BUILDS, dequantize, firstMismatch, heapFor, maxAbsDiff, quantFor, quantize, quantizeRows,
  randomFloat, randomInt32, randomInt8, rng,
} from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';

const unit = { scale: 1, zeroPoint: 0 };

function spec(p: Partial<Conv1dSpec> & Pick<Conv1dSpec, 'kernel' | 'weights'>): Conv1dSpec {
  return {
    batch: 1, steps: 5, channels: 1, filters: 1, stride: 1, dilation: 1, padding: 'valid', activation: 'none',
    input: unit, output: unit, weightScales: Float32Array.of(1), bias: null, ...p,
  };
}

// x = 1 2 3 4 5 (one channel); weights [1, 2]: tap 0 is the earlier step
const seq = Int8Array.of(1, 2, 3, 4, 5);
const w12 = Int8Array.of(1, 2);
const golden: { name: string; spec: Conv1dSpec; expected: number[] }[] = [
  { name: 'valid: x[t] + 2·x[t+1]', spec: spec({ kernel: 2, weights: w12 }), expected: [5, 8, 11, 14] },
  { name: 'causal: one zero before, y[t] = x[t−1] + 2·x[t]', spec: spec({ kernel: 2, weights: w12, padding: 'causal' }), expected: [2, 5, 8, 11, 14] },
  { name: 'causal, dilation 2: y[t] = x[t−2] + 2·x[t]', spec: spec({ kernel: 2, weights: w12, padding: 'causal', dilation: 2 }), expected: [2, 4, 7, 10, 13] },
  // span 3: one zero each side; y[t] = x[t−1] + 2·x[t+1]
  { name: "same, dilation 2: TensorFlow's split of the padding", spec: spec({ kernel: 2, weights: w12, padding: 'same', dilation: 2 }), expected: [4, 7, 10, 13, 4] },
  { name: 'valid, stride 2', spec: spec({ kernel: 2, weights: w12, stride: 2 }), expected: [5, 11] },
  {
    name: 'causal with input zero point 3: the padding is the real 0; bias, ReLU',
    spec: spec({ kernel: 2, weights: w12, padding: 'causal', input: { scale: 1, zeroPoint: 3 }, bias: Int32Array.of(-1), activation: 'relu' }),
    // real x = −2 −1 0 1 2: −1 + 2·(−2), −2 + 2·(−1), −1 + 0, 0 + 2, 1 + 4, all − 1, ReLU
    expected: [0, 0, 0, 1, 4],
  },
];

describe.each(BUILDS)('conv1d on the %s build', (build) => {
  for (const g of golden) {
    for (const variant of ['ref', 'opt'] as const) {
      it(`${variant}: ${g.name}`, async () => {
        const heap = await heapFor(build);
        heap.e.mem_reset();
        const op = prepareConv1d(heap, g.spec, variant);
        op.setInput(seq);
        op.run();
        expect(Array.from(op.output())).toEqual(g.expected);
      });
    }
  }

  it('im2col + gemm is bit-exact with the reference over a table of shapes', async () => {
    const r = rng(0xc1d);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const zps = [-128, -1, 0, 127];
    const cases: Conv1dSpec[] = [];
    // every stride × dilation × padding, channel counts on both sides of the gemm's
    // K = 16 switch; kernel, length, batch and quantization drawn
    for (const stride of [1, 2, 3]) {
      for (const dilation of [1, 2, 3, 4]) {
        for (const padding of ['valid', 'same', 'causal'] as Conv1dPadding[]) {
          for (const channels of [1, 3, 8, 17]) {
            const kernel = pick([1, 2, 3, 5]);
            const span = (kernel - 1) * dilation + 1;
            const filters = pick([1, 4, 9, 16, 33]);
            cases.push({
              batch: 1 + Math.floor(r() * 3), steps: span + Math.floor(r() * (r() < 0.2 ? 200 : 20)), channels,
              filters, kernel, stride, dilation, padding,
              activation: pick<FusedActivation>(['none', 'relu', 'relu6']),
              input: { scale: 0.02, zeroPoint: pick(zps) },
              output: { scale: pick([0.005, 0.05, 0.5]), zeroPoint: pick(zps) },
              weights: randomInt8(r, filters * kernel * channels, -127, 127),
              weightScales: Float32Array.from({ length: filters }, () => 0.001 + r() * 0.05),
              bias: r() < 0.8 ? randomInt32(r, filters, -5000, 5000) : null,
            });
          }
        }
      }
    }
    const heap = await heapFor(build);
    let low = 0, high = 0, smallK = 0, largeK = 0, pointwise = 0, chunked = 0;
    for (const s of cases) {
      heap.e.mem_reset();
      const x = randomInt8(r, s.batch * s.steps * s.channels);
      const a = prepareConv1d(heap, s, 'ref');
      const b = prepareConv1d(heap, s, 'opt');
      a.setInput(x); b.setInput(x); a.run(); b.run();
      const ya = a.output(), yb = b.output();
      const [, out] = conv1dOutputShape(heap.e, s);
      expect(ya.length).toBe(s.batch * out * s.filters);
      const why = firstMismatch(ya, yb);
      expect(why, `${JSON.stringify({ ...s, weights: undefined, bias: undefined, weightScales: undefined })}: ${why}`).toBe('none');
      low += ya.filter((v) => v === -128).length;
      high += ya.filter((v) => v === 127).length;
      if (s.kernel * s.channels < 16) smallK++; else largeK++;
      if (s.kernel === 1 && s.stride === 1) pointwise++;
      if (out > 64) chunked++;
    }
    expect(cases.length).toBe(144);
    // each path of the kernel ran: both gemm microkernels, the pointwise gemm, several chunks
    expect(smallK).toBeGreaterThan(20);
    expect(largeK).toBeGreaterThan(20);
    expect(pointwise).toBeGreaterThan(0);
    expect(chunked).toBeGreaterThan(0);
    expect(low).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(0);
  });

  it('matches TF.js conv1d in float within half an output step', async () => {
    const tf = await tfCpu();
    const r = rng(12);
    // TF.js takes a stride or a dilation above 1, not both; causal is Keras' left padding
    for (const [steps, c, f, k, stride, dilation, padding, activation] of [
      [40, 6, 16, 3, 1, 1, 'same', 'relu'], [33, 8, 12, 5, 2, 1, 'valid', 'none'], [50, 4, 8, 3, 1, 4, 'causal', 'relu6'],
      [29, 3, 20, 2, 1, 3, 'same', 'none'], [31, 16, 7, 3, 3, 1, 'causal', 'relu'],
    ] as [number, number, number, number, number, number, Conv1dPadding, FusedActivation][]) {
      const xf = randomFloat(r, steps * c, -1, 2);
      const wf = randomFloat(r, f * k * c, -0.5, 0.5); // [f][k][c]
      const bf = randomFloat(r, f, -0.3, 0.3);
      const input = quantFor(xf);
      const xq = quantize(xf, input);
      const { codes, scales } = quantizeRows(wf, f, k * c);
      const bias = Int32Array.from(bf, (v, o) => Math.round(v / (input.scale * scales[o])));
      // TF.js filter [k, c, f]
      const filter = new Float32Array(k * c * f);
      for (let o = 0; o < f; o++) for (let t = 0; t < k * c; t++) filter[t * f + o] = codes[o * k * c + t] * scales[o];
      const bd = Float32Array.from(bias, (v, o) => v * input.scale * scales[o]);
      const yf = tf.tidy(() => {
        let x = tf.tensor3d(dequantize(xq, input), [1, steps, c]);
        if (padding === 'causal') x = tf.pad(x, [[0, 0], [(k - 1) * dilation, 0], [0, 0]]);
        let y = tf.conv1d(x, tf.tensor3d(filter, [k, c, f]), stride, padding === 'same' ? 'same' : 'valid', 'NWC', dilation).add(tf.tensor1d(bd));
        if (activation === 'relu') y = tf.relu(y);
        if (activation === 'relu6') y = tf.relu6(y);
        return y.dataSync() as Float32Array;
      });
      const output = quantFor(yf);
      const heap = await heapFor(build);
      heap.e.mem_reset();
      const op = prepareConv1d(heap, {
        batch: 1, steps, channels: c, filters: f, kernel: k, stride, dilation, padding, activation, input, output,
        weights: codes, weightScales: scales, bias,
      }, 'opt');
      op.setInput(xq);
      op.run();
      const err = maxAbsDiff(dequantize(op.output(), output), yf);
      expect(err).toBeLessThanOrEqual(output.scale * 0.5 * (1 + 1e-4) + 1e-6);
    }
  });
});
