// Magnitude pruning of a TF.js Layers model's kernels: one shot, or gradually during
// fine-tuning with masks on a polynomial schedule (TF Model Optimization's
// PolynomialDecay: s(t) = s_f + (s_i − s_f)·(1 − t/T)^3).

import * as tf from '@tensorflow/tfjs';
import { ConvertError } from '../../runtime/errors.js';
import type { FloatGraph } from './graph.js';

export type PruneMode = 'layer' | 'global';

export interface PruneOptions {
  sparsity: number; // fraction of prunable weights set to zero, 0 ≤ s < 1
  mode?: PruneMode; // 'layer' (default): each layer to `sparsity`; 'global': one threshold
  // keep small layers that accuracy depends on dense: the first weighted layer and the
  // classifier, when each holds under 5 % of the weights ('auto', default), or none
  protect?: 'auto' | 'none';
}

export interface PrunedTensor {
  layer: string;
  weight: string; // 'kernel' or 'recurrent_kernel'
  index: number; // in layer.getWeights()
  count: number;
  protected: boolean;
}

// The kernels pruning touches, in model order.
export function prunableTensors(model: tf.LayersModel, protect: 'auto' | 'none' = 'auto'): PrunedTensor[] {
  const list: PrunedTensor[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const w = layer.getWeights();
    if (cls === 'Conv2D' || cls === 'Conv1D' || cls === 'Dense') list.push({ layer: layer.name, weight: 'kernel', index: 0, count: w[0].size, protected: false });
    // recurrent layers: input and recurrent kernels; a Bidirectional holds both halves'
    // weights, the backward half's after the forward half's
    if (cls === 'LSTM' || cls === 'GRU' || cls === 'KerasGRU' || cls === 'Bidirectional') {
      for (const at of cls === 'Bidirectional' ? [0, w.length / 2] : [0]) {
        list.push({ layer: layer.name, weight: 'kernel', index: at, count: w[at].size, protected: false });
        list.push({ layer: layer.name, weight: 'recurrent_kernel', index: at + 1, count: w[at + 1].size, protected: false });
      }
    }
  }
  protectedTensors(list.map((t) => t.count), protect).forEach((p, i) => { list[i].protected = p; });
  return list;
}

// Magnitude thresholds, one per tensor: weights with |w| ≤ threshold become zero
// (−1: keep all). 'layer': each unprotected tensor to `sparsity`; 'global': one
// threshold over the unprotected tensors, sized so that the zeros over all tensors
// reach the target.
export function magnitudeThresholds(tensors: Float32Array[], protect: boolean[], sparsity: number, mode: PruneMode): number[] {
  const sorted = tensors.map((t) => Float32Array.from(t, Math.abs).sort());
  const cut = (s: Float32Array, k: number) => (k <= 0 ? -1 : s[Math.min(s.length, k) - 1]);
  if (mode === 'layer') return sorted.map((s, i) => (protect[i] ? -1 : cut(s, Math.round(sparsity * s.length))));
  const total = tensors.reduce((a, t) => a + t.length, 0);
  const pool = Float32Array.from(sorted.filter((_, i) => !protect[i]).flatMap((v) => Array.from(v))).sort();
  const t = cut(pool, Math.round(sparsity * total));
  return tensors.map((_, i) => (protect[i] ? -1 : t));
}

// Which of these weight tensors (in model order) 'auto' protection keeps dense: the
// first and the last when each holds under 5 % of all the weights.
export function protectedTensors(sizes: number[], protect: 'auto' | 'none'): boolean[] {
  const flags = sizes.map(() => false);
  if (protect === 'auto' && sizes.length > 1) {
    const total = sizes.reduce((a, b) => a + b, 0);
    if (sizes[0] < 0.05 * total) flags[0] = true;
    if (sizes[sizes.length - 1] < 0.05 * total) flags[sizes.length - 1] = true;
  }
  return flags;
}

// Applies magnitude pruning in place; returns the masks (1 keep, 0 pruned).
export function pruneModel(model: tf.LayersModel, options: PruneOptions): { tensors: PrunedTensor[]; masks: tf.Tensor[] } {
  const { sparsity, mode = 'layer', protect = 'auto' } = options;
  if (!(sparsity >= 0 && sparsity < 1)) throw new ConvertError('E_SPARSITY', `sparsity must be at least 0 and below 1, got ${sparsity}`);
  const tensors = prunableTensors(model, protect);
  const values = tensors.map((t) => model.getLayer(t.layer).getWeights()[t.index].dataSync() as Float32Array);
  const cuts = magnitudeThresholds(values, tensors.map((t) => t.protected), sparsity, mode);
  const masks = tensors.map((t, i) => tf.tidy(() => {
    const layer = model.getLayer(t.layer);
    const weights = layer.getWeights();
    const mask = tf.abs(weights[t.index]).greater(cuts[i]).cast('float32');
    layer.setWeights(weights.map((w, j) => (j === t.index ? w.mul(mask) : w)));
    return mask;
  }));
  return { tensors, masks };
}

