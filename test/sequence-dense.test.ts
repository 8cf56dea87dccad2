// Dense applied to every step of a sequence, from TF.js through the converter into the
// engine: Conv1D → MaxPooling1D → TimeDistributed(Dense relu) → Dense tanh on the
// sequence (Keras' Dense on a 3-D input) → Flatten → Dense softmax, trained on the
// generated sensor task (helpers/models.ts). Agreement with TF.js float, both builds
// bit-identical, what inspect reports; and the TimeDistributed layers that are refused.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { accuracy, argmaxRows } from '../src/runtime/classes.js';
import { UnsupportedOpError } from '../src/runtime/errors.js';
import { loadModel } from '../src/runtime/node.js';
import { convertLayersModel } from '../src/toolchain/convert/convert.js';
import { lowerLayersModel } from '../src/toolchain/convert/graph.js';
import { predictBothBuilds, SENSOR_STEPS as STEPS, sensorSequences } from './helpers/models.js';
import { loweringError } from './helpers/tf.js';

const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
let model: tf.Sequential, bytes: Uint8Array;
const test = sensorSequences(400, 31);

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = tf.sequential({
    layers: [
      tf.layers.conv1d({ inputShape: [STEPS, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(11) }),
      tf.layers.maxPooling1d({ poolSize: 2 }),
      tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 12, activation: 'relu', kernelInitializer: init(12) }) }),
      tf.layers.dense({ units: 6, activation: 'tanh', kernelInitializer: init(13) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(14) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  const train = sensorSequences(600, 30);
  const x = tf.tensor3d(train.values, [600, STEPS, 3]);
  await model.fit(x, tf.tensor1d(train.labels, 'float32'), { epochs: 8, batchSize: 32, shuffle: false, verbose: 0 });
  const cal = x.slice(0, 200);
  ({ bytes } = await convertLayersModel(model, { name: 'sequence-dense', calibration: cal }));
  tf.dispose([x, cal]);
}, 240_000);

describe('Dense on every step of a sequence', () => {
  it('lowers to a float graph that computes the TF.js model', async () => {
    expect(await loweringError(model, lowerLayersModel(model), tf.tensor3d(test.values, [400, STEPS, 3]))).toBeLessThan(1e-5);
  });

  it('agrees ≥ 99 % top-1 with TF.js on held-out sequences; SIMD and scalar builds bit-identical', async () => {
    const float = tf.tidy(() => (model.predict(tf.tensor3d(test.values, [400, STEPS, 3])) as tf.Tensor).dataSync() as Float32Array);
    const want = argmaxRows(float, 400, 4);
    expect(accuracy(want, test.labels)).toBeGreaterThan(0.9); // the float model learned its task
    expect(new Set(want).size).toBe(4); // its predictions span the classes
    const agreement = accuracy(argmaxRows(await predictBothBuilds(bytes, test.values, 400), 400, 4), want);
    console.log(`sequence dense model: int8 top-1 agreement with TF.js ${(100 * agreement).toFixed(1)} % on 400 sequences`);
    expect(agreement).toBeGreaterThanOrEqual(0.99);
  });

  it('inspect shows dense on [steps, k] inputs, the relu fused, the tanh an activation op', async () => {
    const m = await loadModel(bytes);
    const l = m.layers();
    expect(l.map((x) => x.type)).toEqual(['conv1d', 'max_pool1d', 'dense', 'dense', 'activation', 'reshape', 'dense', 'softmax']);
    expect(l[2]).toMatchObject({ activation: 'relu' });
    expect(l[2].input.shape).toEqual([16, 8]);
    expect(l[2].output.shape).toEqual([16, 12]);
    expect(l[2].macs).toBe(16 * 12 * 8);
    expect(l[3].input.shape).toEqual([16, 12]);
    expect(l[3].output.shape).toEqual([16, 6]);
    expect(l[4]).toMatchObject({ activation: 'tanh' });
    expect(l[6].input.shape).toEqual([96]);
    m.dispose();
  });
});

describe('refused', () => {
  it('TimeDistributed around anything but Dense, naming the layer and what is supported', () => {
    const m = tf.sequential({
      layers: [tf.layers.timeDistributed({ inputShape: [4, 6, 6, 1], layer: tf.layers.conv2d({ filters: 2, kernelSize: 3 }), name: 'frames' })],
    });
    expect(() => lowerLayersModel(m)).toThrow(UnsupportedOpError);
    expect(() => lowerLayersModel(m)).toThrow(/layer 0 'frames' \(TimeDistributed\) wraps a Conv2D: only TimeDistributed\(Dense\) is supported; supported layers: .*Conv1D/);
  });

  it('a softmax over every step (the softmax op takes a vector)', () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [5, 3], units: 4, activation: 'softmax', name: 'per_step' })] });
    expect(() => lowerLayersModel(m)).toThrow(/'per_step' \(Dense\): a softmax over every step of a sequence is not supported/);
  });
});
