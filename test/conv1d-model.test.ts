// A sequence classifier (Conv1D → MaxPooling1D → dilated causal Conv1D →
// GlobalAveragePooling1D → Dense softmax, a BatchNormalization folded into the first
// conv) from TF.js through the converter into the engine: agreement with TF.js float,
// both builds bit-identical, what inspect reports; and a functional model with the
// other 1-D layers.
//
// TF.js Layers cannot run a 'causal' Conv1D (it throws NotImplementedError) nor train a
// dilated one (no gradient for dilation > 1), so the model is trained with Keras'
// definition written out: a left zero padding of (k − 1) · dilation steps, each step's
// k dilated taps gathered side by side, and a 1-tap Conv1D over them (its kernel
// [1, k·c, f] is the dilated kernel [k, c, f], byte for byte). It is converted from the
// same layers as Keras writes them (padding 'causal', dilationRate) with the trained
// weights: the file a Keras model gives.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { accuracy, argmaxRows } from '../src/runtime/classes.js';
import { loadModel } from '../src/runtime/node.js';
import { convertLayersModel } from '../src/toolchain/convert/convert.js';
import { lowerLayersModel } from '../src/toolchain/convert/graph.js';
import { maxAbsDiff, rng } from './helpers/quant.js';
import { predictBothBuilds, SENSOR_STEPS as STEPS, sensorSequences as sequences } from './helpers/models.js';
import { loweringError } from './helpers/tf.js';

// The training form of a causal conv's input: step t becomes the k taps
// x[t − (k − 1)·d], …, x[t − d], x[t] side by side (zeros before the first step).
class CausalTaps extends tf.layers.Layer {
  static className = 'CausalTaps';
  constructor(private readonly k: number, private readonly d: number) { super({}); }
  computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, n, c] = s as tf.Shape;
    return [b, n, this.k * (c as number)];
  }
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const n = x.shape[1]!, pad = (this.k - 1) * this.d;
    const padded = tf.pad(x, [[0, 0], [pad, 0], [0, 0]]);
    return tf.concat(Array.from({ length: this.k }, (_, j) => padded.slice([0, j * this.d, 0], [-1, n, -1])), 2);
  }
}

const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
// The layers of both models; `causal` is the dilated conv as Keras writes it, or its
// training form
function layers(causal: boolean): tf.layers.Layer[] {
  return [
    tf.layers.conv1d({ inputShape: [STEPS, 3], filters: 16, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(1) }),
    tf.layers.batchNormalization(),
    tf.layers.reLU(),
    tf.layers.maxPooling1d({ poolSize: 2 }),
    ...(causal
      ? [tf.layers.conv1d({ filters: 16, kernelSize: 2, dilationRate: 2, padding: 'causal', activation: 'relu' })]
      : [new CausalTaps(2, 2), tf.layers.conv1d({ filters: 16, kernelSize: 1, activation: 'relu', kernelInitializer: init(2) })]),
    tf.layers.globalAveragePooling1d({}),
    tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(3) }),
  ];
}

let trained: tf.Sequential, keras: tf.Sequential, bytes: Uint8Array;
const test = sequences(400, 21);

beforeAll(async () => {
  await tf.setBackend('cpu');
  trained = tf.sequential({ layers: layers(false) });
  trained.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  const train = sequences(600, 20);
  const x = tf.tensor3d(train.values, [600, STEPS, 3]);
  await trained.fit(x, tf.tensor1d(train.labels, 'float32'), { epochs: 8, batchSize: 32, shuffle: false, verbose: 0 });
  keras = tf.sequential({ layers: layers(true) });
  // the 1-tap kernel [1, 2·16, 16] is the dilated kernel [2, 16, 16]
  keras.setWeights(trained.getWeights().map((w, i) => w.reshape(keras.getWeights()[i].shape)));
  const cal = x.slice(0, 200);
  ({ bytes } = await convertLayersModel(keras, { name: 'conv1d-sequences', calibration: cal }));
  tf.dispose([x, cal]);
}, 240_000);

