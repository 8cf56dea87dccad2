// The edge models people deploy (MLPerf Tiny's four, plus MobileNetV2 for the benchmark),
// in TF.js Layers, layer for layer as MLPerf Tiny's Keras reference code builds them
// (mlcommons/tiny: keras_model.py of each benchmark):
//   DS-CNN (keyword spotting, 49×10×1 MFCCs → 12): Conv2D 64 10×4 stride 2 same, BN, ReLU,
//     Dropout 0.2; 4 × [DepthwiseConv2D 3×3 same, BN, ReLU, Conv2D 64 1×1, BN, ReLU];
//     Dropout 0.4; AveragePooling2D 25×5; Flatten; Dense 12 softmax.       2,656,768 MACs
//   MobileNetV1 width 0.25 (visual wake words, 96×96×3 RGB 0–1 → 2): Conv2D 8 3×3 stride 2
//     same, BN, ReLU; 13 × [DepthwiseConv2D 3×3 (stride s) same, BN, ReLU, Conv2D 1×1, BN,
//     ReLU]; AveragePooling2D 3×3; Flatten; Dense 2 softmax.
//   ResNet-8 (image classification, 32×32×3 → 10): Conv2D 16, BN, ReLU; three stacks of
//     [Conv (stride s), BN, ReLU, Conv, BN] + identity or 1×1 stride-2 projection, add,
//     ReLU; AveragePooling2D 8×8; Flatten; Dense 10 softmax.
//   Dense autoencoder (anomaly detection, 640 = 5 frames × 128 log-mel bins → 640):
//     4 × [Dense 128, BN, ReLU], Dense 8, BN, ReLU, 4 × [Dense 128, BN, ReLU], Dense 640.
//
// No dataset for them is on the project's machines. DS-CNN and MobileNetV1 are trained on
// the stand-in tasks below (models/make-edge.ts; their float files are in models/float/).
// buildEdgeModel builds the others without training: every kernel is He-normal (MLPerf Tiny's initializer) from a seed, and every batch
// normalization gets statistics measured on seeded stand-in inputs in one forward pass,
// then perturbed (as a trained model's moving averages differ from the batch at hand),
// with seeded gamma and beta. Measured statistics keep every layer's activations near
// unit scale, so int8 ranges are as a trained model's would be, and nothing folds to a
// no-op. Only the last layer is fitted, in closed form, to a stand-in task on the same
// inputs (fitHead): the classifiers' to stand-in classes, so that predictions spread over
// the classes (agreement tests can fail) with margins like a trained head's; the
// autoencoder's to reconstruct its inputs.
// Deterministic: the same seed builds the same weights (statistics are rounded to four
// significant digits so that TF.js backends, which differ in the last float bits, agree).

import type * as tfType from '@tensorflow/tfjs';
import { rng } from '../src/runtime/rng.js';

type TF = typeof tfType;
type Sym = tfType.SymbolicTensor;

export type EdgeModelName = 'ds-cnn-kws' | 'mobilenet-v1-0.25-vww' | 'resnet-8' | 'autoencoder-ad' | 'mobilenet-v2-1.0-224';

export interface EdgeModelSpec {
  name: EdgeModelName;
  title: string;
  shape: number[]; // one input, without the batch axis
  classes: number | null; // null: regression (the autoencoder's reconstruction)
  shipped: boolean; // a models/edge/<name>.edgeq file (MobileNetV2: benchmark only)
}

export const EDGE_MODELS: readonly EdgeModelSpec[] = [
  { name: 'ds-cnn-kws', title: 'DS-CNN keyword spotting (49×10×1)', shape: [49, 10, 1], classes: 12, shipped: true },
  { name: 'mobilenet-v1-0.25-vww', title: 'MobileNetV1-0.25 visual wake words (96×96×3)', shape: [96, 96, 3], classes: 2, shipped: true },
  { name: 'resnet-8', title: 'ResNet-8 (32×32×3)', shape: [32, 32, 3], classes: 10, shipped: true },
  { name: 'autoencoder-ad', title: 'autoencoder, anomaly detection (640)', shape: [640], classes: null, shipped: true },
  { name: 'mobilenet-v2-1.0-224', title: 'MobileNetV2 1.0 (224×224×3)', shape: [224, 224, 3], classes: 1000, shipped: false },
];

