// The converter pipeline: (prune | prune while fine-tuning) → lower and fold →
// calibrate and quantize → encode; and the evaluation that proves the result.

import * as tf from '@tensorflow/tfjs';
import { ConvertError } from '../../runtime/errors.js';
import type { EdgeqModel, WeightEncoding } from '../format/model.js';
import { encodeModel } from '../format/write.js';
import { loadModel, type Model } from '../../runtime/node.js';
import { lowerLayersModel, type FloatGraph } from './graph.js';
import { fineTunePruned, pruneModel, type PruneMode } from './prune.js';
import { quantizeGraph, type CalibrationMethod } from './quantize.js';
import { argmaxRows } from '../../runtime/classes.js';

export interface ConvertOptions {
  name: string;
  labels?: string[];
  description?: string;
  source?: { format: string; file?: string; bytes?: number; generatedBy?: string };
  dataset?: string; // the dataset the model classifies (metadata for tools and the demo)
  sparsity?: number;
  pruneMode?: PruneMode;
  protect?: 'auto' | 'none';
  fineTune?: { x: tf.Tensor; y: tf.Tensor; epochs: number; batchSize?: number; learningRate?: number };
  calibration: tf.Tensor; // float model inputs
  calibrationMethod?: CalibrationMethod;
  percentile?: number;
  normalization?: { mul: number; add: number };
  encoding?: WeightEncoding;
  progress?: (stage: string, fraction: number, detail?: string) => void;
}

export interface LayerReport {
  index: number;
  type: string;
  weights: number;
  zeros: number;
  encoding: string;
  fileBytes: number;
}

// model: what was encoded, for callers that add metadata (e.g. evaluation results)
export interface ConvertResult { bytes: Uint8Array; layers: LayerReport[]; model: EdgeqModel }

export async function convertLayersModel(model: tf.LayersModel, options: ConvertOptions): Promise<ConvertResult> {
  const progress = options.progress ?? (() => {});
  const sparsity = options.sparsity ?? 0;
  if (options.fineTune && sparsity > 0) {
    const { x, y, epochs } = options.fineTune;
    progress('prune + fine-tune', 0);
    await fineTunePruned(model, x, y, {
      sparsity, mode: options.pruneMode, protect: options.protect, epochs,
      batchSize: options.fineTune.batchSize, learningRate: options.fineTune.learningRate,
      onEpoch: (e, logs) => progress('prune + fine-tune', (e + 1) / epochs, `epoch ${e + 1}/${epochs} loss ${logs.loss.toFixed(4)} sparsity ${(100 * logs.sparsity).toFixed(1)}%`),
    });
  } else if (sparsity > 0) {
    progress('prune', 0);
    pruneModel(model, { sparsity, mode: options.pruneMode, protect: options.protect }).masks.forEach((m) => m.dispose());
    progress('prune', 1);
  }
  return encodeFloatGraph(lowerLayersModel(model), options);
}

// Float graph → .edgeq bytes and the per-layer report (Layers and Graph models alike).
export async function encodeFloatGraph(graph: FloatGraph, options: ConvertOptions): Promise<ConvertResult> {
  const progress = options.progress ?? (() => {});
  const sparsity = options.sparsity ?? 0;
  progress('calibrate + quantize', 0);
  const edgeq = quantizeGraph(graph, options.calibration, {
    metadata: {
      name: options.name,
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.description ? { description: options.description } : {}),
      ...(options.source ? { source: options.source } : {}),
      ...(options.dataset ? { dataset: options.dataset } : {}),
      ...(sparsity > 0 ? { pruning: { sparsity, mode: options.pruneMode ?? 'layer', fineTuned: Boolean(options.fineTune) } } : {}),
    },
    normalization: options.normalization,
    calibration: options.calibrationMethod,
    percentile: options.percentile,
    encoding: options.encoding,
  });
  progress('calibrate + quantize', 1);
  progress('encode', 0);
  const bytes = encodeModel(edgeq);
  // the report reads the file back through the engine: what it says is what will run
  const loaded = await loadModel(bytes);
  try {
    const layers = loaded.layers().flatMap((l) => (l.weights ?? []).filter((w) => w.role !== 'bias').map((w) => {
      const n = w.shape.reduce((a, b) => a * b, 1);
      return { index: l.index, type: `${l.type}${w.role === 'recurrent' ? ' (recurrent)' : ''}`, weights: n, zeros: w.nonZero === null ? 0 : n - w.nonZero, encoding: w.encoding, fileBytes: w.fileBytes };
    }));
    progress('encode', 1);
    return { bytes, layers, model: edgeq };
  } finally {
    loaded.dispose();
  }
}

export interface Evaluation { count: number; floatAccuracy: number; int8Accuracy: number; agreement: number }

// Top-1 classes of the float model (TF.js) on normalized inputs x.
// A TF.js Layers or Graph model: what the float baseline needs of it.
export interface Predictor { predict(x: tf.Tensor, config?: object): unknown; dispose(): void }

export function floatClasses(float: Predictor, x: tf.Tensor, progress?: (f: number) => void, batch = 250): Int32Array {
  const n = x.shape[0];
  const out = new Int32Array(n);
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const y = tf.tidy(() => (float.predict(x.slice(i, m), {}) as tf.Tensor).dataSync() as Float32Array);
    out.set(argmaxRows(y, m, y.length / m), i);
    progress?.((i + m) / n);
  }
  return out;
}

// Top-1 classes of an edgeq model on raw inputs (e.g. pixels), `n` examples.
export function int8Classes(model: Model, raw: Uint8Array | Float32Array, n: number, progress?: (f: number) => void, batch = 250): Int32Array {
  const per = raw.length / n;
  if (!Number.isInteger(per) || per !== model.inputShape.reduce((a, b) => a * b, 1)) {
    throw new ConvertError('E_EVAL_SHAPE', `evaluation inputs have ${per} values each; the model takes [${model.inputShape}]`);
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    out.set(argmaxRows(model.predict(raw.subarray(i * per, (i + m) * per), { batch: m }), m, model.outputShape[0]), i);
    progress?.((i + m) / n);
  }
  return out;
}

export function compare(floatTop: Int32Array, int8Top: Int32Array, labels: ArrayLike<number>): Evaluation {
  let f = 0, q = 0, same = 0;
  for (let i = 0; i < labels.length; i++) {
    if (floatTop[i] === labels[i]) f++;
    if (int8Top[i] === labels[i]) q++;
    if (floatTop[i] === int8Top[i]) same++;
  }
  const n = labels.length;
  return { count: n, floatAccuracy: f / n, int8Accuracy: q / n, agreement: same / n };
}