describe('a dilated causal 1-D CNN', () => {
  it("lowers to a float graph that computes TF.js's model (causal = left padding + valid)", async () => {
    const err = await loweringError(trained, lowerLayersModel(keras), tf.tensor3d(test.values, [400, STEPS, 3]));
    expect(err).toBeLessThan(1e-5);
  });

  it('agrees ≥ 99 % top-1 with TF.js on held-out sequences; SIMD and scalar builds bit-identical', async () => {
    const float = tf.tidy(() => (trained.predict(tf.tensor3d(test.values, [400, STEPS, 3])) as tf.Tensor).dataSync() as Float32Array);
    const want = argmaxRows(float, 400, 4);
    expect(accuracy(want, test.labels)).toBeGreaterThan(0.9); // the float model learned its task
    const agreement = accuracy(argmaxRows(await predictBothBuilds(bytes, test.values, 400), 400, 4), want);
    console.log(`conv1d sequence model: int8 top-1 agreement with TF.js ${(100 * agreement).toFixed(1)} % on 400 sequences`);
    expect(agreement).toBeGreaterThanOrEqual(0.99);
  });

  it('inspect names conv1d and max_pool1d, with stride, dilation and causal padding', async () => {
    const m = await loadModel(bytes);
    const l = m.layers();
    expect(l.map((x) => x.type)).toEqual(['conv1d', 'max_pool1d', 'conv1d', 'global_avg_pool1d', 'dense', 'softmax']);
    expect(l[0]).toMatchObject({ strides: [1], dilation: 1, padding: 'same', activation: 'relu' }); // the BN folded, the ReLU fused
    expect(l[1]).toMatchObject({ window: [2], strides: [2], padding: 'valid' });
    expect(l[2]).toMatchObject({ strides: [1], dilation: 2, padding: 'causal', activation: 'relu' });
    expect(l[2].input.shape).toEqual([16, 16]);
    expect(l[2].output.shape).toEqual([16, 16]);
    expect(l[2].macs).toBe(16 * 16 * 2 * 16);
    expect(l[2].weights?.[0].shape).toEqual([16, 2, 16]);
    m.dispose();
  });
});

describe('a functional model with the other 1-D layers', () => {
  it('Conv1D (stride 2, dilation 1) → AveragePooling1D (same) → GlobalMaxPooling1D: lowered exactly, int8 within 0.05 of TF.js', async () => {
    await tf.setBackend('cpu');
    const input = tf.input({ shape: [24, 4] });
    let h = tf.layers.conv1d({ filters: 8, kernelSize: 4, strides: 2, activation: 'relu', kernelInitializer: init(4) }).apply(input) as tf.SymbolicTensor;
    h = tf.layers.averagePooling1d({ poolSize: 3, strides: 2, padding: 'same' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.conv1d({ filters: 8, kernelSize: 3, dilationRate: 3, padding: 'same', kernelInitializer: init(5) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.globalMaxPooling1d({}).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(6) }).apply(h) as tf.SymbolicTensor });
    const r = rng(7);
    const x = Float32Array.from({ length: 64 * 24 * 4 }, () => r() * 2 - 1);
    expect(await loweringError(model, lowerLayersModel(model), tf.tensor3d(x, [64, 24, 4]))).toBeLessThan(1e-5);
    const cal = tf.tensor3d(x, [64, 24, 4]);
    const { bytes: b } = await convertLayersModel(model, { name: 'conv1d-functional', calibration: cal });
    cal.dispose();
    const want = tf.tidy(() => (model.predict(tf.tensor3d(x, [64, 24, 4])) as tf.Tensor).dataSync() as Float32Array);
    expect(maxAbsDiff(await predictBothBuilds(b, x, 64), want)).toBeLessThan(0.05);
    const m = await loadModel(b);
    expect(m.layers().map((l) => l.type)).toEqual(['conv1d', 'avg_pool1d', 'conv1d', 'global_max_pool1d', 'dense', 'softmax']);
    m.dispose();
  });
});
