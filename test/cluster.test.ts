import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/runtime/cli/main.js';
import { loadModel } from '../src/runtime/node.js';
import { clusterModel, kmeans1d, recentre, sharedValues } from '../src/toolchain/convert/cluster.js';
import { convertLayersModel } from '../src/toolchain/convert/convert.js';
import { quantizeRows } from '../src/toolchain/convert/quantize.js';
import { distillTargets, prunableTensors } from '../src/toolchain/convert/prune.js';
import { rng } from './helpers/quant.js';

// Weight clustering (src/toolchain/convert/cluster.ts): k-means per weight tensor, the
// values kept shared while fine-tuning, one scale per clustered tensor so that the int8
// codes stay shared.

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const MNIST_CNN = join(FIXTURES, 'keras-mnist-cnn', 'model.json');

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.enableProdMode();
});

const distinct = (v: ArrayLike<number>) => new Set(Array.from(v).filter((x) => x !== 0)).size;

function randomWeights(n: number, seed: number, zeros = 0): Float32Array {
  const r = rng(seed);
  // a weight distribution with a long tail, as trained kernels have
  return Float32Array.from({ length: n }, () => (r() < zeros ? 0 : (r() - 0.5) * (r() < 0.1 ? 4 : 1)));
}

describe('k-means over a tensor', () => {
  for (const [n, k, zeros] of [[1000, 16, 0], [5000, 32, 0.9], [300, 8, 0.5], [40, 16, 0], [10, 16, 0]] as const) {
    it(`${n} weights, ${k} clusters, ${zeros * 100} % zeros: at most k shared values, zeros kept, each weight at its nearest centroid`, () => {
      const w = randomWeights(n, n + k, zeros);
      const c = kmeans1d(w, k);
      const v = sharedValues(c);
      expect(c.centroids.length).toBeLessThanOrEqual(Math.min(k, distinct(w)));
      expect(c.centroids.length).toBeGreaterThan(0);
      expect(distinct(v)).toBe(c.centroids.length); // every centroid has members
      for (let i = 0; i < n; i++) {
        expect(v[i] === 0).toBe(w[i] === 0); // pruned weights stay zero, no weight becomes zero
        if (w[i] === 0) continue;
        const d = Math.abs(w[i] - v[i]);
        for (const cc of c.centroids) expect(d).toBeLessThanOrEqual(Math.abs(w[i] - cc) + 1e-7);
      }
      for (let j = 1; j < c.centroids.length; j++) expect(c.centroids[j]).toBeGreaterThan(c.centroids[j - 1]);
      if (distinct(w) <= k) expect(Array.from(v)).toEqual(Array.from(w)); // as many clusters as values: exact
    });
  }

  it('converges to the means of its clusters (a fixed point of Lloyd\'s step) and lowers the error against fewer clusters', () => {
    const w = randomWeights(4000, 7, 0.3);
    const err = (k: number) => { const v = sharedValues(kmeans1d(w, k)); return w.reduce((s, x, i) => s + (x - v[i]) ** 2, 0); };
    const c = kmeans1d(w, 16);
    for (let j = 0; j < c.centroids.length; j++) {
      const members = Array.from(w).filter((_, i) => c.assignment[i] === j);
      expect(c.centroids[j]).toBeCloseTo(members.reduce((a, b) => a + b, 0) / members.length, 5);
    }
    expect(err(32)).toBeLessThan(err(16));
    expect(err(16)).toBeLessThan(err(4));
  });

  it('recentre moves each centroid to the mean of its members\' values', () => {
    const w = Float32Array.of(1, 1.2, 0, -1, -1.4, 5);
    const c = kmeans1d(w, 3);
    expect(Array.from(c.centroids)).toEqual([Math.fround(-1.2), Math.fround(1.1), 5]);
    recentre(c, Float32Array.of(1.5, 1.7, 9, -1, -1, 4)); // the pruned weight's value is ignored
    expect(Array.from(c.centroids)).toEqual([-1, Math.fround(1.6), 4]);
  });
});

