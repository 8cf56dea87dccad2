// Small models on synthetic data for end-to-end tests: trained with TF.js (cpu) in a
// few seconds, converted with the converter's quantizer, written with the writer.

import * as tf from '@tensorflow/tfjs';
import { lowerLayersModel } from '../../src/toolchain/convert/graph.js';
import { quantizeGraph } from '../../src/toolchain/convert/quantize.js';
import type { EdgeqModel } from '../../src/toolchain/format/model.js';
import { rng } from './quant.js';

// 14×14 grey images, a bright blob in one of four quadrants over noise; pixels 0–255.
export function quadrantImages(n: number, seed: number): { pixels: Uint8Array; labels: Int32Array } {
  const r = rng(seed);
  const pixels = new Uint8Array(n * 196);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const q = Math.floor(r() * 4);
    labels[i] = q;
    const cy = (q >> 1) * 7 + 1.5 + r() * 4, cx = (q & 1) * 7 + 1.5 + r() * 4;
    for (let y = 0; y < 14; y++) for (let x = 0; x < 14; x++) {
      const blob = 90 * Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 3);
      pixels[i * 196 + y * 14 + x] = Math.min(255, Math.round(blob + r() * 140));
    }
  }
  return { pixels, labels };
}

// 10 steps × 6 features in 0–1; the class is which of the first three features is
// largest on average over the last five steps.
export function sequences(n: number, seed: number): { values: Float32Array; labels: Int32Array } {
  const r = rng(seed);
  const values = new Float32Array(n * 60);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * 3);
    labels[i] = c;
    for (let t = 0; t < 10; t++) for (let f = 0; f < 6; f++) {
      values[i * 60 + t * 6 + f] = r() * 0.8 + (f === c && t >= 5 ? 0.2 : 0);
    }
  }
  return { values, labels };
}

// 32 steps of a 3-axis sensor, 4 classes: a bump of 6 steps at a random place on axis
// 0, 1 or 2 (classes 0–2), or on all three at half height (class 3), over noise.
export const SENSOR_STEPS = 32;
export function sensorSequences(n: number, seed: number): { values: Float32Array; labels: Int32Array } {
  const r = rng(seed);
  const values = new Float32Array(n * SENSOR_STEPS * 3), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = Math.floor(r() * 4), at = Math.floor(r() * (SENSOR_STEPS - 6));
    labels[i] = label;
    for (let t = 0; t < SENSOR_STEPS; t++) for (let a = 0; a < 3; a++) {
      const bump = t >= at && t < at + 6 ? (label === a ? 1 : label === 3 ? 0.5 : 0) * Math.sin(Math.PI * (t - at + 0.5) / 6) : 0;
      values[(i * SENSOR_STEPS + t) * 3 + a] = bump + (r() - 0.5) * 0.6;
    }
  }
  return { values, labels };
}

export async function trainCnn(): Promise<{ model: tf.Sequential; edgeq: EdgeqModel }> {
  await tf.setBackend('cpu');
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [14, 14, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      tf.layers.dropout({ rate: 0.1, seed: 5 }),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const train = quadrantImages(512, 1);
  const x = tf.tensor4d(train.pixels, [512, 14, 14, 1]).div(255);
  await model.fit(x, tf.tensor1d(train.labels, 'float32'), { epochs: 3, batchSize: 32, shuffle: false, verbose: 0 });
  const edgeq = quantizeGraph(lowerLayersModel(model), x.slice(0, 128), {
    metadata: { name: 'quadrants', labels: ['top-left', 'top-right', 'bottom-left', 'bottom-right'] },
    pixelRule: { mul: [1 / 255], add: [0] },
  });
  x.dispose();
  return { model, edgeq };
}

export async function trainLstm(): Promise<{ model: tf.Sequential; edgeq: EdgeqModel }> {
  await tf.setBackend('cpu');
  const model = tf.sequential({
    layers: [
      tf.layers.lstm({ inputShape: [10, 6], units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }), recurrentInitializer: tf.initializers.orthogonal({ seed: 6 }) }),
      tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const train = sequences(512, 2);
  const x = tf.tensor3d(train.values, [512, 10, 6]);
  await model.fit(x, tf.tensor1d(train.labels, 'float32'), { epochs: 6, batchSize: 32, shuffle: false, verbose: 0 });
  const edgeq = quantizeGraph(lowerLayersModel(model), x.slice(0, 128), { metadata: { name: 'sequences', labels: ['a', 'b', 'c'] } });
  x.dispose();
  return { model, edgeq };
}

// Trains a small classifier on images (shape [h, w, c] per item) with TF.js's cpu
// backend, deterministically, and converts it with the first 200 as calibration.
export async function trainAndConvert(model: tf.LayersModel, train: { x: Float32Array; labels: Int32Array }, shape: number[], epochs: number, name: string): Promise<Uint8Array> {
  const { convertLayersModel } = await import('../../src/toolchain/convert/convert.js');
  await tf.setBackend('cpu');
  const n = train.labels.length, per = shape.reduce((a, b) => a * b, 1);
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  await model.fit(tf.tensor(train.x, [n, ...shape]), tf.tensor1d(train.labels, 'float32'), { epochs, batchSize: 32, shuffle: false, verbose: 0 });
  const cal = tf.tensor(train.x.subarray(0, 200 * per), [200, ...shape]);
  const { bytes } = await convertLayersModel(model, { name, calibration: cal });
  cal.dispose();
  return bytes;
}

// The model's outputs for n inputs on the SIMD build, after checking that the scalar
// build gives the same bits.
export async function predictBothBuilds(bytes: Uint8Array, x: Float32Array, n: number): Promise<Float32Array> {
  const { loadModel } = await import('../../src/runtime/node.js');
  const outs: Float32Array[] = [];
  for (const build of ['simd', 'scalar'] as const) {
    const m = await loadModel(bytes, { build });
    outs.push(m.predict(x, { batch: n }));
    m.dispose();
  }
  if (outs[0].some((v, i) => !Object.is(v, outs[1][i]))) throw new Error('the SIMD and scalar builds differ');
  return outs[0];
}