export const edgeSpec = (name: EdgeModelName): EdgeModelSpec => EDGE_MODELS.find((m) => m.name === name)!;

// The seeds: weights, the inputs batch-norm statistics are measured on, the converter's
// calibration inputs (models/make-edge.ts) and the test's inputs (test/edge-models.test.ts)
// are different draws, and so are the trained models' training examples.
export const SEEDS = { weights: 1, statistics: 2, calibration: 3, test: 4, train: 5 } as const;


function gauss(r: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

// ---------------------------------------------------------------- stand-in inputs
//
// A stand-in task per classifier: each class is a template (drawn once per model from a
// fixed seed), each input a random draw around its class's template (jitter of place,
// colour, timing, loudness; texture and noise of its own), so that inputs form classes
// as real ones do, with some near the boundaries. The sample seed draws the class and the
// jitter; the templates are the same for every seed.

const TEMPLATE_SEED = 1000;

// Images in 0–1: a colour gradient, two soft blobs and a texture (sinusoids from coarse to
// fine, amplitude falling as 1/f like photographs', around an orientation), all from the
// class's template, jittered; plus a distractor blob half the time and a little noise.
function images(n: number, h: number, w: number, c: number, classes: number, seed: number, templateSeed: number): { x: Float32Array; labels: Int32Array } {
  const t = rng(templateSeed);
  const templates = Array.from({ length: classes }, () => ({
    base: Array.from({ length: c }, () => [0.2 + 0.6 * t(), (t() - 0.5) * 0.8, (t() - 0.5) * 0.8]),
    blobs: Array.from({ length: 2 }, () => ({ y: t() * h, x: t() * w, s: (h / 12 + t() * h / 4) ** 2, a: Array.from({ length: c }, () => (t() - 0.5) * 1.2) })),
    angle: t() * Math.PI, contrast: 0.05 + 0.2 * t(), slope: 0.5 + t(),
  }));
  const r = rng(seed), g = gauss(r);
  const x = new Float32Array(n * h * w * c);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * classes);
    labels[i] = k;
    const T = templates[k];
    const base = T.base.map(([a, by, bx]) => [a + 0.06 * g(), by + 0.06 * g(), bx + 0.06 * g()]);
    const blobs = T.blobs.map((b) => ({ y: b.y + g() * h / 16, x: b.x + g() * w / 16, s: b.s * (0.8 + 0.4 * r()), a: b.a.map((v) => v * (0.8 + 0.4 * r())) }));
    if (r() < 0.3) blobs.push({ y: r() * h, x: r() * w, s: (h / 16 + r() * h / 8) ** 2, a: Array.from({ length: c }, () => (r() - 0.5) * 0.5) });
    const waves = Array.from({ length: 16 }, (_, q) => {
      const f = 2 ** (q / 3) / Math.max(h, w) * 2 * Math.PI, th = T.angle + g() * 0.3; // 1 … 32 cycles per image side
      return { fy: f * Math.sin(th), fx: f * Math.cos(th), ph: r() * 2 * Math.PI, a: T.contrast * (2 ** (-q / 3)) ** T.slope * (0.5 + r()) };
    });
    // separable: sin(a + b) = sin a cos b + cos a sin b; a blob's Gaussian = row × column
    const sy = waves.map((q) => Float64Array.from({ length: h }, (_, y) => Math.sin(q.fy * y)));
    const cy = waves.map((q) => Float64Array.from({ length: h }, (_, y) => Math.cos(q.fy * y)));
    const sx = waves.map((q) => Float64Array.from({ length: w }, (_, xx) => q.a * Math.sin(q.fx * xx + q.ph)));
    const cx = waves.map((q) => Float64Array.from({ length: w }, (_, xx) => q.a * Math.cos(q.fx * xx + q.ph)));
    const by = blobs.map((b) => Float64Array.from({ length: h }, (_, y) => Math.exp(-((y - b.y) ** 2) / (2 * b.s))));
    const bx = blobs.map((b) => Float64Array.from({ length: w }, (_, xx) => Math.exp(-((xx - b.x) ** 2) / (2 * b.s))));
    for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
      let tex = 0;
      for (let q = 0; q < waves.length; q++) tex += sy[q][y] * cx[q][xx] + cy[q][y] * sx[q][xx];
      const o = ((i * h + y) * w + xx) * c;
      for (let ch = 0; ch < c; ch++) {
        let v = base[ch][0] + base[ch][1] * (y / h - 0.5) + base[ch][2] * (xx / w - 0.5) + tex + 0.02 * g();
        for (let k2 = 0; k2 < blobs.length; k2++) v += blobs[k2].a[ch] * by[k2][y] * bx[k2][xx];
        x[o + ch] = Math.min(1, Math.max(0, v));
      }
    }
  }
  return { x, labels };
}

