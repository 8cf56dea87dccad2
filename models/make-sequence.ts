// Makes the sequence models for sensors, models/edge/<name>.edgeq, from data the project
// generates (src/toolchain/data/sensors.ts):
//   activity-recognition: 128 steps × 9 motion channels (UCI-HAR's shape) → 6 activities;
//     Conv1D 32 k5 ReLU, MaxPooling1D 2, Conv1D 64 k5 ReLU, GRU 64, Dense 6 softmax
//   forecasting: the 32 last values of a series → the next one;
//     Conv1D 16 k3 ReLU, LSTM 32 (ReLU), Dense 1, mean squared error
// Each is trained with Adam (batch 32, the learning rate decayed by a cosine over the
// epochs) on TF.js's wasm backend, saved float to models/float/<name>/ (model.json,
// weights.bin, training-log.json), converted to int8 by the converter from those files
// (min/max calibration on 500 generated examples of their own seed), and measured against
// the float model on held-out examples (the test's seed): top-1 agreement and accuracy,
// or output SNR and the error against the true next value; recorded in the file's
// metadata. test/sequence-models.test.ts re-measures the shipped files.
//
//   npx tsx models/make-sequence.ts [--only NAME] [--convert-only]     both: 5.5 min here
//     --only          one model
//     --convert-only  convert the float files already in models/float/<name>/ (no
//                     training: TF.js's training is not bit-reproducible, so training
//                     again changes the float and .edgeq files together)

import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadModel } from '../src/runtime/node.js';
import { convertLayersModel } from '../src/toolchain/convert/convert.js';
import { evaluate, evaluationText, floatOutputs, int8Outputs, type Evaluation } from '../src/toolchain/convert/evaluate.js';
import { loadLayersModelFile } from '../src/toolchain/convert/load.js';
import { rng } from '../src/runtime/rng.js';
import { FORECAST_WINDOW, forecastSeries, MOTION_CHANNELS, MOTION_CLASSES, MOTION_STEPS, motionSegments } from '../src/toolchain/data/sensors.js';
import { encodeModel } from '../src/toolchain/format/write.js';
import { registerWasmGradients } from '../src/toolchain/train/wasm-gradients.js';
import { floatFiles } from './edge-architectures.js';
import { EDGE_DIR, useWasm } from './make-edge.js';

export type SequenceModelName = 'activity-recognition' | 'forecasting';

// Training recipes, sized for this machine (2 cores; ≈ 170 motion windows/s, ≈ 800 series
// windows/s: about 3 min each). More epochs gain little: by the last one the learning
// rate has decayed to 2–3 % of its start.
interface Recipe { examples: number; epochs: number; lr: number }
export interface SequenceSpec {
  name: SequenceModelName;
  shape: number[]; // one input
  classes: readonly string[] | null; // null: regression
  recipe: Recipe;
  evalCount: number; // held-out examples the shipped file is measured on
  description: string;
}

export const SEQUENCE_MODELS: readonly SequenceSpec[] = [
  {
    name: 'activity-recognition', shape: [MOTION_STEPS, MOTION_CHANNELS], classes: MOTION_CLASSES,
    recipe: { examples: 3000, epochs: 10, lr: 2e-3 }, evalCount: 600,
    description: 'Human activity recognition, 128 steps × 9 motion channels (UCI-HAR layout: body acc, gyro, total acc) → 6 activities; Conv1D, GRU',
  },
  {
    name: 'forecasting', shape: [FORECAST_WINDOW, 1], classes: null,
    recipe: { examples: 12000, epochs: 10, lr: 3e-3 }, evalCount: 1000,
    description: 'Sensor forecasting, the 32 last readings → the next; Conv1D, LSTM (ReLU)',
  },
];
export const sequenceSpec = (name: SequenceModelName): SequenceSpec => SEQUENCE_MODELS.find((m) => m.name === name)!;

// Training, calibration and test examples are different draws of the generator.
export const SEQUENCE_SEEDS = { weights: 1, calibration: 3, test: 4, train: 5 } as const;
export const CALIBRATION_COUNT = 500;
const BATCH = 32;
export const floatDir = (name: SequenceModelName): string => fileURLToPath(new URL(`./float/${name}/`, import.meta.url));

// n generated examples of a model's task: inputs [n, ...shape] flattened, and the
// targets (class indices, or the next values).
export function sequenceExamples(name: SequenceModelName, n: number, seed: number): { x: Float32Array; labels?: Int32Array; targets?: Float32Array } {
  if (name === 'activity-recognition') return motionSegments(n, seed);
  const { x, y } = forecastSeries(n, seed);
  return { x, targets: y };
}

