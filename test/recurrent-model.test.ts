// Recurrent models from TF.js / Keras through the converter into the engine: GRU (both
// reset_after cells), go_backwards, Bidirectional with every merge mode, TimeDistributed
// after a sequence. Each is lowered to a float graph that computes the source model,
// then compared in int8 against the source model's float outputs; SIMD and scalar
// builds bit-identical.
//
// Keras' default GRU (reset_after: true) cannot be built by TF.js; the model that
// Keras' converter writes for it is made here from a TF.js GRU's files, with the
// reset_after flag set and the [2, 3·units] bias Keras stores, as a user's would come.

import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/runtime/node.js';
import { convertLayersModel } from '../src/toolchain/convert/convert.js';
import { lowerLayersModel } from '../src/toolchain/convert/graph.js';
import { loadLayersModelFile } from '../src/toolchain/convert/load.js';
import { rng } from './helpers/quant.js';
import { predictBothBuilds } from './helpers/models.js';
import { gruFloat } from './helpers/recurrent.js';
import { loweringError } from './helpers/tf.js';

const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
// 4× Glorot's variance: recurrent outputs large enough that a product of two (merge 'mul') still spans a range
const wide = (s: number) => tf.initializers.varianceScaling({ scale: 4, mode: 'fanAvg', distribution: 'uniform', seed: s });
const N = 48;

function inputs(steps: number, features: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: N * steps * features }, (_, i) => Math.sin(i * 0.37 + r()) + (r() - 0.5) * 0.5);
}

// Lowered exactly, then int8 against the model's float outputs: the largest error as
// a fraction of the output range (3 %: two recurrent layers requantize every step).
async function check(model: tf.LayersModel, x: Float32Array, shape: number[], name: string) {
  expect(await loweringError(model, lowerLayersModel(model), tf.tensor(x, [N, ...shape]))).toBeLessThan(1e-5);
  const cal = tf.tensor(x, [N, ...shape]);
  const { bytes } = await convertLayersModel(model, { name, calibration: cal });
  cal.dispose();
  const want = tf.tidy(() => (model.predict(tf.tensor(x, [N, ...shape])) as tf.Tensor).dataSync() as Float32Array);
  const got = await predictBothBuilds(bytes, x, N);
  let err = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < want.length; i++) { err = Math.max(err, Math.abs(got[i] - want[i])); lo = Math.min(lo, want[i]); hi = Math.max(hi, want[i]); }
  console.log(`${name}: int8 max error ${err.toExponential(2)} of output range ${(hi - lo).toFixed(3)}`);
  expect(err).toBeLessThanOrEqual(0.03 * (hi - lo));
  return bytes;
}

beforeAll(async () => { await tf.setBackend('cpu'); });

describe('GRU and go_backwards', () => {
  it('Conv1D → GRU (TF.js cell, go_backwards) → Dense softmax', async () => {
    const model = tf.sequential({ layers: [
      tf.layers.conv1d({ inputShape: [20, 3], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.gru({ units: 16, recurrentActivation: 'sigmoid', goBackwards: true, kernelInitializer: init(2), recurrentInitializer: init(3) }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(4) }),
    ] });
    const bytes = await check(model, inputs(20, 3, 1), [20, 3], 'conv1d-gru-backwards');
    const m = await loadModel(bytes);
    expect(m.layers().map((l) => l.type)).toEqual(['conv1d', 'gru', 'dense', 'softmax']);
    expect(m.layers()[1]).toMatchObject({ direction: 'backward', resetAfter: false, returnSequences: false, activation: 'tanh', recurrentActivation: 'sigmoid' });
    expect(m.layers()[1].weights?.map((w) => w.shape)).toEqual([[48, 8], [48], [48, 16]]);
    m.dispose();
  });

  it('stacked GRUs (relu, hard sigmoid, return sequences) and an LSTM go_backwards → TimeDistributed(Dense)', async () => {
    const model = tf.sequential({ layers: [
      tf.layers.gru({ inputShape: [16, 4], units: 12, activation: 'relu', returnSequences: true, kernelInitializer: init(5), recurrentInitializer: init(6) }),
      tf.layers.lstm({ units: 8, returnSequences: true, goBackwards: true, kernelInitializer: init(7), recurrentInitializer: init(8) }),
      tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2, kernelInitializer: init(9) }) }),
    ] });
    await check(model, inputs(16, 4, 2), [16, 4], 'gru-lstm-sequences');
  });
});