// MFCC-like fields, 49 frames × 10 coefficients: each coefficient a smooth (AR(1)) series
// whose spread falls with its order around a speaker's means; a word of the class: two
// syllables, each a burst of energy (c0) with the class's spectral shape (c1–c9), at the
// class's timing, jittered in time, length and loudness.
function mfccs(n: number, classes: number, seed: number, templateSeed: number): { x: Float32Array; labels: Int32Array } {
  const t = rng(templateSeed);
  const templates = Array.from({ length: classes }, () => Array.from({ length: 2 }, (_, j) => ({
    t0: 10 + j * 14 + t() * 10, width: 2 + t() * 5, shape: Array.from({ length: 10 }, (_, k) => (k === 0 ? 20 + 20 * t() : (t() - 0.5) * 40 / k)),
  })));
  const r = rng(seed), g = gauss(r);
  const x = new Float32Array(n * 490);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * classes);
    labels[i] = k;
    const shift = g() * 1.5, stretch = 0.9 + 0.2 * r(), loud = 0.8 + 0.4 * r();
    const syllables = templates[k].map((q) => ({ t0: 24 + (q.t0 - 24) * stretch + shift, width: q.width * stretch, shape: q.shape.map((v) => v * loud + g()) }));
    const mean = Array.from({ length: 10 }, (_, c) => (c === 0 ? -30 + g() * 3 : g() * 2 / (1 + c)));
    const s = new Float64Array(10);
    for (let c = 0; c < 10; c++) s[c] = g();
    for (let f = 0; f < 49; f++) {
      for (let c = 0; c < 10; c++) {
        s[c] = 0.8 * s[c] + 0.6 * g();
        let v = mean[c] + s[c] * 3 / (1 + c);
        for (const q of syllables) v += q.shape[c] * Math.exp(-(((f - q.t0) / q.width) ** 2));
        x[i * 490 + f * 10 + c] = v;
      }
    }
  }
  return { x, labels };
}

// Log-mel-like frames, 5 × 128 bins in dB: a tilted spectral envelope with a few smooth
// resonances (a machine's hum and harmonics), a gain per frame, noise correlated across
// neighbouring bins.
function logMels(n: number, seed: number): Float32Array {
  const r = rng(seed), g = gauss(r);
  const out = new Float32Array(n * 640);
  for (let i = 0; i < n; i++) {
    const level = -25 + g() * 6, tilt = -15 - r() * 25;
    const peaks = Array.from({ length: 1 + Math.floor(r() * 4) }, () => ({ m: r() * 128, w: 2 + r() * 12, a: 5 + r() * 20 }));
    for (let f = 0; f < 5; f++) {
      const gain = g() * 2;
      let e = 0;
      for (let m = 0; m < 128; m++) {
        e = 0.7 * e + 0.7 * g();
        let v = level + tilt * (m / 128) + gain + 1.5 * e;
        for (const p of peaks) v += p.a * Math.exp(-(((m - p.m) / p.w) ** 2));
        out[i * 640 + f * 128 + m] = v;
      }
    }
  }
  return out;
}

