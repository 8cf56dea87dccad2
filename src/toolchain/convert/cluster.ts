// Weight clustering (Deep Compression's weight sharing, Han et al. 2016 §3): each
// kernel's non-zero weights are replaced by the nearest of k shared values, found by
// k-means, then fine-tuned with the values shared. Pruned weights stay exactly zero and
// are not a cluster. The quantizer then gives every clustered tensor one scale
// (quantize.ts, sharedScales), so its int8 codes take at most k non-zero values and the
// writer's codebook encoding (docs/FORMAT.md, encoding 3) stores an index per weight.

import * as tf from '@tensorflow/tfjs';
import { ConvertError } from '../../runtime/errors.js';
import type { FloatGraph } from './graph.js';
import { fineTuneLoss, graphKernels, prunableTensors, type PrunedTensor } from './prune.js';

export const MAX_CLUSTERS = 255; // the codebook encoding's limit (non-zero entries)

export interface Clusters {
  centroids: Float32Array; // sorted ascending
  assignment: Int16Array; // per weight: its centroid, or −1 for a zero (pruned) weight
}

// 1-D k-means (Lloyd) over the non-zero values. Centroids start evenly spaced between
// the smallest and the largest value: the linear initialization Deep Compression found
// best, because it keeps centroids on the rare large weights that matter most
// (density-based starts put nearly all of them near zero). In one dimension the
// clusters are intervals of the sorted values, so each pass is one sweep.
export function kmeans1d(values: Float32Array, k: number, iterations = 50): Clusters {
  const nz: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) nz.push(i);
  const assignment = new Int16Array(values.length).fill(-1);
  if (!nz.length) return { centroids: new Float32Array(0), assignment };
  const order = Float64Array.from(nz, (i) => values[i]).sort();
  const unique = order.filter((v, i) => i === 0 || v !== order[i - 1]);
  const lo = order[0], hi = order[order.length - 1];
  // no more values than clusters: each value is its own (exact, nothing to iterate)
  let c = unique.length <= k ? unique : Float64Array.from({ length: k }, (_, j) => (k === 1 ? (lo + hi) / 2 : lo + ((hi - lo) * j) / (k - 1)));
  for (let it = 0; it < iterations; it++) {
    const sum = new Float64Array(c.length), count = new Float64Array(c.length);
    let j = 0;
    for (const v of order) {
      while (j + 1 < c.length && v > (c[j] + c[j + 1]) / 2) j++;
      sum[j] += v;
      count[j]++;
    }
    // an empty cluster is dropped: fewer shared values, never a value nothing uses
    const next = Array.from(c, (_, i) => (count[i] ? sum[i] / count[i] : NaN)).filter((v) => !Number.isNaN(v));
    const moved = next.length !== c.length || next.some((v, i) => Math.abs(v - c[i]) > 1e-12 * (Math.abs(v) + 1e-30));
    c = Float64Array.from(next);
    if (!moved) break;
  }
  const centroids = Float32Array.from(c);
  for (const i of nz) assignment[i] = nearest(centroids, values[i]);
  return { centroids, assignment };
}

function nearest(sorted: Float32Array, v: number): number {
  let best = 0;
  for (let j = 1; j < sorted.length; j++) if (Math.abs(sorted[j] - v) < Math.abs(sorted[best] - v)) best = j;
  return best;
}

// w[i] = centroid of i's cluster (0 for pruned weights).
export function sharedValues(c: Clusters): Float32Array {
  return Float32Array.from(c.assignment, (a) => (a < 0 ? 0 : c.centroids[a]));
}

// Each centroid becomes the mean of its members' current values: after an optimizer
// step on every weight, this is the step of the shared value with its members'
// gradients pooled (Deep Compression sums them; the mean keeps the step size of one
// weight's, which Adam's per-weight normalization expects).
export function recentre(c: Clusters, w: Float32Array): void {
  const sum = new Float64Array(c.centroids.length), count = new Float64Array(c.centroids.length);
  for (let i = 0; i < w.length; i++) {
    const a = c.assignment[i];
    if (a >= 0) { sum[a] += w[i]; count[a]++; }
  }
  for (let j = 0; j < sum.length; j++) if (count[j]) c.centroids[j] = sum[j] / count[j];
}

export interface ClusterOptions {
  clusters: number; // shared values per tensor, 2 .. 255
  // fine-tuning with the values shared (absent: cluster only)
  fineTune?: { x: tf.Tensor; y: tf.Tensor; epochs: number; batchSize?: number; learningRate?: number };
  onEpoch?: (epoch: number, logs: { loss: number; acc?: number }) => void;
}

export function checkClusters(k: number): void {
  if (!Number.isInteger(k) || k < 2 || k > MAX_CLUSTERS) throw new ConvertError('E_CLUSTERS', `clusters must be a whole number from 2 to ${MAX_CLUSTERS} (shared values per weight tensor, e.g. 16 or 32), got ${k}`);
}

// Clusters every kernel pruning can touch (input and recurrent kernels of recurrent
// layers too, the small first layer and classifier included), in place; fine-tunes
// with the values shared when asked. Returns the tensors and their clusters.
export async function clusterModel(model: tf.LayersModel, options: ClusterOptions): Promise<{ tensors: PrunedTensor[]; clusters: Clusters[] }> {
  checkClusters(options.clusters);
  const tensors = prunableTensors(model, 'none');
  const read = (t: PrunedTensor) => model.getLayer(t.layer).getWeights()[t.index].dataSync() as Float32Array;
  const clusters = tensors.map((t) => kmeans1d(read(t), options.clusters));
  const write = () => tensors.forEach((t, i) => tf.tidy(() => {
    const layer = model.getLayer(t.layer);
    const w = layer.getWeights();
    layer.setWeights(w.map((v, j) => (j === t.index ? tf.tensor(sharedValues(clusters[i]), v.shape) : v)));
  }));
  write();
  const ft = options.fineTune;
  if (ft && ft.epochs > 0) {
    // the model does not own an optimizer it is given: disposed here, with its moments
    const optimizer = tf.train.adam(ft.learningRate ?? 1e-4);
    model.compile({ optimizer, loss: fineTuneLoss(ft.y), metrics: ['accuracy'] });
    await model.fit(ft.x, ft.y, {
      epochs: ft.epochs, batchSize: ft.batchSize ?? 64, shuffle: true, verbose: 0,
      callbacks: {
        onBatchEnd: async () => {
          tensors.forEach((t, i) => recentre(clusters[i], read(t)));
          write();
        },
        onEpochEnd: async (epoch, logs) => { options.onEpoch?.(epoch, { loss: logs?.loss ?? NaN, acc: logs?.acc ?? logs?.accuracy }); },
      },
    });
    optimizer.dispose();
  }
  return { tensors, clusters };
}

// Clusters a float graph's kernels in place, without fine-tuning (models that only exist
// as graphs, e.g. TF.js Graph models; the tensors pruneFloatGraph prunes).
export function clusterFloatGraph(graph: FloatGraph, k: number): void {
  checkClusters(k);
  for (const t of graphKernels(graph)) t.set(sharedValues(kmeans1d(t, k)));
}