describe('quantizing clustered weights', () => {
  it('one scale per tensor keeps k shared values as k int8 codes; per-row scales do not', () => {
    const rows = 32, cols = 72;
    const w = sharedValues(kmeans1d(randomWeights(rows * cols, 3, 0.6), 16));
    const shared = quantizeRows(w, rows, cols, true);
    expect(new Set(shared.scales).size).toBe(1);
    expect(distinct(shared.codes)).toBeLessThanOrEqual(16);
    expect(distinct(quantizeRows(w, rows, cols).codes)).toBeGreaterThan(16);
  });
});

describe('clustering a model', () => {
  const model = () => {
    const m = tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ] });
    return m;
  };

  it('fine-tunes with the values shared: every kernel keeps at most k values, its zeros stay zero, and the loss falls', async () => {
    const m = model();
    const r = rng(5);
    const x = tf.tensor4d(Float32Array.from({ length: 64 * 64 }, () => r()), [64, 8, 8, 1]);
    const y = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 3), 'float32');
    // prune half of the dense kernel by hand: clustering must keep those zeros
    const dense = m.layers[2];
    const [k0, b0] = dense.getWeights();
    const pruned = (k0.dataSync() as Float32Array).map((v, i) => (i % 2 ? 0 : v));
    dense.setWeights([tf.tensor(pruned, k0.shape), b0]);
    const losses: number[] = [];
    const { tensors, clusters } = await clusterModel(m, { clusters: 4, fineTune: { x, y, epochs: 6, batchSize: 16, learningRate: 0.01 }, onEpoch: (_, l) => losses.push(l.loss) });
    expect(tensors.map((t) => t.layer)).toEqual([m.layers[0].name, dense.name]);
    for (const [i, t] of tensors.entries()) {
      const v = m.getLayer(t.layer).getWeights()[t.index].dataSync() as Float32Array;
      expect(distinct(v)).toBeLessThanOrEqual(4);
      expect(Array.from(v)).toEqual(Array.from(sharedValues(clusters[i]))); // the model holds the shared values
    }
    const after = dense.getWeights()[0].dataSync() as Float32Array;
    for (let i = 1; i < after.length; i += 2) expect(after[i]).toBe(0);
    expect(losses.at(-1)!).toBeLessThan(losses[0]);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('fine-tunes towards a teacher (--distill\'s targets): the loss against the soft targets falls', async () => {
    const teacher = model();
    const m = model();
    m.setWeights(teacher.getWeights().map((w) => w.mul(0.5)));
    const r = rng(8);
    const x = tf.tensor4d(Float32Array.from({ length: 64 * 64 }, () => r()), [64, 8, 8, 1]);
    const labels = Array.from({ length: 64 }, (_, i) => i % 3);
    const y = distillTargets(labels, (teacher.predict(x) as tf.Tensor).dataSync() as Float32Array, 3);
    const losses: number[] = [];
    await clusterModel(m, { clusters: 8, fineTune: { x, y, epochs: 6, batchSize: 16, learningRate: 0.01 }, onEpoch: (_, l) => losses.push(l.loss) });
    expect(losses.at(-1)!).toBeLessThan(losses[0]);
    tf.dispose([x, y]);
    m.dispose();
    teacher.dispose();
  });

  it('converts to a file whose weight tensors hold at most k int8 values each', async () => {
    const m = model();
    const r = rng(6);
    const calibration = tf.tensor4d(Float32Array.from({ length: 32 * 64 }, () => r()), [32, 8, 8, 1]);
    const { model: edgeq } = await convertLayersModel(m, { name: 't', calibration, clusters: 5 });
    const weighted = edgeq.layers.filter((l) => 'weights' in l) as { weights: Int8Array; weightScales: Float32Array }[];
    expect(weighted).toHaveLength(2);
    for (const l of weighted) {
      expect(distinct(l.weights)).toBeLessThanOrEqual(5);
      expect(new Set(l.weightScales).size).toBe(1);
    }
    expect(edgeq.metadata.clustering).toEqual({ clusters: 5, fineTuneEpochs: 0 });
    calibration.dispose();
    m.dispose();
  });

  it('takes the input and recurrent kernels of an LSTM', () => {
    const m = tf.sequential({ layers: [tf.layers.lstm({ inputShape: [5, 3], units: 4 }), tf.layers.dense({ units: 2 })] });
    expect(prunableTensors(m, 'none').map((t) => t.weight)).toEqual(['kernel', 'recurrent_kernel', 'kernel']);
    m.dispose();
  });
});