// n stand-in inputs for a model, flattened ([n, ...shape]), from a seed, with their
// classes (the autoencoder's: all 0).
export function edgeExamples(name: EdgeModelName, n: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const index = EDGE_MODELS.findIndex((m) => m.name === name);
  const spec = EDGE_MODELS[index];
  const s = seed * 7919 + index, ts = TEMPLATE_SEED + index;
  if (name === 'ds-cnn-kws') return mfccs(n, spec.classes!, s, ts);
  if (name === 'autoencoder-ad') return { x: logMels(n, s), labels: new Int32Array(n) };
  const [h, w, c] = spec.shape;
  return images(n, h, w, c, spec.classes!, s, ts);
}

export const edgeInputs = (name: EdgeModelName, n: number, seed: number): Float32Array => edgeExamples(name, n, seed).x;

// ---------------------------------------------------------------- architectures

// Layers named by a counter, not TF.js's global one, so that two builds are the same model.
class Builder {
  private k = 0;
  constructor(readonly tf: TF, private seed: number) {}
  private id(kind: string): string { return `${kind}_${++this.k}`; }
  private he(): ReturnType<TF["initializers"]["heNormal"]> { return this.tf.initializers.heNormal({ seed: this.seed * 1000 + this.k }); }
  conv(x: Sym, filters: number, kernel: number | [number, number], strides = 1, useBias = true, padding: 'same' | 'valid' = 'same'): Sym {
    return this.tf.layers.conv2d({ name: this.id('conv'), filters, kernelSize: kernel, strides, padding, useBias, kernelInitializer: this.he() }).apply(x) as Sym;
  }
  depthwise(x: Sym, strides = 1, padding: 'same' | 'valid' = 'same', useBias = true): Sym {
    return this.tf.layers.depthwiseConv2d({ name: this.id('depthwise'), kernelSize: 3, strides, padding, useBias, depthwiseInitializer: this.he() }).apply(x) as Sym;
  }
  dense(x: Sym, units: number, activation?: 'softmax'): Sym {
    return this.tf.layers.dense({ name: this.id('dense'), units, activation, kernelInitializer: this.he() }).apply(x) as Sym;
  }
  bn(x: Sym): Sym { return this.tf.layers.batchNormalization({ name: this.id('bn') }).apply(x) as Sym; }
  relu(x: Sym, maxValue?: number): Sym { return this.tf.layers.reLU({ name: this.id('relu'), maxValue }).apply(x) as Sym; }
  bnRelu(x: Sym): Sym { return this.relu(this.bn(x)); }
  dropout(x: Sym, rate: number): Sym { return this.tf.layers.dropout({ name: this.id('dropout'), rate }).apply(x) as Sym; }
  avgPool(x: Sym, pool: [number, number]): Sym { return this.tf.layers.averagePooling2d({ name: this.id('avgpool'), poolSize: pool }).apply(x) as Sym; }
  flatten(x: Sym): Sym { return this.tf.layers.flatten({ name: this.id('flatten') }).apply(x) as Sym; }
  add(a: Sym, b: Sym): Sym { return this.tf.layers.add({ name: this.id('add') }).apply([a, b]) as Sym; }
  pad(x: Sym): Sym { return this.tf.layers.zeroPadding2d({ name: this.id('pad'), padding: [[0, 1], [0, 1]] }).apply(x) as Sym; }
}

function dsCnn(b: Builder, input: Sym): Sym {
  let x = b.dropout(b.bnRelu(b.conv(input, 64, [10, 4], 2)), 0.2);
  for (let i = 0; i < 4; i++) x = b.bnRelu(b.conv(b.bnRelu(b.depthwise(x)), 64, 1));
  return b.dense(b.flatten(b.avgPool(b.dropout(x, 0.4), [25, 5])), 12, 'softmax');
}

