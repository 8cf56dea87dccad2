// Makes models/edge/<name>.edgeq from each edge model of models/edge-architectures.ts:
//   DS-CNN and MobileNetV1-0.25 trained (Adam, TF.js wasm with the gradient kernels of
//     src/toolchain/train/wasm-gradients.ts) on their stand-in task
//     (edgeExamples, the training seed), saved float to models/float/<name>/;
//   ResNet-8 and the autoencoder built from seeds (He-normal weights, batch-norm
//     statistics from stand-in inputs, last layer fitted in closed form);
// converted to int8 by the converter (min/max calibration on 200 stand-in inputs of their
// own seed), and measured against the float model on 500 more (the test's seed): top-1
// agreement for the classifiers, output SNR for the autoencoder, recorded in the file's
// metadata. TF.js runs on its wasm backend (XNNPACK, one thread), here and in
// test/edge-models.test.ts, which loads the same float models (edgeFloatModel) and
// re-measures.
//
//   npx tsx models/make-edge.ts [--only NAME] [--pruning]     all four: ≈ 12 min here (DS-CNN
//     4.5 min, MobileNetV1 7.9 min, measured with --only side by side on 2 cores)
//     --only     one model (a trained one is trained again: TF.js's training is not
//                bit-reproducible, so its float and .edgeq files change together)
//     --pruning  also convert ResNet-8 and MobileNetV1 pruned (magnitude, per layer, no
//                fine-tuning) at 30 / 50 / 70 % and print what it does to agreement and size

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadLayersModelFile } from '../src/toolchain/convert/load.js';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadModel } from '../src/runtime/node.js';
import { convertLayersModel } from '../src/toolchain/convert/convert.js';
import { evaluate, evaluationText, floatOutputs, int8Outputs, type Evaluation } from '../src/toolchain/convert/evaluate.js';
import { encodeModel } from '../src/toolchain/format/write.js';
import { registerWasmGradients } from '../src/toolchain/train/wasm-gradients.js';
import { buildEdgeModel, EDGE_MODELS, edgeArchitecture, edgeExamples, edgeInputs, edgeSpec, floatFiles, SEEDS, type EdgeModelName } from './edge-architectures.js';
import { rng } from '../src/runtime/rng.js';

export const EDGE_DIR = fileURLToPath(new URL('./edge/', import.meta.url));
export const CALIBRATION_COUNT = 200;
export const EVAL_COUNT = 500;
export const SHIPPED = EDGE_MODELS.filter((m) => m.shipped).map((m) => m.name);

// The trained models and their recipe: stand-in examples of the training seed, epochs of
// Adam at batch 32. Sized for this machine's training speed (DS-CNN ≈ 60, MobileNetV1
// ≈ 17 examples/s): both reach their held-out accuracy within these epochs.
interface Recipe { examples: number; epochs: number; lr: number }
export const TRAINED: Partial<Record<EdgeModelName, Recipe>> = {
  'ds-cnn-kws': { examples: 3000, epochs: 3, lr: 2e-3 },
  'mobilenet-v1-0.25-vww': { examples: 2400, epochs: 3, lr: 2e-3 },
};
const BATCH = 32;
export const floatDir = (name: EdgeModelName): string => fileURLToPath(new URL(`./float/${name}/`, import.meta.url));

// The float model a shipped .edgeq file was converted from: a trained one from
// models/float/<name>/, the others rebuilt from their seeds.
export async function edgeFloatModel(name: EdgeModelName): Promise<tf.LayersModel> {
  return TRAINED[name] ? (await loadLayersModelFile(`${floatDir(name)}model.json`)).model : buildEdgeModel(tf, name);
}

const DESCRIPTIONS: Record<string, string> = {
  'ds-cnn-kws': 'MLPerf Tiny keyword spotting DS-CNN, 49 frames × 10 MFCCs → 12 classes',
  'mobilenet-v1-0.25-vww': 'MLPerf Tiny visual wake words MobileNetV1 width 0.25, 96×96 RGB (0–1, or pixels) → 2 classes',
  'resnet-8': 'MLPerf Tiny image classification ResNet-8, 32×32 RGB (0–1, or pixels) → 10 classes',
  'autoencoder-ad': 'MLPerf Tiny anomaly detection dense autoencoder, 5 frames × 128 log-mel bins → their reconstruction',
};