// The architectures (issue 14), layers named here rather than by TF.js's global counter
// so that two builds are the same model; initial weights seeded. GRU and LSTM take the
// sigmoid as recurrent activation, as Keras does (TF.js's default is the hard sigmoid).
export function sequenceArchitecture(name: SequenceModelName, seed: number = SEQUENCE_SEEDS.weights): tf.LayersModel {
  const L = tf.layers;
  let k = 0;
  const init = () => ({ kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + ++k }) });
  const recurrent = () => ({ ...init(), recurrentInitializer: tf.initializers.orthogonal({ seed: seed * 100 + ++k }), recurrentActivation: 'sigmoid' as const });
  const input = tf.input({ name: 'input', shape: sequenceSpec(name).shape });
  const layers = name === 'activity-recognition'
    ? [
        L.conv1d({ name: 'conv1d_1', filters: 32, kernelSize: 5, activation: 'relu', ...init() }),
        L.maxPooling1d({ name: 'max_pool', poolSize: 2 }),
        L.conv1d({ name: 'conv1d_2', filters: 64, kernelSize: 5, activation: 'relu', ...init() }),
        L.gru({ name: 'gru', units: 64, ...recurrent() }),
        L.dense({ name: 'dense', units: 6, activation: 'softmax', ...init() }),
      ]
    : [
        L.conv1d({ name: 'conv1d', filters: 16, kernelSize: 3, activation: 'relu', ...init() }),
        L.lstm({ name: 'lstm', units: 32, activation: 'relu', ...recurrent() }),
        L.dense({ name: 'dense', units: 1, ...init() }),
      ];
  const output = layers.reduce<tf.SymbolicTensor>((x, layer) => layer.apply(x) as tf.SymbolicTensor, input);
  return tf.model({ name: name.replace(/\W/g, '_'), inputs: input, outputs: output });
}

export async function sequenceFloatModel(name: SequenceModelName): Promise<tf.LayersModel> {
  return (await loadLayersModelFile(`${floatDir(name)}model.json`)).model;
}

export interface EpochLog { epoch: number; lr: number; loss: number; accuracy?: number; seconds: number }

// Adam on the recipe's examples of the training seed, shuffled each epoch by a seeded
// generator. The learning rate falls by a cosine over the epochs: at a fixed rate the
// activity model's held-out accuracy swung by ±2 % from one epoch to the next.
async function trainSequence(name: SequenceModelName): Promise<{ model: tf.LayersModel; history: EpochLog[] }> {
  registerWasmGradients();
  const spec = sequenceSpec(name), { examples: n, epochs, lr } = spec.recipe;
  const per = spec.shape.reduce((a, b) => a * b, 1);
  const { x, labels, targets } = sequenceExamples(name, n, SEQUENCE_SEEDS.train);
  const y = labels ? Float32Array.from(labels) : targets!;
  const model = sequenceArchitecture(name);
  const optimizer = tf.train.adam(lr);
  model.compile(spec.classes
    ? { optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] }
    : { optimizer, loss: 'meanSquaredError' });
  const r = rng(SEQUENCE_SEEDS.train), order = Int32Array.from({ length: n }, (_, i) => i);
  const xb = new Float32Array(BATCH * per), yb = new Float32Array(BATCH);
  const history: EpochLog[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    const rate = lr * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / epochs));
    (optimizer as unknown as { learningRate: number }).learningRate = rate; // Adam reads it at every step
    for (let i = n - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
    let loss = 0, accuracy = 0, steps = 0;
    for (let at = 0; at + BATCH <= n; at += BATCH) {
      for (let b = 0; b < BATCH; b++) { xb.set(x.subarray(order[at + b] * per, (order[at + b] + 1) * per), b * per); yb[b] = y[order[at + b]]; }
      const tx = tf.tensor(xb, [BATCH, ...spec.shape]), ty = spec.classes ? tf.tensor1d(yb) : tf.tensor2d(yb, [BATCH, 1]);
      const out = await model.trainOnBatch(tx, ty);
      tf.dispose([tx, ty]);
      const [l, a] = Array.isArray(out) ? out : [out];
      loss += l; accuracy += a ?? 0; steps++;
    }
    const log: EpochLog = { epoch, lr: rate, loss: loss / steps, ...(spec.classes ? { accuracy: accuracy / steps } : {}), seconds: (performance.now() - t0) / 1000 };
    history.push(log);
    console.log(`  epoch ${epoch}: learning rate ${rate.toExponential(2)}, loss ${log.loss.toFixed(4)}${spec.classes ? `, training accuracy ${(100 * log.accuracy!).toFixed(1)} %` : ''}, ${log.seconds.toFixed(0)} s`);
  }
  return { model, history };
}

// Errors of predictions against the true next values.
export function targetErrors(predicted: Float32Array, targets: Float32Array): { rmse: number; mae: number } {
  let sq = 0, abs = 0;
  for (let i = 0; i < targets.length; i++) { const d = predicted[i] - targets[i]; sq += d * d; abs += Math.abs(d); }
  return { rmse: Math.sqrt(sq / targets.length), mae: abs / targets.length };
}

