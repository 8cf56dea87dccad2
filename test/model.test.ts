import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../src/toolchain/format/write.js';
import { loadModel, type Model } from '../src/runtime/node.js';
import type { Conv2dLayer } from '../src/toolchain/format/model.js';
import { prepareConv2d, prepareConv2dMaxPool, type MaxPoolSpec } from './helpers/kernels.js';
import { BUILDS, firstMismatch, heapFor, randomInt32, randomInt8, rng } from './helpers/quant.js';
import { quadrantImages, sequences, trainCnn, trainLstm } from './helpers/models.js';

// Written with the writer, run in the engine, compared with the TF.js float model the
// weights came from, on held-out inputs.
function agreement(a: Float32Array, b: Float32Array, classes: number): { top1: number; maxError: number } {
  let same = 0, maxError = 0;
  const n = a.length / classes;
  for (let i = 0; i < n; i++) {
    const row = (x: Float32Array) => Array.from(x.subarray(i * classes, (i + 1) * classes));
    const ra = row(a), rb = row(b);
    if (ra.indexOf(Math.max(...ra)) === rb.indexOf(Math.max(...rb))) same++;
    for (let j = 0; j < classes; j++) maxError = Math.max(maxError, Math.abs(ra[j] - rb[j]));
  }
  return { top1: same / n, maxError };
}

describe('a CNN end to end against TF.js', () => {
  let float: tf.Sequential;
  let bytes: Uint8Array;
  beforeAll(async () => {
    const { model, edgeq } = await trainCnn();
    float = model;
    bytes = encodeModel(edgeq);
  });

  for (const build of BUILDS) {
    it(`${build} build: top-1 agreement ≥ 99 % and probabilities within 0.05 on 300 held-out images`, async () => {
      const test = quadrantImages(300, 99);
      const want = tf.tidy(() => (float.predict(tf.tensor4d(test.pixels, [300, 14, 14, 1]).div(255)) as tf.Tensor).dataSync() as Float32Array);
      const model: Model = await loadModel(bytes, { build });
      expect(model.info.build).toBe(build);
      const got = model.predict(test.pixels, { batch: 300 });
      const { top1, maxError } = agreement(got, want, 4);
      const meanTop = Array.from({ length: 300 }, (_, i) => Math.max(...want.subarray(i * 4, i * 4 + 4))).reduce((a, b) => a + b) / 300;
      console.log(`CNN (${build}): top-1 agreement ${(100 * top1).toFixed(1)} %, max probability error ${maxError.toFixed(4)}, mean top probability ${meanTop.toFixed(3)}, ${bytes.length} bytes`);
      expect(top1).toBeGreaterThanOrEqual(0.99);
      expect(maxError).toBeLessThanOrEqual(0.05);
      // the float model itself learned the task, so agreement means something
      const floatAccuracy = test.labels.reduce((n, l, i) => n + (agreement(want.subarray(i * 4, i * 4 + 4), Float32Array.from([0, 1, 2, 3], (c) => (c === l ? 1 : 0)), 4).top1), 0) / 300;
      expect(floatAccuracy).toBeGreaterThan(0.8);
      // batch 1 equals the batched result
      const one = model.predict(test.pixels.subarray(0, 196));
      expect(Array.from(one)).toEqual(Array.from(got.subarray(0, 4)));
      model.dispose();
    });
  }
});