export async function useWasm(): Promise<void> {
  if (tf.getBackend() !== 'wasm' && !(await tf.setBackend('wasm'))) throw new Error('TF.js wasm backend unavailable');
  tf.enableProdMode();
}

// The float model's outputs on n stand-in inputs of a seed (and their stand-in classes).
export function floatPredictions(model: tf.LayersModel, name: EdgeModelName, n: number, seed: number): { x: Float32Array; y: Float32Array; labels: Int32Array } {
  const { x, labels } = edgeExamples(name, n, seed);
  const t = tf.tensor(x, [n, ...edgeSpec(name).shape]);
  const y = floatOutputs(model, t, undefined, 100);
  t.dispose();
  return { x, y, labels };
}

// Float model → .edgeq bytes, its evaluation on EVAL_COUNT stand-in inputs recorded in
// the metadata. The model is changed in place when pruned.
export async function convertEdge(name: EdgeModelName, model: tf.LayersModel, sparsity = 0): Promise<{ bytes: Uint8Array; floatBytes: number; evaluation: Evaluation; float: ReturnType<typeof floatPredictions> }> {
  const spec = edgeSpec(name);
  const files = await floatFiles(tf, model);
  const floatBytes = Buffer.byteLength(files.json) + files.weights.length;
  const float = floatPredictions(model, name, EVAL_COUNT, SEEDS.test); // before pruning: against the model as built
  const calibration = tf.tensor(edgeInputs(name, CALIBRATION_COUNT, SEEDS.calibration), [CALIBRATION_COUNT, ...spec.shape]);
  const image = spec.shape.length === 3 && spec.shape[2] === 3;
  const result = await convertLayersModel(model, {
    name, description: `${DESCRIPTIONS[name]}. ${TRAINED[name] ? 'Trained on a stand-in task' : 'Not trained: seeded He-normal weights and batch-norm statistics'} (models/README.md)`,
    source: { format: 'tfjs-layers', bytes: floatBytes, generatedBy: 'models/make-edge.ts' },
    calibration, sparsity,
    ...(image ? { pixelRule: { mul: [1 / 255], add: [0] } } : {}), // images in 0–1, as pixels / 255
  });
  calibration.dispose();
  const m = await loadModel(result.bytes);
  const evaluation = evaluate({
    dataset: `stand-in inputs (seed ${SEEDS.test})`, count: EVAL_COUNT, classifier: m.isClassifier,
    int8: int8Outputs(m, float.x, EVAL_COUNT), float: float.y, ...(spec.classes ? { labels: float.labels } : {}),
  });
  m.dispose();
  // the file records how it measured (same weights; only the metadata grows)
  result.model.metadata.evaluation = evaluation;
  return { bytes: encodeModel(result.model), floatBytes, evaluation, float };
}

export interface EpochLog { epoch: number; loss: number; accuracy: number; seconds: number }