describe('edgeq convert --clusters', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeq-cluster-'));
  const cli = async (...argv: string[]) => {
    let out = '', err = '';
    const code = await main(argv, { out: (s) => { out += `${s}\n`; }, err: (s) => { err += `${s}\n`; } });
    return { code, out, err };
  };

  it('sweeps sparsity × clusters: one file per point, clustered files smaller at the same sparsity', async () => {
    const res = await cli('convert', MNIST_CNN, '--out', join(dir, 'cnn.edgeq'), '--calibration', 'mnist', '--calibration-size', '64', '--eval', 'mnist', '--eval-size', '300',
      '--sweep', '0.5,0.9', '--clusters', '16,0', '--fine-tune-size', '128', '--cluster-fine-tune', '1');
    expect(res.code, res.err).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'size-vs-accuracy.json'), 'utf8'));
    expect(report.points.map((p: { sparsity: number; clusters: number }) => [p.sparsity, p.clusters])).toEqual([[0.5, 0], [0.5, 16], [0.9, 0], [0.9, 16]]);
    expect(report.clusterFineTune).toBe(1);
    for (const p of report.points) {
      expect(p.out).toBe(join(dir, `cnn-sparsity-${100 * p.sparsity}${p.clusters ? `-clusters-${p.clusters}` : ''}.edgeq`));
      const m = await loadModel(readFileSync(p.out));
      expect(m.metadata.clustering).toEqual(p.clusters ? { clusters: 16, fineTuneEpochs: 1 } : undefined);
      m.dispose();
    }
    const [a0, a16, b0, b16] = report.points;
    expect(a16.edgeqBytes).toBeLessThan(a0.edgeqBytes);
    expect(b16.edgeqBytes).toBeLessThan(b0.edgeqBytes);
    expect(b16.measuredSparsity).toBeCloseTo(b0.measuredSparsity, 2); // the same pruned weights, clustered
    expect(a16.int8Accuracy).toBeGreaterThan(report.floatAccuracy - 0.05);
    expect(res.out).toMatch(/sparsity +90\.00% +clusters +16 +.*cnn-sparsity-90-clusters-16\.edgeq/);
  });

  it('refuses bad cluster counts (exit 2) and --cluster-fine-tune without --clusters (exit 1), writing nothing', async () => {
    const out = join(dir, 'bad', 'never.edgeq');
    const base = ['convert', MNIST_CNN, '--out', out, '--calibration', 'mnist'];
    for (const [extra, message] of [
      [['--clusters', '1'], /whole numbers from 2 to 255, got '1'/],
      [['--clusters', '256'], /got '256'/],
      [['--clusters', '0'], /got '0'/],
      [['--clusters', '16.5'], /got '16\.5'/],
      [['--clusters', '16,32'], /one number \(a list only with --sweep\)/],
      [['--sweep', '0.5', '--eval', 'mnist', '--clusters', '0,1'], /\(or 0: not clustered\), got '1'/],
    ] as [string[], RegExp][]) {
      const res = await cli(...base, ...extra);
      expect(res.code, extra.join(' ')).toBe(2);
      expect(res.err, extra.join(' ')).toMatch(message);
    }
    const res = await cli(...base, '--cluster-fine-tune', '1');
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/--cluster-fine-tune needs --clusters/);
    const distill = await cli(...base, '--distill', '--clusters', '16');
    expect(distill.code).toBe(1);
    expect(distill.err).toMatch(/--distill needs --fine-tune \(or --cluster-fine-tune\)/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });
});
