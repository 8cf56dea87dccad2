import { describe, expect, it } from 'vitest';
import {
  depthwiseConv2dOutputShape, prepareDepthwiseConv2d, type DepthwiseConv2dSpec, type FusedActivation, type Padding,
} from './helpers/kernels.js';
import {
  BUILDS, dequantize, firstMismatch, heapFor, maxAbsDiff, quantFor, quantize, quantizeRows,
  randomFloat, randomInt32, randomInt8, rng,
} from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';

const unit = { scale: 1, zeroPoint: 0 };

function spec(p: Partial<DepthwiseConv2dSpec> & Pick<DepthwiseConv2dSpec, 'height' | 'width' | 'channels' | 'kernel' | 'weights'>): DepthwiseConv2dSpec {
  const oc = p.channels * (p.multiplier ?? 1);
  return {
    batch: 1, multiplier: 1, strides: [1, 1], padding: 'valid', activation: 'none', input: unit, output: unit,
    weightScales: new Float32Array(oc).fill(1), bias: null, ...p,
  };
}

// x: channel 0 is 1..9 on a 3×3 grid, channel 1 its negation (interleaved, NHWC)
const grid2 = Int8Array.from({ length: 18 }, (_, i) => (i % 2 ? -1 : 1) * (1 + (i >> 1)));
const golden: { name: string; spec: DepthwiseConv2dSpec; expected: number[] }[] = [
  {
    name: '2×2 valid, each channel its own filter',
    spec: spec({ height: 3, width: 3, channels: 2, kernel: [2, 2], weights: Int8Array.from([1, 1, 1, 1, 1, 0, 0, 0]) }),
    // channel 0: 2×2 sums 12 16 24 28; channel 1: −(top-left) −1 −2 −4 −5
    expected: [12, -1, 16, -2, 24, -4, 28, -5],
  },
  {
    name: 'depth multiplier 2: output channel o reads input channel o / 2',
    spec: spec({ height: 3, width: 3, channels: 2, multiplier: 2, kernel: [1, 1], weights: Int8Array.from([1, 2, 3, -1]) }),
    // per pixel (a, −a): a, 2a, −3a, a
    expected: Array.from({ length: 9 }, (_, p) => [p + 1, 2 * (p + 1), -3 * (p + 1), p + 1]).flat(),
  },
  {
    name: '3×3 ones, same padding, input zero point 1: padding is the real 0',
    spec: spec({ height: 3, width: 3, channels: 2, kernel: [3, 3], padding: 'same', weights: new Int8Array(18).fill(1), input: { scale: 1, zeroPoint: 1 } }),
    // channel 0: real x = 0..8 → neighbourhood sums of 1..9 minus the tap count;
    // channel 1: real −x − 1
    expected: [12 - 4, -12 - 4, 21 - 6, -21 - 6, 16 - 4, -16 - 4, 27 - 6, -27 - 6, 45 - 9, -45 - 9, 33 - 6, -33 - 6, 24 - 4, -24 - 4, 39 - 6, -39 - 6, 28 - 4, -28 - 4],
  },
  {
    name: '3×3 ones, stride 2, same, bias, ReLU, out scale 0.25: clamps at 0 and saturates at 127',
    spec: spec({ height: 3, width: 3, channels: 2, kernel: [3, 3], strides: [2, 2], padding: 'same', activation: 'relu',
      weights: new Int8Array(18).fill(1), bias: Int32Array.from([10, 10]), output: { scale: 0.25, zeroPoint: 0 } }),
    // channel 0 corners 12 16 24 28 + 10 → ×4 → 88, 104→… 136 → 127; channel 1 negative → 0
    expected: [88, 0, 104, 0, 127, 0, 127, 0],
  },
];

