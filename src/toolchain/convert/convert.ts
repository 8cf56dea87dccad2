// The converter pipeline: (prune | prune while fine-tuning) → (cluster, fine-tuned with
// the values shared) → lower and fold → calibrate and quantize → encode (evaluation:
// evaluate.ts).

import * as tf from '@tensorflow/tfjs';
import type { EdgeqModel, PixelRule, WeightEncoding } from '../format/model.js';
import { encodeModel } from '../format/write.js';
import { ConvertError } from '../../runtime/errors.js';
import { loadModel } from '../../runtime/node.js';
import { lowerLayersModel, withSequenceLength, type FloatGraph } from './graph.js';
import { setSequenceLength } from './load.js';
import { clusterFloatGraph, clusterModel } from './cluster.js';
import { fineTunePruned, pruneModel, type PruneMode } from './prune.js';
import { quantizeGraph, type CalibrationMethod } from './quantize.js';

export interface ConvertOptions {
  name: string;
  labels?: string[];
  description?: string;
  source?: { format: string; file?: string; bytes?: number; generatedBy?: string };
  dataset?: string; // the dataset the model classifies (metadata for tools and the demo)
  // a model whose input's time dimension is variable ([None, None, features]) is converted
  // for sequences of this many steps (--sequence-length; loadLayersModelFile's option fixes
  // it while loading): a copy with that length is built, and pruning changes the copy
  sequenceLength?: number;
  sparsity?: number;
  pruneMode?: PruneMode;
  protect?: 'auto' | 'none';
  fineTune?: { x: tf.Tensor; y: tf.Tensor; epochs: number; batchSize?: number; learningRate?: number };
  // weight clustering: shared values per weight tensor (2–255), and epochs of fine-tuning
  // with them shared on fineTune's examples (Layers models; default 0)
  clusters?: number;
  clusterEpochs?: number;
  // the model is already pruned to `sparsity` (a sweep prunes once for several cluster
  // counts): not pruned again, recorded as pruned
  pruned?: boolean;
  calibration: tf.Tensor; // float model inputs
  calibrationMethod?: CalibrationMethod;
  percentile?: number;
  pixelRule?: PixelRule; // how the source scales pixels; absent: the model takes floats only
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

export async function convertLayersModel(source: tf.LayersModel, options: ConvertOptions): Promise<ConvertResult> {
  const model = options.sequenceLength === undefined ? source : await fixSequenceLength(source, options.sequenceLength);
  try {
    return await convertFixed(model, options);
  } finally {
    if (model !== source) model.dispose();
  }
}

// The model with its time dimension fixed to `steps`: itself where it already is, or
// rebuilt from its topology (setSequenceLength) with its weights.
async function fixSequenceLength(model: tf.LayersModel, steps: number): Promise<tf.LayersModel> {
  const shape = model.inputs[0]?.shape ?? [];
  if (withSequenceLength(shape, steps, 'the model')[1] === shape[1]) return model;
  const topology = model.toJSON(undefined, false) as unknown as Record<string, unknown>;
  setSequenceLength(topology, steps, 'the model');
  const fixed = await tf.models.modelFromJSON({ modelTopology: topology as tf.io.ModelJSON['modelTopology'] });
  fixed.setWeights(model.getWeights());
  return fixed;
}

async function convertFixed(model: tf.LayersModel, options: ConvertOptions): Promise<ConvertResult> {
  if (!options.pruned) await pruneLayersModel(model, options);
  if (options.clusters) await clusterLayersModel(model, options);
  const graph = lowerLayersModel(model);
  // folding a BatchNormalization scales each output channel of the weights before it:
  // clustered again, so that each tensor holds at most `clusters` values (a no-op where
  // nothing was folded)
  if (options.clusters) clusterFloatGraph(graph, options.clusters);
  return encodeFloatGraph(graph, options);
}

// Pruning, in place: gradual while fine-tuning when there are examples, else one shot.
export async function pruneLayersModel(model: tf.LayersModel, options: ConvertOptions): Promise<void> {
  const progress = options.progress ?? (() => {});
  const sparsity = options.sparsity ?? 0;
  if (options.fineTune && options.fineTune.epochs > 0 && sparsity > 0) {
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
}

// Clustering, in place, fine-tuned with the values shared on fineTune's examples.
async function clusterLayersModel(model: tf.LayersModel, options: ConvertOptions): Promise<void> {
  const progress = options.progress ?? (() => {});
  const epochs = options.clusterEpochs ?? 0;
  const ft = options.fineTune;
  if (epochs > 0 && !ft) throw new ConvertError('E_FINE_TUNE', 'fine-tuning the clusters needs labelled training examples');
  progress('cluster', 0);
  await clusterModel(model, {
    clusters: options.clusters!,
    ...(ft && epochs > 0 ? { fineTune: { x: ft.x, y: ft.y, epochs, batchSize: ft.batchSize } } : {}),
    onEpoch: (e, logs) => progress('cluster', (e + 1) / epochs, `epoch ${e + 1}/${epochs} loss ${logs.loss.toFixed(4)}`),
  });
  progress('cluster', 1);
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
      ...(sparsity > 0 ? { pruning: { sparsity, mode: options.pruneMode ?? 'layer', fineTuned: (options.fineTune?.epochs ?? 0) > 0 } } : {}),
      ...(options.clusters ? { clustering: { clusters: options.clusters, fineTuneEpochs: options.clusterEpochs ?? 0 } } : {}),
    },
    sharedScales: Boolean(options.clusters),
    pixelRule: options.pixelRule,
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