function mobileNetV1(b: Builder, input: Sym): Sym {
  let x = b.bnRelu(b.conv(input, 8, 3, 2));
  const blocks: [number, number][] = [[1, 16], [2, 32], [1, 32], [2, 64], [1, 64], [2, 128], [1, 128], [1, 128], [1, 128], [1, 128], [1, 128], [2, 256], [1, 256]];
  for (const [s, f] of blocks) x = b.bnRelu(b.conv(b.bnRelu(b.depthwise(x, s)), f, 1));
  return b.dense(b.flatten(b.avgPool(x, [3, 3])), 2, 'softmax');
}

function resNet8(b: Builder, input: Sym): Sym {
  let x = b.bnRelu(b.conv(input, 16, 3));
  for (const [filters, s] of [[16, 1], [32, 2], [64, 2]]) {
    const y = b.bn(b.conv(b.bnRelu(b.conv(x, filters, 3, s)), filters, 3));
    x = b.relu(b.add(s === 1 ? x : b.conv(x, filters, 1, s), y));
  }
  return b.dense(b.flatten(b.avgPool(x, [8, 8])), 10, 'softmax');
}

function autoencoder(b: Builder, input: Sym): Sym {
  let x = input;
  for (const units of [128, 128, 128, 128, 8, 128, 128, 128, 128]) x = b.bnRelu(b.dense(x, units));
  return b.dense(x, 640);
}

// MobileNetV2 1.0 at 224×224 (≈ 300 M MACs), as Keras builds it: zero padding before
// each stride-2 depthwise conv, ReLU6, linear bottlenecks, residual adds.
function mobileNetV2(b: Builder, input: Sym): Sym {
  const bn6 = (x: Sym) => b.relu(b.bn(x), 6);
  let x = bn6(b.conv(b.pad(input), 32, 3, 2, false, 'valid'));
  let channels = 32;
  for (const [t, c, n, s] of [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      let y = x;
      if (t !== 1) y = bn6(b.conv(y, channels * t, 1, 1, false));
      y = bn6(stride === 2 ? b.depthwise(b.pad(y), 2, 'valid', false) : b.depthwise(y, 1, 'same', false));
      y = b.bn(b.conv(y, c, 1, 1, false));
      x = stride === 1 && channels === c ? b.add(x, y) : y;
      channels = c;
    }
  }
  x = bn6(b.conv(x, 1280, 1, 1, false));
  x = b.tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Sym;
  return b.dense(x, 1000, 'softmax');
}

const ARCHS: Record<EdgeModelName, (b: Builder, input: Sym) => Sym> = {
  'ds-cnn-kws': dsCnn, 'mobilenet-v1-0.25-vww': mobileNetV1, 'resnet-8': resNet8, 'autoencoder-ad': autoencoder, 'mobilenet-v2-1.0-224': mobileNetV2,
};

// The architecture with He-normal kernels and TF.js's default batch normalization (the
// identity, near enough): what setStatistics starts from.
export function edgeArchitecture(tf: TF, name: EdgeModelName, seed: number = SEEDS.weights): tfType.LayersModel {
  const spec = edgeSpec(name);
  const b = new Builder(tf, seed);
  const input = tf.input({ name: 'input', shape: spec.shape });
  return tf.model({ name: name.replace(/\W/g, '_'), inputs: input, outputs: ARCHS[name](b, input) });
}

const round4 = (v: number) => Math.fround(Number(v.toPrecision(4)));