describe.each(BUILDS)('depthwise conv2d on the %s build', (build) => {
  for (const g of golden) {
    for (const variant of ['ref', 'opt'] as const) {
      it(`${variant}: ${g.name}`, async () => {
        const heap = await heapFor(build);
        const op = prepareDepthwiseConv2d(heap, g.spec, variant);
        op.setInput(grid2);
        op.run();
        expect(Array.from(op.output())).toEqual(g.expected);
      });
    }
  }

  it('optimized is bit-exact with the reference over a table of shapes', async () => {
    const r = rng(0xd3b7);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const zps = [-128, -1, 0, 127];
    const cases: DepthwiseConv2dSpec[] = [];
    // every channel count × multiplier class × stride × padding, kernels and activations drawn
    for (const channels of [1, 3, 7, 8, 9, 16, 17, 24, 33, 64]) {
      for (const multiplier of [1, 1, 2, 3]) {
        for (const stride of [1, 2]) {
          for (const padding of ['valid', 'same'] as Padding[]) {
            const kernel = pick<[number, number]>([[1, 1], [3, 3], [5, 5], [3, 1], [1, 3], [7, 7]]);
            const oc = channels * multiplier;
            cases.push({
              batch: 1 + Math.floor(r() * 2), height: kernel[0] + Math.floor(r() * 7), width: kernel[1] + Math.floor(r() * 7),
              channels, multiplier, kernel, strides: [stride, pick([1, 2, 3])], padding,
              activation: pick<FusedActivation>(['none', 'relu', 'relu6']),
              input: { scale: 0.02, zeroPoint: pick(zps) },
              output: { scale: pick([0.005, 0.05, 0.5]), zeroPoint: pick(zps) },
              weights: randomInt8(r, oc * kernel[0] * kernel[1], -127, 127),
              weightScales: Float32Array.from({ length: oc }, () => 0.001 + r() * 0.05),
              bias: r() < 0.8 ? randomInt32(r, oc, -5000, 5000) : null,
            });
          }
        }
      }
    }
    const heap = await heapFor(build);
    let low = 0, high = 0, vectorCases = 0;
    for (const s of cases) {
      heap.e.mem_reset();
      const x = randomInt8(r, s.batch * s.height * s.width * s.channels);
      const a = prepareDepthwiseConv2d(heap, s, 'ref');
      const b = prepareDepthwiseConv2d(heap, s, 'opt');
      a.setInput(x); b.setInput(x); a.run(); b.run();
      const ya = a.output(), yb = b.output();
      expect(ya.length).toBe(depthwiseConv2dOutputShape(heap.e, s).reduce((p, q) => p * q, 1));
      const why = firstMismatch(ya, yb);
      expect(why, `${JSON.stringify({ ...s, weights: undefined, bias: undefined, weightScales: undefined })}: ${why}`).toBe('none');
      low += ya.filter((v) => v === -128).length;
      high += ya.filter((v) => v === 127).length;
      if (s.multiplier === 1 && s.channels >= 8) vectorCases++;
    }
    expect(cases.length).toBe(160);
    expect(vectorCases).toBe(56); // the eight-channel path ran, not only the tail
    expect(low).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(0);
  });

  it('matches TF.js depthwiseConv2d in float within half an output step', async () => {
    const tf = await tfCpu();
    const r = rng(11);
    for (const [h, w, c, m, k, stride, padding, activation] of [
      [12, 12, 16, 1, 3, 1, 'same', 'relu6'], [11, 9, 8, 1, 3, 2, 'same', 'relu'],
      [7, 7, 3, 2, 3, 1, 'valid', 'none'], [10, 10, 17, 1, 5, 2, 'valid', 'relu'],
    ] as [number, number, number, number, number, number, Padding, FusedActivation][]) {
      const oc = c * m;
      const xf = randomFloat(r, h * w * c, -1, 2);
      const wf = randomFloat(r, oc * k * k, -0.5, 0.5); // [oc][kh][kw]
      const bf = randomFloat(r, oc, -0.3, 0.3);
      const input = quantFor(xf);
      const xq = quantize(xf, input);
      const { codes, scales } = quantizeRows(wf, oc, k * k);
      const bias = Int32Array.from(bf, (v, o) => Math.round(v / (input.scale * scales[o])));
      const xd = dequantize(xq, input);
      // TF.js filter [kh, kw, c, m]: element (ky, kx, ci, mi) is output channel ci·m + mi
      const filter = new Float32Array(k * k * c * m);
      for (let o = 0; o < oc; o++) for (let t = 0; t < k * k; t++) filter[t * oc + o] = codes[o * k * k + t] * scales[o];
      const bd = Float32Array.from(bias, (v, o) => v * input.scale * scales[o]);
      const yf = tf.tidy(() => {
        let y = tf.depthwiseConv2d(tf.tensor4d(xd, [1, h, w, c]), tf.tensor4d(filter, [k, k, c, m]), stride, padding).add(tf.tensor1d(bd));
        if (activation === 'relu') y = tf.relu(y);
        if (activation === 'relu6') y = tf.relu6(y);
        return y.dataSync() as Float32Array;
      });
      const output = quantFor(yf);
      const heap = await heapFor(build);
      const op = prepareDepthwiseConv2d(heap, {
        batch: 1, height: h, width: w, channels: c, multiplier: m, kernel: [k, k], strides: [stride, stride],
        padding, activation, input, output, weights: codes, weightScales: scales, bias,
      }, 'opt');
      op.setInput(xq);
      op.run();
      const err = maxAbsDiff(dequantize(op.output(), output), yf);
      expect(err).toBeLessThanOrEqual(output.scale * 0.5 * (1 + 1e-4) + 1e-6);
    }
  });
});