// The architecture from its He-normal seed, trained on the recipe's stand-in examples
// (shuffled each epoch by a seeded generator); then every batch normalization's moving
// statistics set to those of 512 training examples through the trained weights (TF.js's
// moving averages, momentum 0.99 over a few hundred steps, still carry the early weights').
async function trainEdge(name: EdgeModelName, recipe: Recipe): Promise<{ model: tf.LayersModel; history: EpochLog[] }> {
  registerWasmGradients();
  const spec = edgeSpec(name), per = spec.shape.reduce((a, b) => a * b, 1);
  const { x, labels } = edgeExamples(name, recipe.examples, SEEDS.train);
  const model = edgeArchitecture(tf, name);
  model.compile({ optimizer: tf.train.adam(recipe.lr), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const r = rng(SEEDS.train), order = Int32Array.from({ length: recipe.examples }, (_, i) => i);
  const xb = new Float32Array(BATCH * per), yb = new Float32Array(BATCH);
  const history: EpochLog[] = [];
  for (let epoch = 1; epoch <= recipe.epochs; epoch++) {
    const t0 = performance.now();
    for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
    let loss = 0, accuracy = 0, steps = 0;
    for (let at = 0; at + BATCH <= order.length; at += BATCH) {
      for (let k = 0; k < BATCH; k++) { xb.set(x.subarray(order[at + k] * per, (order[at + k] + 1) * per), k * per); yb[k] = labels[order[at + k]]; }
      const tx = tf.tensor(xb, [BATCH, ...spec.shape]), ty = tf.tensor1d(yb);
      const [l, a] = (await model.trainOnBatch(tx, ty)) as number[];
      tf.dispose([tx, ty]);
      loss += l; accuracy += a; steps++;
    }
    history.push({ epoch, loss: loss / steps, accuracy: accuracy / steps, seconds: (performance.now() - t0) / 1000 });
    console.log(`  epoch ${epoch}: loss ${(loss / steps).toFixed(4)}, training accuracy ${(100 * accuracy / steps).toFixed(1)} %, ${history[epoch - 1].seconds.toFixed(0)} s`);
  }
  const norms = model.layers.filter((l) => l.getClassName() === 'BatchNormalization') as unknown as { momentum: number }[];
  const n = 512;
  const t = tf.tensor(x.subarray(0, n * per), [n, ...spec.shape]);
  for (const l of norms) l.momentum = 0; // the moving average becomes this batch's
  tf.dispose(model.apply(t, { training: true }) as tf.Tensor);
  for (const l of norms) l.momentum = 0.99;
  t.dispose();
  return { model, history };
}

// How the float predictions spread over the classes: count per class.
export function classCounts(y: Float32Array, n: number, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (y[i * classes + c] > y[i * classes + best]) best = c;
    counts[best]++;
  }
  return counts;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  await useWasm();
  mkdirSync(EDGE_DIR, { recursive: true });
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  for (const name of SHIPPED.filter((n) => !only || n === only)) {
    const t0 = performance.now();
    const recipe = TRAINED[name];
    if (recipe) {
      console.log(`${name}: training on ${recipe.examples} stand-in examples, ${recipe.epochs} epochs`);
      const trained = await trainEdge(name, recipe);
      const files = await floatFiles(tf, trained.model);
      mkdirSync(floatDir(name), { recursive: true });
      writeFileSync(`${floatDir(name)}model.json`, files.json);
      writeFileSync(`${floatDir(name)}weights.bin`, files.weights);
      writeFileSync(`${floatDir(name)}training-log.json`, JSON.stringify({ ...recipe, batch: BATCH, seed: SEEDS.train, backend: 'wasm', history: trained.history }, null, 2) + '\n');
      trained.model.dispose();
    }
    // converted from the files, as the test and the benchmark load them
    const model = await edgeFloatModel(name);
    const { bytes, floatBytes, evaluation, float } = await convertEdge(name, model);
    writeFileSync(`${EDGE_DIR}${name}.edgeq`, bytes);
    const spec = edgeSpec(name);
    const spread = spec.classes ? `; float top-1 per class: ${classCounts(float.y, EVAL_COUNT, spec.classes).join(' ')}` : '';
    console.log(`models/edge/${name}.edgeq: ${kb(bytes.length)} (float ${kb(floatBytes)}, ${(floatBytes / bytes.length).toFixed(1)}× smaller), ${((performance.now() - t0) / 1000).toFixed(1)} s\n  ${evaluationText(evaluation)}${spread}`);
    model.dispose();
    if (args.includes('--pruning') && (name === 'resnet-8' || name === 'mobilenet-v1-0.25-vww')) {
      for (const sparsity of [0.3, 0.5, 0.7]) {
        const pruned = await edgeFloatModel(name);
        const r = await convertEdge(name, pruned, sparsity);
        console.log(`  pruned ${100 * sparsity} %: ${kb(r.bytes.length)}, ${evaluationText(r.evaluation)}`);
        pruned.dispose();
      }
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
