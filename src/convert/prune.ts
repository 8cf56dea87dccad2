// Magnitude pruning of a TF.js Layers model's kernels: one shot, or gradually during
// fine-tuning with masks on a polynomial schedule (TF Model Optimization's
// PolynomialDecay: s(t) = s_f + (s_i − s_f)·(1 − t/T)^3).

import * as tf from '@tensorflow/tfjs';
import { ConvertError } from '../errors.js';

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
    if (cls === 'Conv2D' || cls === 'Dense') list.push({ layer: layer.name, weight: 'kernel', index: 0, count: w[0].size, protected: false });
    if (cls === 'LSTM') {
      list.push({ layer: layer.name, weight: 'kernel', index: 0, count: w[0].size, protected: false });
      list.push({ layer: layer.name, weight: 'recurrent_kernel', index: 1, count: w[1].size, protected: false });
    }
  }
  if (protect === 'auto' && list.length > 1) {
    const total = list.reduce((a, t) => a + t.count, 0);
    const first = list[0], last = list[list.length - 1];
    if (first.count < 0.05 * total) first.protected = true;
    if (last.count < 0.05 * total) last.protected = true;
  }
  return list;
}

// Thresholds: weights with |w| ≤ threshold become zero (per tensor).
function thresholds(model: tf.LayersModel, tensors: PrunedTensor[], sparsity: number, mode: PruneMode): number[] {
  const values = tensors.map((t) => Float32Array.from(model.getLayer(t.layer).getWeights()[t.index].dataSync() as Float32Array, Math.abs).sort());
  const cut = (sorted: Float32Array, k: number) => (k <= 0 ? -1 : sorted[Math.min(sorted.length, k) - 1]);
  if (mode === 'layer') return tensors.map((t, i) => (t.protected ? -1 : cut(values[i], Math.round(sparsity * t.count))));
  // global: one magnitude threshold over the unprotected tensors, sized so that the
  // zeros over all prunable weights reach the target
  const total = tensors.reduce((a, t) => a + t.count, 0);
  const pool = Float32Array.from(values.filter((_, i) => !tensors[i].protected).flatMap((v) => Array.from(v))).sort();
  const t = cut(pool, Math.round(sparsity * total));
  return tensors.map((x) => (x.protected ? -1 : t));
}

// Applies magnitude pruning in place; returns the masks (1 keep, 0 pruned).
export function pruneModel(model: tf.LayersModel, options: PruneOptions): { tensors: PrunedTensor[]; masks: tf.Tensor[] } {
  const { sparsity, mode = 'layer', protect = 'auto' } = options;
  if (!(sparsity >= 0 && sparsity < 1)) throw new ConvertError('E_SPARSITY', `sparsity must be at least 0 and below 1, got ${sparsity}`);
  const tensors = prunableTensors(model, protect);
  const cuts = thresholds(model, tensors, sparsity, mode);
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
// re-applied after every batch so pruned weights stay zero.
export async function fineTunePruned(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, options: FineTuneOptions): Promise<void> {
  const batchSize = options.batchSize ?? 64;
  const steps = Math.ceil(x.shape[0] / batchSize) * options.epochs;
  const end = Math.max(1, Math.floor(0.75 * steps));
  const frequency = options.frequency ?? Math.max(1, Math.floor(end / 20));
  const s0 = options.initialSparsity ?? 0;
  const target = (step: number) => options.sparsity + (s0 - options.sparsity) * (1 - Math.min(step, end) / end) ** 3;
  let step = 0;
  let masks = pruneModel(model, { ...options, sparsity: target(0) }).masks;
  model.compile({ optimizer: tf.train.adam(options.learningRate ?? 1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
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
  // end exactly at the target
  masks.forEach((m) => m.dispose());
  pruneModel(model, options).masks.forEach((m) => m.dispose());
}