describe('Bidirectional', () => {
  for (const mergeMode of ['concat', 'sum', 'mul', 'ave'] as const) {
    it(`Bidirectional(LSTM, return sequences) and Bidirectional(GRU), merge '${mergeMode}'`, async () => {
      const model = tf.sequential({ layers: [
        tf.layers.bidirectional({ inputShape: [12, 5], mergeMode, layer: tf.layers.lstm({ units: 8, returnSequences: true, kernelInitializer: wide(10), recurrentInitializer: init(11) }) as tf.RNN }),
        tf.layers.bidirectional({ mergeMode, layer: tf.layers.gru({ units: 6, recurrentActivation: 'sigmoid', kernelInitializer: wide(12), recurrentInitializer: init(13) }) as tf.RNN }),
        tf.layers.dense({ units: 4, kernelInitializer: init(14) }),
      ] });
      const bytes = await check(model, inputs(12, 5, 3), [12, 5], `bidirectional-${mergeMode}`);
      const m = await loadModel(bytes);
      const merge = { concat: 'concatenate', sum: 'add', mul: 'multiply', ave: 'add' }[mergeMode];
      expect(m.layers().map((l) => l.type)).toEqual(['lstm', 'lstm', merge, 'gru', 'gru', merge, 'dense']);
      expect(m.layers().map((l) => l.direction).filter(Boolean)).toEqual(['forward', 'backwardAligned', 'forward', 'backwardAligned']);
      if (mergeMode === 'ave') expect(m.layers()[2].average).toBe(true);
      m.dispose();
    });
  }
});

describe('a functional model', () => {
  it('Conv1D feeding a GRU branch and a Bidirectional LSTM branch, concatenated → Dense', async () => {
    const input = tf.input({ shape: [18, 3] });
    const h = tf.layers.conv1d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(21) }).apply(input) as tf.SymbolicTensor;
    const a = tf.layers.gru({ units: 8, recurrentActivation: 'sigmoid', kernelInitializer: wide(22), recurrentInitializer: init(23) }).apply(h) as tf.SymbolicTensor;
    const b = tf.layers.bidirectional({ mergeMode: 'sum', layer: tf.layers.lstm({ units: 6, kernelInitializer: wide(24), recurrentInitializer: init(25) }) as tf.RNN }).apply(h) as tf.SymbolicTensor;
    const y = tf.layers.dense({ units: 3, kernelInitializer: init(26) }).apply(tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: y });
    const bytes = await check(model, inputs(18, 3, 5), [18, 3], 'functional-gru-bilstm');
    const m = await loadModel(bytes);
    expect(m.layers().map((l) => l.type)).toEqual(['conv1d', 'gru', 'lstm', 'lstm', 'add', 'concatenate', 'dense']);
    m.dispose();
  });
});

