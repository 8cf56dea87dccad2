// Makes models/edge/<name>.edgeq: each edge model of models/edge-architectures.ts built
// float (seeded He-normal weights, batch-norm statistics from stand-in inputs), converted
// to int8 by the converter (min/max calibration on 200 stand-in inputs of their own
// seed), and measured against the float model on 500 more (the test's seed): top-1
// agreement for the classifiers, output SNR for the autoencoder, recorded in the file's
// metadata. TF.js runs on its wasm backend (XNNPACK, one thread), here and in
// test/edge-models.test.ts, which rebuilds the float models and re-converts: the same
// backend gives the same floats, so the same bytes.
//
//   npx tsx models/make-edge.ts [--only NAME] [--pruning]
//     --pruning  also convert ResNet-8 and MobileNetV1 pruned (magnitude, per layer, no
//                fine-tuning) at 30 / 50 / 70 % and print what it does to agreement and size

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadModel } from '../src/runtime/node.js';
import { convertLayersModel } from '../src/toolchain/convert/convert.js';
import { evaluate, evaluationText, floatOutputs, int8Outputs, type Evaluation } from '../src/toolchain/convert/evaluate.js';
import { encodeModel } from '../src/toolchain/format/write.js';
import { buildEdgeModel, EDGE_MODELS, edgeExamples, edgeInputs, edgeSpec, floatFiles, SEEDS, type EdgeModelName } from './edge-architectures.js';

export const EDGE_DIR = fileURLToPath(new URL('./edge/', import.meta.url));
export const CALIBRATION_COUNT = 200;
export const EVAL_COUNT = 500;
export const SHIPPED = EDGE_MODELS.filter((m) => m.shipped).map((m) => m.name);

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
    name, description: `${DESCRIPTIONS[name]}. Not trained: seeded He-normal weights and batch-norm statistics (models/README.md)`,
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
    const model = buildEdgeModel(tf, name);
    const { bytes, floatBytes, evaluation, float } = await convertEdge(name, model);
    writeFileSync(`${EDGE_DIR}${name}.edgeq`, bytes);
    const spec = edgeSpec(name);
    const spread = spec.classes ? `; float top-1 per class: ${classCounts(float.y, EVAL_COUNT, spec.classes).join(' ')}` : '';
    console.log(`models/edge/${name}.edgeq: ${kb(bytes.length)} (float ${kb(floatBytes)}, ${(floatBytes / bytes.length).toFixed(1)}× smaller), ${((performance.now() - t0) / 1000).toFixed(1)} s\n  ${evaluationText(evaluation)}${spread}`);
    model.dispose();
    if (args.includes('--pruning') && (name === 'resnet-8' || name === 'mobilenet-v1-0.25-vww')) {
      for (const sparsity of [0.3, 0.5, 0.7]) {
        const pruned = buildEdgeModel(tf, name);
        const r = await convertEdge(name, pruned, sparsity);
        console.log(`  pruned ${100 * sparsity} %: ${kb(r.bytes.length)}, ${evaluationText(r.evaluation)}`);
        pruned.dispose();
      }
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