// The last layer fitted in closed form on the statistics inputs' features h (n × d):
// a classifier by diagonal linear discriminant analysis (class means over the pooled
// within-class variance of each feature), the autoencoder's output by ridge regression
// of the inputs on h (its reconstruction, bias the mean input).
function fitHead(h: Float32Array, n: number, labels: Int32Array, classes: number | null, target: Float32Array): { w: Float32Array; b: Float32Array } {
  const d = h.length / n;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += h[i * d + j] / n;
  if (classes !== null) {
    const mc = Array.from({ length: classes }, () => new Float64Array(d)), count = new Float64Array(classes);
    for (let i = 0; i < n; i++) { count[labels[i]]++; for (let j = 0; j < d; j++) mc[labels[i]][j] += h[i * d + j]; }
    mc.forEach((m, c) => m.forEach((_, j) => { m[j] /= Math.max(1, count[c]); }));
    const v = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) v[j] += (h[i * d + j] - mc[labels[i]][j]) ** 2 / n;
    const floor = 1e-3 * (v.reduce((a, x) => a + x, 0) / d) + 1e-12;
    const w = new Float32Array(d * classes), b = new Float32Array(classes);
    for (let c = 0; c < classes; c++) {
      let bias = 0;
      for (let j = 0; j < d; j++) {
        const wj = (mc[c][j] - mean[j]) / (v[j] + floor);
        w[j * classes + c] = round4(wj);
        bias -= wj * (mc[c][j] + mean[j]) / 2;
      }
      b[c] = round4(bias);
    }
    return { w, b };
  }
  // ridge: (HᵀH + λI) W = Hᵀ(X − x̄), H centred; Gauss–Jordan in float64
  const k = target.length / n;
  const xm = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) xm[j] += target[i * k + j] / n;
  const A = new Float64Array(d * d), B = new Float64Array(d * k);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < d; p++) {
      const hp = h[i * d + p] - mean[p];
      if (hp === 0) continue;
      for (let q = 0; q < d; q++) A[p * d + q] += hp * (h[i * d + q] - mean[q]);
      for (let j = 0; j < k; j++) B[p * k + j] += hp * (target[i * k + j] - xm[j]);
    }
  }
  let trace = 0;
  for (let p = 0; p < d; p++) trace += A[p * d + p];
  for (let p = 0; p < d; p++) A[p * d + p] += 1e-2 * trace / d;
  for (let p = 0; p < d; p++) {
    const piv = A[p * d + p];
    for (let q = 0; q < d; q++) A[p * d + q] /= piv;
    for (let j = 0; j < k; j++) B[p * k + j] /= piv;
    for (let r = 0; r < d; r++) {
      if (r === p) continue;
      const f = A[r * d + p];
      if (f === 0) continue;
      for (let q = 0; q < d; q++) A[r * d + q] -= f * A[p * d + q];
      for (let j = 0; j < k; j++) B[r * k + j] -= f * B[p * k + j];
    }
  }
  const w = Float32Array.from(B, round4);
  const b = new Float32Array(k);
  for (let j = 0; j < k; j++) {
    let v = xm[j];
    for (let p = 0; p < d; p++) v -= mean[p] * w[p * k + j];
    b[j] = round4(v);
  }
  return { w, b };
}