describe('an LSTM end to end against TF.js', () => {
  let float: tf.Sequential;
  let bytes: Uint8Array;
  beforeAll(async () => {
    const { model, edgeq } = await trainLstm();
    float = model;
    bytes = encodeModel(edgeq);
  });

  for (const build of BUILDS) {
    it(`${build} build: top-1 agreement ≥ 98 % and probabilities within 0.08 on 300 held-out sequences`, async () => {
      const test = sequences(300, 98);
      const want = tf.tidy(() => (float.predict(tf.tensor3d(test.values, [300, 10, 6])) as tf.Tensor).dataSync() as Float32Array);
      const model = await loadModel(bytes, { build });
      const got = model.predict(test.values, { batch: 300 });
      const { top1, maxError } = agreement(got, want, 3);
      console.log(`LSTM (${build}): top-1 agreement ${(100 * top1).toFixed(1)} %, max probability error ${maxError.toFixed(4)}`);
      expect(top1).toBeGreaterThanOrEqual(0.98);
      expect(maxError).toBeLessThanOrEqual(0.08);
      model.dispose();
    });
  }
});

// The engine runs conv2d + a non-overlapping max pool as one kernel, and a pruned
// stride-1 conv2d on the sparse kernel. Whatever it chooses, a model's output must be
// the reference kernels' chain, bit for bit.
describe('conv2d (+ max pool) in the engine', () => {
  const r = rng(0x5eed);
  const conv = (filters: number, c: number, density: number): Conv2dLayer => ({
    type: 'conv2d', filters, kernel: [3, 3], strides: [1, 1], padding: 'valid', activation: 'relu',
    weights: randomInt8(r, filters * 9 * c, -127, 127).map((v) => (r() < density ? v : 0)),
    weightScales: Float32Array.from({ length: filters }, () => 0.002 + r() * 0.01),
    bias: randomInt32(r, filters, -2000, 2000), output: { scale: 2, zeroPoint: -128 },
  });
  const cases: { name: string; pool: MaxPoolSpec | null; fused: boolean }[] = [
    { name: '2×2/2 valid (the reference CNN): fused', pool: { pool: [2, 2], strides: [2, 2], padding: 'valid' }, fused: true },
    { name: '2×2/3 same (gaps): fused', pool: { pool: [2, 2], strides: [3, 3], padding: 'same' }, fused: true },
    { name: '3×3/2 same (overlapping): not fused', pool: { pool: [3, 3], strides: [2, 2], padding: 'same' }, fused: false },
    { name: 'no pool', pool: null, fused: false },
  ];
  for (const build of BUILDS) {
    for (const { name, pool, fused } of cases) {
      for (const [density, kernel] of [[1, 'gemm'], [0.1, 'sparse']] as const) {
        it(`${build} build, ${name}, ${kernel} weights`, async () => {
          const [h, w, c, batch] = [15, 13, 3, 3];
          const layer = conv(12, c, density);
          const input = { scale: 1, zeroPoint: 0 };
          const bytes = encodeModel({ metadata: { name: 'fuse' }, input: { shape: [h, w, c], quant: input },
            layers: pool ? [layer, { type: 'max_pool2d', ...pool }] : [layer] });
          const model = await loadModel(bytes, { build });
          const layers = model.layers();
          expect(layers[0].fusedWith).toBe(fused ? 1 : undefined);
          expect(layers[0].kernel).toBe(kernel);
          const x = randomInt8(r, batch * h * w * c);
          const got = model.predict(x, { batch });
          const heap = await heapFor(build);
          const spec = {
            batch, height: h, width: w, channels: c, filters: 12, kernel: [3, 3] as [number, number], strides: [1, 1] as [number, number],
            padding: 'valid' as const, activation: 'relu' as const, input, output: layer.output, weights: layer.weights,
            weightScales: layer.weightScales, bias: layer.bias!,
          };
          const ref = pool ? prepareConv2dMaxPool(heap, spec, pool, 'ref') : prepareConv2d(heap, spec, 'ref');
          ref.setInput(x);
          ref.run();
          const want = Float32Array.from(ref.output(), (q) => Math.fround(layer.output.scale) * (q - layer.output.zeroPoint));
          expect(got.length).toBe(want.length);
          expect(firstMismatch(got, want)).toBe('none');
          expect(new Set(ref.output()).size).toBeGreaterThan(10); // not a constant output
          model.dispose();
        });
      }
    }
  }
});
