// Makes models/edge/<name>.edgeq from each edge model of models/edge-architectures.ts:
//   DS-CNN and MobileNetV1-0.25 trained (Adam, TF.js wasm) on their stand-in task
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
import { buildEdgeModel, EDGE_MODELS, edgeArchitecture, edgeExamples, edgeInputs, edgeSpec, floatFiles, rng, SEEDS, type EdgeModelName } from './edge-architectures.js';

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
  registerEdgeGradients();
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

// ---------------------------------------------------------------- training on TF.js wasm
//
// TF.js's wasm backend has no Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter
// or DepthwiseConv2dNativeBackpropInput, and its cpu backend trains these models at a
// few images a second; so the three are registered here for wasm, any stride and
// padding (src/toolchain/train/wasm-gradients.ts covers only the reference CNN's stride
// 1). Checked against the cpu backend's kernels (relative error < 1e-6) when written.

type Info = tf.TensorInfo;
interface WasmBackend { makeOutput(shape: number[], dtype: tf.DataType): Info; typedArrayFromHeap(info: Info): Float32Array }
type Attrs = Record<string, unknown>;
type Geometry = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

const geometry = (xShape: number[], filterShape: number[], a: Attrs, depthwise: boolean): Geometry => tf.backend_util.computeConv2DInfo(
  xShape as [number, number, number, number], filterShape as [number, number, number, number],
  a.strides as number | [number, number], 1, a.pad as 'same' | 'valid', a.dimRoundingMode as 'round' | undefined, depthwise);

// Σ over batch and output positions of x at each filter tap times dy: the filter's
// gradient, in a plain loop over the wasm heap (ci = 1 for depthwise: channel c of x
// meets channel c of dy only).
function filterGradient(backend: WasmBackend, x: Info, dy: Info, g: Geometry, depthwise: boolean): Info {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: cin, outHeight: oh, outWidth: ow, outChannels: cout, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = g;
  const { top, left } = g.padInfo;
  const ci = depthwise ? 1 : cin;
  const acc = new Float32Array(kh * kw * ci * cout);
  const xs = backend.typedArrayFromHeap(x), ds = backend.typedArrayFromHeap(dy);
  for (let b = 0; b < n; b++) for (let y = 0; y < oh; y++) for (let xo = 0; xo < ow; xo++) {
    const d0 = ((b * oh + y) * ow + xo) * cout;
    for (let i = 0; i < kh; i++) {
      const yy = y * sh + i - top;
      if (yy < 0 || yy >= h) continue;
      for (let j = 0; j < kw; j++) {
        const xx = xo * sw + j - left;
        if (xx < 0 || xx >= w) continue;
        const x0 = ((b * h + yy) * w + xx) * cin, a0 = (i * kw + j) * ci * cout;
        if (depthwise) for (let c = 0; c < cout; c++) acc[a0 + c] += xs[x0 + c] * ds[d0 + c];
        else for (let c = 0; c < ci; c++) {
          const v = xs[x0 + c], a1 = a0 + c * cout;
          if (v !== 0) for (let o = 0; o < cout; o++) acc[a1 + o] += v * ds[d0 + o];
        }
      }
    }
  }
  const out = backend.makeOutput(depthwise ? [kh, kw, cin, 1] : [kh, kw, cin, cout], 'float32');
  backend.typedArrayFromHeap(out).set(acc);
  return out;
}

// A kernel input copied into a tensor of its own (a tensor sharing the input's data would
// let the composite's reshapes release it), and a composite's result copied out.
const copy = (wasm: WasmBackend, info: Info) => tf.tensor(wasm.typedArrayFromHeap(info).slice(), info.shape);
function output(wasm: WasmBackend, f: () => tf.Tensor): Info {
  const r = tf.tidy(f);
  const out = wasm.makeOutput(r.shape, 'float32');
  wasm.typedArrayFromHeap(out).set(r.dataSync() as Float32Array);
  r.dispose();
  return out;
}

let registered = false;
function registerEdgeGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const x = inputs.x as Info, dy = inputs.dy as Info, shape = (attrs as Attrs).filterShape as number[];
      const g = geometry(x.shape, shape, attrs as Attrs, false), wasm = backend as unknown as WasmBackend;
      // 1×1, stride 1 (the pointwise convolutions): xᵀ · dy, one matrix product
      if (g.filterHeight * g.filterWidth * g.strideHeight * g.strideWidth === 1) {
        return output(wasm, () => tf.matMul(copy(wasm, x).reshape([-1, shape[2]]), copy(wasm, dy).reshape([-1, shape[3]]), true, false).reshape(shape));
      }
      return filterGradient(wasm, x, dy, g, false);
    },
  });
  tf.registerKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const x = inputs.x as Info, dy = inputs.dy as Info, shape = (attrs as Attrs).filterShape as number[];
      if (shape[3] !== 1) throw new Error('DepthwiseConv2dNativeBackpropFilter on wasm: channel multiplier 1 only');
      return filterGradient(backend as unknown as WasmBackend, x, dy, geometry(x.shape, shape, attrs as Attrs, true), true);
    },
  });
  // dy spread back to stride 1 (zeros between), correlated in full with the flipped
  // filter: the gradient of padded x; then the padding cut off
  tf.registerKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const wasm = backend as unknown as WasmBackend, shape = (attrs as Attrs).inputShape as number[];
      return output(wasm, () => {
        const dy = copy(wasm, inputs.dy as Info) as tf.Tensor4D, w = copy(wasm, inputs.filter as Info) as tf.Tensor4D;
        const [kh, kw, ch, m] = w.shape;
        if (m !== 1) throw new Error('DepthwiseConv2dNativeBackpropInput on wasm: channel multiplier 1 only');
        const g = geometry(shape, w.shape, attrs as Attrs, true);
        const [b, oh, ow] = dy.shape, sh = g.strideHeight, sw = g.strideWidth;
        const spread = sh === 1 && sw === 1 ? dy
          : tf.pad(dy.reshape([b, oh, 1, ow, 1, ch]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]).reshape([b, oh * sh, ow * sw, ch]) as tf.Tensor4D;
        const full = tf.depthwiseConv2d(tf.pad(spread, [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]]), tf.reverse(w, [0, 1]), 1, 'valid');
        return tf.slice(full, [0, g.padInfo.top, g.padInfo.left, 0], shape);
      });
    },
  });
  // TF.js's batch-norm gradient tiles 1 / σ to the whole activation before multiplying
  // (a third of a MobileNetV1 step on wasm); broadcasting gives the same numbers.
  tf.registerGradient({
    kernelName: 'FusedBatchNorm', inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
      const s = scale ?? tf.scalar(1);
      const inv = tf.rsqrt(tf.add(variance, (attrs as Attrs).varianceEpsilon as number));
      const centred = tf.sub(x, mean), dys = tf.mul(dy as tf.Tensor, s);
      const reduce = (t: tf.Tensor) => tf.sum(t, axes).reshape(mean.shape);
      return {
        x: () => tf.mul(dys, inv),
        mean: () => reduce(tf.mul(dys, tf.neg(inv))),
        variance: () => reduce(tf.mul(tf.mul(centred, tf.mul(tf.pow(inv, 3), -0.5)), dys)),
        scale: () => reduce(tf.mul(dy as tf.Tensor, tf.mul(centred, inv))),
        offset: () => reduce(dy as tf.Tensor),
      };
    },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