// The float model's outputs on n generated examples of a seed, with those examples.
export function floatPredictions(model: tf.LayersModel, name: SequenceModelName, n: number, seed: number): ReturnType<typeof sequenceExamples> & { y: Float32Array } {
  const ex = sequenceExamples(name, n, seed);
  const t = tf.tensor(ex.x, [n, ...sequenceSpec(name).shape]);
  const y = floatOutputs(model, t, undefined, 200);
  t.dispose();
  return { ...ex, y };
}

export interface SequenceEvaluation extends Evaluation {
  // forecasting: both models' errors against the true next values
  targetError?: { float: { rmse: number; mae: number }; int8: { rmse: number; mae: number } };
}

// Float model → .edgeq bytes, with its evaluation on the spec's held-out examples (the
// test's seed) in the metadata.
export async function convertSequence(name: SequenceModelName, model: tf.LayersModel): Promise<{ bytes: Uint8Array; floatBytes: number; evaluation: SequenceEvaluation }> {
  const spec = sequenceSpec(name);
  const files = await floatFiles(tf, model);
  const floatBytes = Buffer.byteLength(files.json) + files.weights.length;
  const float = floatPredictions(model, name, spec.evalCount, SEQUENCE_SEEDS.test);
  const calibration = tf.tensor(sequenceExamples(name, CALIBRATION_COUNT, SEQUENCE_SEEDS.calibration).x, [CALIBRATION_COUNT, ...spec.shape]);
  const result = await convertLayersModel(model, {
    name, description: `${spec.description}. Trained on generated sensor data (src/toolchain/data/sensors.ts; models/README.md)`,
    ...(spec.classes ? { labels: [...spec.classes] } : {}),
    source: { format: 'tfjs-layers', bytes: floatBytes, generatedBy: 'models/make-sequence.ts' },
    calibration,
  });
  calibration.dispose();
  const m = await loadModel(result.bytes);
  const int8 = int8Outputs(m, float.x, spec.evalCount);
  m.dispose();
  const evaluation: SequenceEvaluation = evaluate({
    dataset: `generated ${name === 'forecasting' ? 'series' : 'motion'} (seed ${SEQUENCE_SEEDS.test})`, count: spec.evalCount,
    classifier: spec.classes !== null, int8, float: float.y, ...(float.labels ? { labels: float.labels } : {}),
  });
  if (float.targets) evaluation.targetError = { float: targetErrors(float.y, float.targets), int8: targetErrors(int8, float.targets) };
  result.model.metadata.evaluation = evaluation; // the file records how it measured
  return { bytes: encodeModel(result.model), floatBytes, evaluation };
}

export function sequenceEvaluationText(e: SequenceEvaluation): string {
  const t = e.targetError;
  return evaluationText(e) + (t ? `; against the true next value: RMSE float ${t.float.rmse.toFixed(4)}, int8 ${t.int8.rmse.toFixed(4)}; MAE float ${t.float.mae.toFixed(4)}, int8 ${t.int8.mae.toFixed(4)}` : '');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  if (only && !SEQUENCE_MODELS.some((m) => m.name === only)) throw new Error(`--only ${only}: not one of ${SEQUENCE_MODELS.map((m) => m.name).join(', ')}`);
  await useWasm();
  mkdirSync(EDGE_DIR, { recursive: true });
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  for (const { name, recipe } of SEQUENCE_MODELS.filter((m) => !only || m.name === only)) {
    const t0 = performance.now();
    if (!args.includes('--convert-only')) {
      console.log(`${name}: training on ${recipe.examples} generated examples, ${recipe.epochs} epochs`);
      const trained = await trainSequence(name);
      const files = await floatFiles(tf, trained.model);
      mkdirSync(floatDir(name), { recursive: true });
      writeFileSync(`${floatDir(name)}model.json`, files.json);
      writeFileSync(`${floatDir(name)}weights.bin`, files.weights);
      const seconds = (performance.now() - t0) / 1000;
      writeFileSync(`${floatDir(name)}training-log.json`, JSON.stringify({ ...recipe, batch: BATCH, seed: SEQUENCE_SEEDS.train, backend: 'wasm', seconds, history: trained.history }, null, 2) + '\n');
      console.log(`  models/float/${name}/ written, ${seconds.toFixed(0)} s`);
      trained.model.dispose();
    }
    // converted from the files, as the test loads them
    const model = await sequenceFloatModel(name);
    const { bytes, floatBytes, evaluation } = await convertSequence(name, model);
    writeFileSync(`${EDGE_DIR}${name}.edgeq`, bytes);
    console.log(`models/edge/${name}.edgeq: ${kb(bytes.length)} (float ${kb(floatBytes)}, ${(floatBytes / bytes.length).toFixed(1)}× smaller), ${((performance.now() - t0) / 1000).toFixed(1)} s\n  ${sequenceEvaluationText(evaluation)}`);
    model.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
