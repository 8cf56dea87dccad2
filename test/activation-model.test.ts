// Models whose activations are not ReLU: a binary classifier ending in a sigmoid unit (the
// most common model users bring after softmax classifiers), swish and tanh hidden layers,
// a LeakyReLU, and a squeeze-and-excitation gate with a hard sigmoid: the activation op.

import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/runtime/node.js';
import { convertLayersModel } from '../src/toolchain/convert/convert.js';
import { lowerLayersModel } from '../src/toolchain/convert/graph.js';
import { predictBothBuilds } from './helpers/models.js';
import { rng } from './helpers/quant.js';
import { loweringError } from './helpers/tf.js';

describe('the activation op in converted models', () => {
  it('a sensor binary classifier (swish, LeakyReLU, tanh, sigmoid output): lowering exact in float; int8 decisions agree ≥ 99 %, output SNR ≥ 25 dB', async () => {
    await tf.setBackend('cpu');
    const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [10], units: 24, activation: 'swish', kernelInitializer: init(1) }),
        tf.layers.dense({ units: 16, kernelInitializer: init(2) }),
        tf.layers.leakyReLU({ alpha: 0.1 }),
        tf.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: init(3) }),
        tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init(4) }),
      ],
    });
    const graph = lowerLayersModel(model);
    expect(graph.layers.map((l) => `${l.type}${'activation' in l ? `:${l.activation}` : ''}`)).toEqual([
      'dense:none', 'activation:swish', 'dense:none', 'activation:leakyRelu', 'dense:none', 'activation:tanh', 'dense:none', 'activation:sigmoid',
    ]);
    const r = rng(4);
    const data = (n: number) => {
      const x = Float32Array.from({ length: n * 10 }, () => 4 * r() - 2);
      const y = Float32Array.from({ length: n }, (_, i) => (x[i * 10] * x[i * 10 + 1] + 0.5 * x[i * 10 + 2] > 0 ? 1 : 0));
      return { x, y };
    };
    expect(await loweringError(model, graph, tf.tensor(data(16).x, [16, 10]))).toBeLessThan(1e-5);
    const train = data(800), test = data(400);
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'binaryCrossentropy' });
    await model.fit(tf.tensor(train.x, [800, 10]), tf.tensor(train.y, [800, 1]), { epochs: 40, batchSize: 32, shuffle: false, verbose: 0 });
    const { bytes } = await convertLayersModel(model, { name: 'sensor', calibration: tf.tensor(train.x.subarray(0, 2000), [200, 10]) });
    const float = (model.predict(tf.tensor(test.x, [400, 10])) as tf.Tensor).dataSync() as Float32Array;
    const int8 = await predictBothBuilds(bytes, test.x, 400);
    let same = 0, right = 0, signal = 0, noise = 0;
    for (let i = 0; i < 400; i++) {
      if ((float[i] > 0.5) === (int8[i] > 0.5)) same++;
      if ((float[i] > 0.5) === (test.y[i] === 1)) right++;
      signal += float[i] ** 2;
      noise += (float[i] - int8[i]) ** 2;
    }
    const snr = 10 * Math.log10(signal / noise);
    console.log(`sensor classifier: float accuracy ${(right / 4).toFixed(1)} %, int8 decisions agree ${(same / 4).toFixed(1)} %, SNR ${snr.toFixed(1)} dB`);
    expect(right / 400).toBeGreaterThan(0.85); // it learned its task
    expect(same / 400).toBeGreaterThanOrEqual(0.99);
    // four int8 layers, and the sigmoid's steep middle amplifies their error: 27.4 dB measured
    expect(snr).toBeGreaterThanOrEqual(25);
    const m = await loadModel(bytes);
    expect(m.isClassifier).toBe(false); // one sigmoid unit: a score, not classes
    expect(m.layers().filter((l) => l.type === 'activation').map((l) => [l.activation, l.alpha])).toEqual([['swish', undefined], ['leakyRelu', Math.fround(0.1)], ['tanh', undefined], ['sigmoid', undefined]]);
    m.dispose();
  });

  it('a squeeze-and-excitation gate with a hard sigmoid, and an ELU: lowering exact in float', async () => {
    await tf.setBackend('cpu');
    const input = tf.input({ shape: [6, 6, 8] });
    const c = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
    const e = tf.layers.elu({}).apply(c) as tf.SymbolicTensor;
    const s = tf.layers.globalAveragePooling2d({}).apply(e) as tf.SymbolicTensor;
    const g = tf.layers.dense({ units: 8, activation: 'hardSigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(s) as tf.SymbolicTensor;
    const g3 = tf.layers.reshape({ targetShape: [1, 1, 8] }).apply(g) as tf.SymbolicTensor;
    const y = tf.layers.multiply().apply([e, g3]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.flatten().apply(y) as tf.SymbolicTensor });
    const graph = lowerLayersModel(model);
    expect(graph.layers.map((l) => l.type)).toEqual(['conv2d', 'activation', 'global_avg_pool2d', 'dense', 'activation', 'reshape', 'multiply', 'flatten']);
    const r = rng(9);
    expect(await loweringError(model, graph, tf.tensor(Float32Array.from({ length: 4 * 288 }, () => 2 * r() - 1), [4, 6, 6, 8]))).toBeLessThan(1e-5);
  });
});