// One forward pass, layer by layer, on the statistics inputs: each batch normalization
// gets the mean and variance of what reaches it (given the statistics already set above
// it), perturbed — moving mean off by up to 0.2 standard deviations, moving variance by a
// factor 0.8–1.25 — and gamma in 0.6–1.4, beta in a range (default ±0.3: some channels
// mostly active, some mostly off after the ReLU). The last layer is then fitted (fitHead) where labels
// are given. Returns the model, changed in place.
export function setStatistics(tf: TF, model: tfType.LayersModel, x: tfType.Tensor, seed: number, fit?: { labels: Int32Array; classes: number | null }, [betaFrom, betaTo] = [-0.3, 0.3]): tfType.LayersModel {
  const r = rng(seed * 104729 + 17);
  const values = new Map<number, tfType.Tensor>([[model.inputs[0].id, x]]);
  // how many layers still read each tensor, so that it is freed after the last
  const readers = new Map<number, number>();
  const inputsOf = (layer: tfType.layers.Layer) => ([] as Sym[]).concat(layer.input as Sym | Sym[]);
  for (const layer of model.layers) if (layer.getClassName() !== 'InputLayer') for (const s of inputsOf(layer)) readers.set(s.id, (readers.get(s.id) ?? 0) + 1);
  const eps = 1e-3;
  const last = model.layers[model.layers.length - 1];
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const syms = inputsOf(layer);
    const ins = syms.map((s) => values.get(s.id)!);
    if (layer.getClassName() === 'BatchNormalization') {
      const t = ins[0];
      const c = t.shape[t.shape.length - 1]!;
      const { mean, variance } = tf.tidy(() => tf.moments(t, t.shape.map((_, i) => i).slice(0, -1)));
      const m = mean.dataSync(), v = variance.dataSync();
      tf.dispose([mean, variance]);
      const gamma = new Float32Array(c), beta = new Float32Array(c), mm = new Float32Array(c), mv = new Float32Array(c);
      for (let k = 0; k < c; k++) {
        const sd = Math.sqrt(v[k] + eps);
        gamma[k] = round4(0.6 + 0.8 * r());
        beta[k] = round4(betaFrom + (betaTo - betaFrom) * r());
        mm[k] = round4(m[k] + (r() - 0.5) * 0.4 * sd);
        mv[k] = round4(Math.max(v[k], 1e-6) * (0.8 + 0.45 * r()));
      }
      layer.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta), tf.tensor1d(mm), tf.tensor1d(mv)]);
    }
    if (layer === last && fit) {
      const n = ins[0].shape[0]!;
      const { w, b } = fitHead(ins[0].dataSync() as Float32Array, n, fit.labels, fit.classes, x.dataSync() as Float32Array);
      const [w0, b0] = last.getWeights();
      last.setWeights([tf.tensor(w, w0.shape), tf.tensor(b, b0.shape)]);
    }
    const out = tf.tidy(() => layer.apply(ins.length === 1 ? ins[0] : ins, { training: false }) as tfType.Tensor);
    values.set((layer.output as Sym).id, out);
    for (const s of syms) {
      const left = readers.get(s.id)! - 1;
      readers.set(s.id, left);
      if (left === 0 && s.id !== model.inputs[0].id) { values.get(s.id)!.dispose(); values.delete(s.id); }
    }
  }
  tf.dispose([...values.entries()].filter(([id]) => id !== model.inputs[0].id).map(([, t]) => t));
  return model;
}

// Beta's range per model. ±0.3 (ReLUs on about half the time) for DS-CNN and ResNet-8;
// 1–2 (mostly on) for the deep MobileNetV1 (27 ReLUs) and the autoencoder (10), where a
// random network with ±0.3 amplifies int8 rounding layer after layer (top-1 agreement
// 86 % against 96 % for MobileNetV1, output SNR 26 dB against 32 dB for the autoencoder,
// measured with models/make-edge.ts).
const BETA: Partial<Record<EdgeModelName, [number, number]>> = { 'mobilenet-v1-0.25-vww': [1, 2], 'autoencoder-ad': [1, 2] };

// The model as shipped: architecture, He-normal weights, statistics and last layer from
// stand-in inputs (32 a class, 512 for the autoencoder; MobileNetV2, benchmark only: 16
// inputs and its He-normal classifier).
export function buildEdgeModel(tf: TF, name: EdgeModelName): tfType.LayersModel {
  const spec = edgeSpec(name);
  const model = edgeArchitecture(tf, name);
  const v2 = name === 'mobilenet-v2-1.0-224';
  const n = v2 ? 16 : spec.classes ? 32 * Math.max(spec.classes, 8) : 512;
  const { x, labels } = edgeExamples(name, n, SEEDS.statistics);
  const t = tf.tensor(x, [n, ...spec.shape]);
  setStatistics(tf, model, t, SEEDS.weights, v2 ? undefined : { labels, classes: spec.classes }, BETA[name]);
  t.dispose();
  return model;
}

// model.json and weights.bin as tf.io writes them (the float files' size, and what
// TF.js loads in bench/edge.ts's cold starts): nothing is written to disk.
export async function floatFiles(tf: TF, model: tfType.LayersModel): Promise<{ json: string; weights: Uint8Array }> {
  let out: { json: string; weights: Uint8Array } | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    const weights = new Uint8Array(a.weightData as ArrayBuffer);
    out = { json: JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }), weights };
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
  }));
  return out!;
}