describe("Keras' default GRU (reset_after: true), as Keras' converter writes it", () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'edgeq-keras-gru-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('loads as KerasGRU, matches the cell written out in float64, converts within 3 % (plain and in a Bidirectional)', async () => {
    const steps = 14, features = 3, units = 10;
    const src = tf.sequential({ layers: [
      tf.layers.bidirectional({ inputShape: [steps, features], name: 'bi', mergeMode: 'concat', layer: tf.layers.gru({ units: 6, returnSequences: true, recurrentActivation: 'sigmoid', kernelInitializer: init(15), recurrentInitializer: init(16) }) as tf.RNN }),
      tf.layers.gru({ name: 'g', units, recurrentActivation: 'sigmoid', kernelInitializer: init(17), recurrentInitializer: init(18) }),
      tf.layers.dense({ units: 1, kernelInitializer: init(19) }),
    ] });
    // TF.js's files, then what Keras writes for reset_after: the flag, and a bias [2, 3·units]
    const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve) => {
      void src.save(tf.io.withSaveHandler(async (a) => { resolve(a); return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
    });
    const topology = JSON.stringify(artifacts.modelTopology).replace(/"reset_after":false/g, '"reset_after":true');
    expect(topology.match(/"reset_after":true/g)?.length).toBe(2);
    const r = rng(20);
    const specs: tf.io.WeightsManifestEntry[] = [];
    const parts: Float32Array[] = [];
    let at = 0;
    const data = new Float32Array(artifacts.weightData as ArrayBuffer);
    for (const s of artifacts.weightSpecs!) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      const values = data.subarray(at, at + size);
      at += size;
      if (/^(g|bi)\//.test(s.name) && s.name.endsWith('/bias')) {
        // an input bias and a recurrent bias, both nonzero so that both are read
        specs.push({ ...s, shape: [2, s.shape[0]] });
        parts.push(Float32Array.from({ length: 2 * size }, () => (r() - 0.5) * 0.4));
      } else {
        specs.push(s);
        parts.push(values);
      }
    }
    const weights = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    parts.reduce((o, p) => { weights.set(p, o); return o + p.length; }, 0);
    await writeFile(join(dir, 'weights.bin'), new Uint8Array(weights.buffer));
    await writeFile(join(dir, 'model.json'), JSON.stringify({
      format: 'layers-model', generatedBy: 'keras v2.15.0', convertedBy: 'TensorFlow.js Converter v4.22.0',
      modelTopology: JSON.parse(topology), weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
    }));
    const { model } = await loadLayersModelFile(join(dir, 'model.json'));
    const g = model.getLayer('g');
    expect(g.getClassName()).toBe('KerasGRU');
    expect(g.getWeights()[2].shape).toEqual([2, 3 * units]);

    // the loaded layer computes Keras' cell: the second GRU on its own, against float64
    const x = inputs(steps, features, 4);
    const sub = tf.model({ inputs: model.inputs, outputs: g.output as tf.SymbolicTensor });
    const want = tf.tidy(() => (sub.predict(tf.tensor3d(x, [N, steps, features])) as tf.Tensor).dataSync() as Float32Array);
    const before = tf.tidy(() => (tf.model({ inputs: model.inputs, outputs: model.getLayer('bi').output as tf.SymbolicTensor })
      .predict(tf.tensor3d(x, [N, steps, features])) as tf.Tensor).dataSync() as Float32Array);
    const [k, rk, b] = g.getWeights().map((w) => w.dataSync() as Float32Array);
    const tr = (w: Float32Array, rows: number, cols: number) => Float32Array.from({ length: w.length }, (_, i) => w[(i % cols) * rows + Math.floor(i / cols)]);
    const ref = gruFloat(before, N, steps, 12, units, tr(k, 3 * units, 12), tr(rk, 3 * units, units), b, true, 'tanh', 'sigmoid', false, 'forward');
    let d = 0;
    for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(ref[i] - want[i]));
    expect(d).toBeLessThan(1e-4);

    const bytes = await check(model, x, [steps, features], 'keras-gru-reset-after');
    const m = await loadModel(bytes);
    expect(m.layers().filter((l) => l.type === 'gru').map((l) => l.resetAfter)).toEqual([true, true, true]);
    expect(m.layers().find((l) => l.type === 'gru')?.weights?.map((w) => w.shape)).toEqual([[18, 3], [2, 18], [18, 6]]);
    m.dispose();

    // the same files with an activation Keras has and edgeq's KerasGRU does not: a typed
    // error naming it, not TF.js's wrapped message
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { modelTopology: unknown };
    await writeFile(join(dir, 'model.json'), JSON.stringify(json).replace(/"activation":"tanh"/, '"activation":"selu"'));
    await expect(loadLayersModelFile(join(dir, 'model.json'))).rejects.toMatchObject({ code: 'E_UNSUPPORTED_ACTIVATION', message: expect.stringMatching(/GRU activation 'selu' is not supported/) });
  });
});