export interface FineTuneOptions extends PruneOptions {
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  initialSparsity?: number; // default 0
  // recompute masks every this many batches (default: 1/20 of the schedule)
  frequency?: number;
  onEpoch?: (epoch: number, logs: { loss: number; acc?: number; sparsity: number }) => void;
}

// Gradual magnitude pruning while training: the sparsity follows the polynomial
// schedule over the first 3/4 of the steps and holds at the target after; masks are
// re-applied after every batch so pruned weights stay zero. Adam's rate is constant: a
// cosine decay to 1/100 over the hold did not help (Fashion-MNIST CNN at 95.5 % × 16
// clusters, 14 epochs: 90.28 % with it, 90.58 % without; models/README.md).
export async function fineTunePruned(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, options: FineTuneOptions): Promise<void> {
  const batchSize = options.batchSize ?? 64;
  const steps = Math.ceil(x.shape[0] / batchSize) * options.epochs;
  const end = Math.max(1, Math.floor(0.75 * steps));
  const frequency = options.frequency ?? Math.max(1, Math.floor(end / 20));
  const s0 = options.initialSparsity ?? 0;
  const target = (step: number) => options.sparsity + (s0 - options.sparsity) * (1 - Math.min(step, end) / end) ** 3;
  let step = 0;
  let masks = pruneModel(model, { ...options, sparsity: target(0) }).masks;
  // the model does not own an optimizer it is given: disposed at the end, with its moments
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  model.compile({ optimizer, loss: fineTuneLoss(y), metrics: ['accuracy'] });
  const tensors = prunableTensors(model, options.protect);
  await model.fit(x, y, {
    epochs: options.epochs, batchSize, shuffle: true, verbose: 0,
    callbacks: {
      onBatchEnd: async () => {
        step++;
        if (step % frequency === 0 || step === end) {
          masks.forEach((m) => m.dispose());
          masks = pruneModel(model, { ...options, sparsity: target(step) }).masks;
        } else {
          tensors.forEach((t, i) => tf.tidy(() => {
            const layer = model.getLayer(t.layer);
            const w = layer.getWeights();
            layer.setWeights(w.map((v, j) => (j === t.index ? v.mul(masks[i]) : v)));
          }));
        }
      },
      onEpochEnd: async (epoch, logs) => {
        options.onEpoch?.(epoch, { loss: logs?.loss ?? NaN, acc: logs?.acc ?? logs?.accuracy, sparsity: target(step) });
      },
    },
  });
  optimizer.dispose();
  // end exactly at the target
  masks.forEach((m) => m.dispose());
  pruneModel(model, options).masks.forEach((m) => m.dispose());
}

// Knowledge distillation's targets: per example, half the teacher's class probabilities
// and half the one-hot label, as [n, classes].
export function distillTargets(labels: ArrayLike<number>, teacher: Float32Array, classes: number): tf.Tensor2D {
  const t = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    if (!(Number.isInteger(labels[i]) && labels[i] >= 0 && labels[i] < classes)) throw new ConvertError('E_LABELS', `label ${labels[i]} of example ${i} is not a class of this model (0 to ${classes - 1})`);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += teacher[i * classes + c];
    if (!(Math.abs(sum - 1) < 1e-3)) throw new ConvertError('E_FINE_TUNE', `--distill needs a classifier whose outputs are probabilities (ending in softmax); its outputs for example ${i} sum to ${sum}`);
    for (let c = 0; c < classes; c++) t[i * classes + c] = 0.5 * teacher[i * classes + c];
    t[i * classes + labels[i]] += 0.5;
  }
  return tf.tensor2d(t, [labels.length, classes]);
}

// Fine-tuning's loss: labels as class indices ([n] or [n, 1]), or per-class targets
// ([n, classes], distillTargets).
export const fineTuneLoss = (y: tf.Tensor) => (y.rank === 2 && y.shape[1]! > 1 ? 'categoricalCrossentropy' : 'sparseCategoricalCrossentropy');

// A float graph's kernels that pruning and clustering change, in model order: conv,
// dense, and recurrent layers' input and recurrent kernels (views: changing them changes
// the graph).
export function graphKernels(graph: FloatGraph): Float32Array[] {
  return graph.layers.flatMap((l) => (l.type === 'conv2d' || l.type === 'conv1d' || l.type === 'dense' ? [l.weights] : l.type === 'lstm' || l.type === 'gru' ? [l.kernel, l.recurrent] : []));
}

// One-shot magnitude pruning of a float graph's kernels, in place (models that only
// exist as graphs, e.g. TF.js Graph models).
export function pruneFloatGraph(graph: FloatGraph, options: PruneOptions): void {
  const { sparsity, mode = 'layer', protect = 'auto' } = options;
  if (!(sparsity >= 0 && sparsity < 1)) throw new ConvertError('E_SPARSITY', `sparsity must be at least 0 and below 1, got ${sparsity}`);
  const tensors = graphKernels(graph);
  const cuts = magnitudeThresholds(tensors, protectedTensors(tensors.map((t) => t.length), protect), sparsity, mode);
  tensors.forEach((t, i) => { for (let j = 0; j < t.length; j++) if (Math.abs(t[j]) <= cuts[i]) t[j] = 0; });
}
