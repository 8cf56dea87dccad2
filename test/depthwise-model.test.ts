// A depthwise-separable CNN (the DS-CNN / MobileNet pattern) from TF.js through the
// converter into the engine: agreement with TF.js float, both builds bit-identical,
// what inspect reports, and a file whose depthwise op is broken refused with a typed error.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as F from '../assembly/format.js';
import { accuracy, argmaxRows } from '../src/runtime/classes.js';
import { loadModel, ModelFormatError } from '../src/runtime/node.js';
import { crc32 } from '../src/toolchain/format/crc32.js';
import { rng } from './helpers/quant.js';
import { predictBothBuilds, trainAndConvert } from './helpers/models.js';

// 16×16 RGB, 4 classes: which quadrant holds a bright blob, in which colour pair
function images(n: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const r = rng(seed);
  const x = new Float32Array(n * 16 * 16 * 3), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = Math.floor(r() * 4);
    labels[i] = label;
    const qy = label >> 1, qx = label & 1;
    for (let y = 0; y < 16; y++) for (let xx = 0; xx < 16; xx++) for (let c = 0; c < 3; c++) {
      const inside = (y >> 3) === qy && (xx >> 3) === qx;
      x[((i * 16 + y) * 16 + xx) * 3 + c] = (inside ? 0.6 + 0.4 * r() : 0.5 * r()) * (c === 2 ? 0.5 : 1) - 0.2;
    }
  }
  return { x, labels };
}

let model: tf.Sequential, bytes: Uint8Array;
const test = images(300, 9);

beforeAll(async () => {
  await tf.setBackend('cpu');
  const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
  model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init(1) }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: init(2) }),
      tf.layers.batchNormalization(),
      tf.layers.reLU({ maxValue: 6 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 1, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.separableConv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', depthMultiplier: 2, depthwiseInitializer: init(4), pointwiseInitializer: init(5) }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(6) }),
    ],
  });
  bytes = await trainAndConvert(model, images(600, 3), [16, 16, 3], 6, 'ds-cnn');
}, 240_000);

describe('a depthwise-separable CNN', () => {
  it('agrees ≥ 99 % top-1 with TF.js on its float inputs; SIMD and scalar builds bit-identical', async () => {
    const float = tf.tidy(() => (model.predict(tf.tensor(test.x, [300, 16, 16, 3])) as tf.Tensor).dataSync() as Float32Array);
    const want = argmaxRows(float, 300, 4);
    expect(accuracy(want, test.labels)).toBeGreaterThan(0.9); // the float model learned its task
    const agreement = accuracy(argmaxRows(await predictBothBuilds(bytes, test.x, 300), 300, 4), want);
    console.log(`depthwise-separable CNN: int8 top-1 agreement with TF.js ${(100 * agreement).toFixed(1)} % on 300 images`);
    expect(agreement).toBeGreaterThanOrEqual(0.99);
  });

  it('inspect names the depthwise ops with their depth multiplier and MACs', async () => {
    const m = await loadModel(bytes);
    const layers = m.layers();
    expect(layers.map((l) => l.type)).toEqual(['conv2d', 'depthwise_conv2d', 'conv2d', 'depthwise_conv2d', 'conv2d', 'global_avg_pool2d', 'dense', 'softmax']);
    const dw = layers[3];
    expect(dw).toMatchObject({ depthMultiplier: 2, strides: [2, 2], padding: 'same', activation: 'none' });
    expect(dw.output.shape).toEqual([4, 4, 32]);
    expect(dw.macs).toBe(4 * 4 * 32 * 9);
    expect(dw.weights?.[0].shape).toEqual([32, 3, 3, 1]);
    m.dispose();
  });

  it('a depthwise op whose depth multiplier does not match its weights is refused with a typed error', async () => {
    const broken = bytes.slice();
    const v = new DataView(broken.buffer);
    const ops = v.getUint32(F.H_OPS_OFFSET, true);
    let o = 0;
    while (v.getInt32(ops + o * F.OP_RECORD_SIZE + F.O_TYPE, true) !== F.OP_DEPTHWISE_CONV2D) o++;
    v.setInt32(ops + o * F.OP_RECORD_SIZE + F.O_PARAMS + 8, 3, true); // multiplier 3: 8 channels × 3 ≠ 8 weights rows
    v.setUint32(F.H_CRC32, crc32(broken.subarray(16)), true);
    await expect(loadModel(broken)).rejects.toThrow(ModelFormatError);
    await expect(loadModel(broken)).rejects.toThrow(new RegExp(`layer ${o} is invalid: shapes`));
  });
});
