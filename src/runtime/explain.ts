// Model-agnostic explanations of one prediction: which parts of the input the target
// class's score depends on. Every method only calls Model.predict, on batches of
// perturbed copies of the input (so the engine's batch path does the work), and is
// deterministic for a given seed.
//
//   occlusion  slide a patch of baseline values over the input; a value's attribution
//              is the mean drop of the target score over the patches that cover it
//   lime       random on/off masks over segments, off segments set to the baseline;
//              a ridge regression of the score on the masks, each sample weighted by
//              √exp(−d² / width²) (LIME's kernel), d the cosine distance of its mask
//              from all-on
//   shap       KernelSHAP: the same masks weighted by the Shapley kernel, solved
//              under the efficiency constraint (attributions sum to f(x) − f(baseline));
//              every coalition when there are at most 12 segments, sampled otherwise
//
// The score is the model's output value at `target`: a probability for a model that
// ends in softmax, otherwise whatever the output is (a logit, a regression value).
// Segments: grid patches (patch × patch pixels, all channels) for an image
// [height, width, channels]; windows of `patch` steps (all features) for a sequence
// [steps, features]; runs of `patch` values for any other input (default single values
// up to 256 of them). A segment's attribution is
// spread evenly over its values, so `attributions` has one entry per input value and
// sums to the sum of the segments' weights.

import { InputError } from './errors.js';
import { flattenInput } from './input.js';
import { rng } from './rng.js';

// What explain needs of a model: its shapes and a batched predict. A loaded Model is
// one; so is a wrapper around another runtime's model (bench/explain.ts runs the same
// explanation through TF.js).
export interface Predictor {
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  predict(input: Float32Array | Uint8Array, options?: { batch?: number }): Float32Array;
}

export type ExplainMethod = 'occlusion' | 'lime' | 'shap';

export interface ExplainOptions {
  method?: ExplainMethod; // default 'lime'
  target?: number; // output index to explain; default the largest output (the predicted class)
  samples?: number; // lime: default 1000; shap: default 2048, used when there are more than 12 segments
  patch?: number; // segment side (images) or length in steps (sequences); default about a seventh of the image side, a tenth of the steps; 1 for flat inputs
  stride?: number; // occlusion only: how far the patch moves; default the patch size
  baseline?: number | ArrayLike<number>; // what "off" means, in the input's units; default 0
  kernelWidth?: number; // lime only: default 0.25, LIME's own for images
  seed?: number; // default 0
  batch?: number; // perturbed inputs per engine call; default 64
  onProgress?: (fraction: number) => void; // after each engine call, 0 < fraction ≤ 1
}

export interface Explanation {
  method: ExplainMethod;
  target: number;
  attributions: Float32Array; // one per input value, in the input's layout
  shape: number[]; // the model's input shape
  segments?: Int32Array; // lime, shap: each input value's segment
  segmentWeights?: Float32Array; // lime, shap: each segment's attribution
  baseScore: number; // the target's score for the input
  baselineScore: number; // … and for the baseline (everything off)
  samples: number; // model evaluations, the two above included
  settings: { patch: number; seed: number; stride?: number; kernelWidth?: number }; // the options in effect, defaults filled in
}

const EXACT_SHAP_SEGMENTS = 12;
// Bounds on one explanation's work and memory (masks: samples × segments bytes; the
// regression: segments² doubles), so that a request cannot take a server down.
const MAX_SEGMENTS = 1024;
const MAX_SAMPLES = 65536;

export function explain(model: Predictor, input: ArrayLike<number>, options: ExplainOptions = {}): Explanation {
  const shape = [...model.inputShape];
  const n = shape.reduce((a, b) => a * b, 1);
  const method = options.method ?? 'lime';
  if (method !== 'occlusion' && method !== 'lime' && method !== 'shap') bad(`method must be 'occlusion', 'lime' or 'shap', got '${String(method)}'`);
  if (!input || typeof input.length !== 'number') throw new InputError('E_INPUT_TYPE', 'input must be an array or typed array of numbers (ImageData: pass its pixels as a Uint8Array of the model\'s shape)');
  const flat = flattenInput(input, shape) as ArrayLike<number>;
  if (flat.length !== n) throw new InputError('E_INPUT_LENGTH', `input has ${flat.length} values; the model takes [${shape.join(', ')}] = ${n}: explain takes one input`);
  // pixels stay pixels (the model's pixel rule applies to every perturbed copy)
  const pixels = flat instanceof Uint8Array || flat instanceof Uint8ClampedArray;
  const x = pixels ? Uint8Array.from(flat) : Float32Array.from(flat);
  const baseline = baselineOf(options.baseline, n, pixels);
  const seed = int('seed', options.seed, 0, 0, 2 ** 32 - 1);
  const batch = int('batch', options.batch, 64, 1, 65536);
  const kind = shape.length === 3 ? 'image' : shape.length === 2 ? 'sequence' : 'flat';
  // flat inputs: one segment per value up to 256 values (tabular features), runs of
  // values beyond (LIME and SHAP solve an m × m system over the m segments)
  const defaultPatch = kind === 'image' ? Math.max(1, Math.round(Math.min(shape[0], shape[1]) / 7)) : kind === 'sequence' ? Math.max(1, Math.round(shape[0] / 10)) : Math.max(1, Math.ceil(n / 256));
  const span = kind === 'flat' ? n : kind === 'image' ? Math.min(shape[0], shape[1]) : shape[0];
  const patch = int('patch', options.patch, defaultPatch, 1, span);
  if (options.stride !== undefined && method !== 'occlusion') bad(`stride is an occlusion option; ${method} splits the input into segments of patch ${patch}`);
  if (options.kernelWidth !== undefined && method !== 'lime') bad(`kernelWidth is a lime option, not ${method}'s`);
  if (options.samples !== undefined && method === 'occlusion') bad('samples is a lime / shap option; occlusion runs one sample per patch position (set patch and stride)');
  const kernelWidth = options.kernelWidth ?? 0.25;
  if (!(typeof kernelWidth === 'number' && kernelWidth > 0 && Number.isFinite(kernelWidth))) bad(`kernelWidth must be a positive number, got ${String(options.kernelWidth)}`);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') bad('onProgress must be a function');

  const outLength = model.outputShape.reduce((a, b) => a * b, 1);
  // every option checked before the first inference
  const asked = options.target === undefined ? -1 : int('target', options.target, 0, 0, outLength - 1);
  const stride = method === 'occlusion' ? int('stride', options.stride, patch, 1, patch) : 0;
  const samples = method === 'occlusion' ? 0 : int('samples', options.samples, method === 'lime' ? 1000 : 2048, 2, MAX_SAMPLES);
  const { segments, m } = segmentsOf(shape, kind, patch);
  if (method !== 'occlusion' && m > MAX_SEGMENTS) bad(`patch ${patch} splits the input into ${m} segments; ${method} takes at most ${MAX_SEGMENTS} (it solves an m × m system): use a larger patch`);
  const fx = model.predict(x);
  let target = asked;
  if (target < 0) { target = 0; for (let i = 1; i < outLength; i++) if (fx[i] > fx[target]) target = i; }
  const runner = new Runner(model, x, target, outLength, batch);
  const baseScore = fx[target];
  const baselineScore = model.predict(baseline)[target];

  if (method === 'occlusion') {
    const patches = occlusionPatches(shape, patch, stride);
    const scores = runner.run(patches.length, (i, buf) => { for (const v of patches[i]) buf[v] = baseline[v]; }, options.onProgress);
    const sum = new Float64Array(n), count = new Float64Array(n);
    patches.forEach((p, i) => { for (const v of p) { sum[v] += baseScore - scores[i]; count[v]++; } });
    const attributions = Float32Array.from(sum, (s, v) => (count[v] ? s / count[v] : 0));
    return { method, target, attributions, shape, baseScore, baselineScore, samples: patches.length + 2, settings: { patch, seed, stride } };
  }

  const members: number[][] = Array.from({ length: m }, () => []);
  segments.forEach((s, v) => members[s].push(v));
  const random = rng(seed);
  let masks: Uint8Array, rows: number, weights: Float64Array;
  if (method === 'lime') {
    rows = samples;
    masks = new Uint8Array(rows * m);
    // the input itself, then masks with a uniform number of segments off (1 … m), as
    // LIME's text sampler draws them (its image sampler flips each segment with
    // probability ½, which puts almost every sample near half off when m is large)
    masks.fill(1, 0, m);
    for (let r = 1; r < rows; r++) {
      const row = masks.subarray(r * m, (r + 1) * m);
      row.fill(1);
      const off = 1 + Math.floor(random() * m);
      for (const s of choose(m, off, random)) row[s] = 0;
    }
    weights = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let on = 0;
      for (let s = 0; s < m; s++) on += masks[r * m + s];
      const d = 1 - Math.sqrt(on / m); // cosine distance from all-on
      weights[r] = Math.sqrt(Math.exp(-(d * d) / (kernelWidth * kernelWidth))); // LIME's kernel
    }
  } else {
    ({ masks, rows, weights } = shapMasks(m, samples, random));
  }
  const scores = runner.run(rows, (r, buf) => {
    for (let s = 0; s < m; s++) if (!masks[r * m + s]) for (const v of members[s]) buf[v] = baseline[v];
  }, options.onProgress);
  const phi = method === 'lime'
    ? ridge(masks, rows, m, scores, weights, 1)
    : constrainedShap(masks, rows, m, scores, weights, baseScore, baselineScore);
  const attributions = new Float32Array(n);
  for (let s = 0; s < m; s++) for (const v of members[s]) attributions[v] = phi[s] / members[s].length;
  return { method, target, attributions, shape, segments, segmentWeights: Float32Array.from(phi), baseScore, baselineScore, samples: rows + 2, settings: { patch, seed, ...(method === 'lime' ? { kernelWidth } : {}) } };
}

// An image explanation as one value per pixel: the attributions summed over channels,
// [height × width] row by row.
export function imageMap(e: Explanation): Float32Array {
  if (e.shape.length !== 3) throw new InputError('E_EXPLAIN_OPTION', `imageMap takes an explanation of an image [height, width, channels]; this one's input is [${e.shape.join(', ')}]`);
  const [h, w, c] = e.shape;
  const out = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) out[p] += e.attributions[p * c + k];
  return out;
}

function bad(message: string): never {
  throw new InputError('E_EXPLAIN_OPTION', `explain: ${message}`);
}

function int(name: string, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(`${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  return v;
}

function baselineOf(b: ExplainOptions['baseline'], n: number, pixels: boolean): Float32Array | Uint8Array {
  const out = pixels ? new Uint8Array(n) : new Float32Array(n);
  const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && (!pixels || (Number.isInteger(v) && v >= 0 && v <= 255));
  const what = pixels ? 'an integer pixel 0–255 (the input is pixels)' : 'a finite number';
  if (b === undefined) return out;
  if (typeof b === 'number') {
    if (!ok(b)) bad(`baseline must be ${what}, got ${b}`);
    return out.fill(b);
  }
  if (!b || b.length !== n) bad(`baseline must be one number or ${n} values (one per input value), got ${b && typeof b.length === 'number' ? `${b.length} values` : String(b)}`);
  for (let i = 0; i < n; i++) {
    if (!ok(b[i])) bad(`baseline value ${i} must be ${what}, got ${String(b[i])}`);
    out[i] = b[i];
  }
  return out;
}

// Runs perturbed copies of the input through the model, `batch` at a time, and keeps
// the target's score of each.
class Runner {
  constructor(private readonly model: Predictor, private readonly x: Float32Array | Uint8Array, private readonly target: number, private readonly outLength: number, private readonly batch: number) {}

  run(count: number, perturb: (i: number, item: Float32Array | Uint8Array) => void, onProgress?: (f: number) => void): Float64Array {
    const n = this.x.length;
    const scores = new Float64Array(count);
    const size = Math.min(this.batch, count);
    const buf = this.x instanceof Uint8Array ? new Uint8Array(size * n) : new Float32Array(size * n);
    for (let start = 0; start < count; start += size) {
      const k = Math.min(size, count - start);
      for (let j = 0; j < k; j++) {
        const item = buf.subarray(j * n, (j + 1) * n);
        item.set(this.x);
        perturb(start + j, item);
      }
      const out = this.model.predict(buf.subarray(0, k * n), { batch: k });
      for (let j = 0; j < k; j++) scores[start + j] = out[j * this.outLength + this.target];
      onProgress?.((start + k) / count);
    }
    return scores;
  }
}

// Occlusion patches (the input values each covers): every patch position on a stride
// grid until one reaches the end, cut at the edge there (not moved back flush with it,
// so that with stride = patch the patches are the segments lime and shap use).
function occlusionPatches(shape: number[], patch: number, stride: number): number[][] {
  const starts = (len: number, p: number) => {
    const s: number[] = [];
    for (let a = 0; ; a += stride) { s.push(a); if (a + p >= len) return s; }
  };
  const out: number[][] = [];
  if (shape.length === 3) {
    const [h, w, c] = shape;
    for (const y0 of starts(h, patch)) for (const x0 of starts(w, patch)) {
      const p: number[] = [];
      for (let y = y0; y < Math.min(y0 + patch, h); y++) for (let x = x0; x < Math.min(x0 + patch, w); x++) for (let k = 0; k < c; k++) p.push((y * w + x) * c + k);
      out.push(p);
    }
  } else {
    // sequences: windows of steps (all features); flat inputs: runs of values
    const [len, per] = shape.length === 2 ? shape : [shape.reduce((a, b) => a * b, 1), 1];
    for (const t0 of starts(len, patch)) {
      const p: number[] = [];
      for (let t = t0; t < Math.min(t0 + patch, len); t++) for (let f = 0; f < per; f++) p.push(t * per + f);
      out.push(p);
    }
  }
  return out;
}

function segmentsOf(shape: number[], kind: 'image' | 'sequence' | 'flat', patch: number): { segments: Int32Array; m: number } {
  const n = shape.reduce((a, b) => a * b, 1);
  const segments = new Int32Array(n);
  if (kind === 'image') {
    const [h, w, c] = shape;
    const across = Math.ceil(w / patch);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) segments.fill(Math.floor(y / patch) * across + Math.floor(x / patch), (y * w + x) * c, (y * w + x + 1) * c);
    return { segments, m: Math.ceil(h / patch) * across };
  }
  if (kind === 'sequence') {
    const [t, f] = shape;
    for (let s = 0; s < t; s++) segments.fill(Math.floor(s / patch), s * f, (s + 1) * f);
    return { segments, m: Math.ceil(t / patch) };
  }
  for (let v = 0; v < n; v++) segments[v] = Math.floor(v / patch);
  return { segments, m: Math.ceil(n / patch) };
}

// KernelSHAP's coalitions (all-on and all-off are the constraint, not rows). With at
// most 12 segments every coalition, weighted by the Shapley kernel
// (m − 1) / (C(m, s) · s · (m − s)); otherwise sizes drawn in proportion to the kernel's
// total weight per size, (m − 1) / (s (m − s)), each with its complement (paired
// sampling halves the variance), every row weight 1: the sample then has the kernel's
// distribution.
function shapMasks(m: number, samples: number, random: () => number): { masks: Uint8Array; rows: number; weights: Float64Array } {
  if (m <= EXACT_SHAP_SEGMENTS) {
    const rows = 2 ** m - 2;
    const masks = new Uint8Array(rows * m), weights = new Float64Array(rows);
    const logFact = [0];
    for (let i = 1; i <= m; i++) logFact.push(logFact[i - 1] + Math.log(i));
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = 0; j < m; j++) if (((r + 1) >> j) & 1) { masks[r * m + j] = 1; s++; }
      weights[r] = (m - 1) / (Math.exp(logFact[m] - logFact[s] - logFact[m - s]) * s * (m - s));
    }
    return { masks, rows, weights };
  }
  const sizeWeight = Array.from({ length: m - 1 }, (_, i) => (m - 1) / ((i + 1) * (m - i - 1)));
  const total = sizeWeight.reduce((a, b) => a + b, 0);
  const rows = samples + (samples & 1);
  const masks = new Uint8Array(rows * m);
  for (let r = 0; r < rows; r += 2) {
    let u = random() * total, s = 1;
    while (s < m - 1 && u >= sizeWeight[s - 1]) u -= sizeWeight[s++ - 1];
    for (const j of choose(m, s, random)) masks[r * m + j] = 1;
    for (let j = 0; j < m; j++) masks[(r + 1) * m + j] = 1 - masks[r * m + j];
  }
  return { masks, rows, weights: new Float64Array(rows).fill(1) };
}

// k distinct indices of 0 … m − 1 (a partial Fisher–Yates shuffle).
function choose(m: number, k: number, random: () => number): number[] {
  const idx = Array.from({ length: m }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (m - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k);
}

// LIME's surrogate: weighted ridge regression with an unpenalized intercept (as
// scikit-learn's Ridge(alpha) that LIME uses), on the weighted-centred data.
function ridge(z: Uint8Array, rows: number, m: number, y: Float64Array, w: Float64Array, alpha: number): Float64Array {
  let sw = 0, my = 0;
  const mz = new Float64Array(m);
  for (let r = 0; r < rows; r++) {
    sw += w[r]; my += w[r] * y[r];
    for (let j = 0; j < m; j++) mz[j] += w[r] * z[r * m + j];
  }
  my /= sw;
  for (let j = 0; j < m; j++) mz[j] /= sw;
  const a = new Float64Array(m * m), b = new Float64Array(m), zc = new Float64Array(m);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < m; j++) zc[j] = z[r * m + j] - mz[j];
    const yc = y[r] - my;
    for (let i = 0; i < m; i++) {
      const wi = w[r] * zc[i];
      b[i] += wi * yc;
      for (let j = 0; j <= i; j++) a[i * m + j] += wi * zc[j];
    }
  }
  for (let i = 0; i < m; i++) { a[i * m + i] += alpha; for (let j = 0; j < i; j++) a[j * m + i] = a[i * m + j]; }
  return solve(a, b, m);
}

// KernelSHAP's weighted least squares under Σφ = f(x) − f(baseline): the last segment's
// φ is eliminated (φ_last = Δ − Σ others), as the reference implementation does, and
// the rest solved from the normal equations.
function constrainedShap(z: Uint8Array, rows: number, m: number, f: Float64Array, w: Float64Array, fx: number, f0: number): Float64Array {
  const delta = fx - f0;
  if (m === 1) return Float64Array.of(delta);
  const k = m - 1;
  const a = new Float64Array(k * k), b = new Float64Array(k), x = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    const last = z[r * m + k];
    const y = f[r] - f0 - last * delta;
    for (let j = 0; j < k; j++) x[j] = z[r * m + j] - last;
    for (let i = 0; i < k; i++) {
      if (x[i] === 0) continue;
      const wi = w[r] * x[i];
      b[i] += wi * y;
      for (let j = 0; j <= i; j++) a[i * k + j] += wi * x[j];
    }
  }
  // a whisker of ridge keeps the system solvable when sampling left a segment's column
  // all zeros; it is far below the scores' resolution
  for (let i = 0; i < k; i++) { a[i * k + i] += 1e-9; for (let j = 0; j < i; j++) a[j * k + i] = a[i * k + j]; }
  const phi = solve(a, b, k);
  let rest = 0;
  for (let i = 0; i < k; i++) rest += phi[i];
  const out = new Float64Array(m);
  out.set(phi);
  out[k] = delta - rest;
  return out;
}

// a · x = b for a symmetric positive definite a (m × m, row-major), by Cholesky.
function solve(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const l = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * m + j];
      for (let p = 0; p < j; p++) s -= l[i * m + p] * l[j * m + p];
      l[i * m + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / l[j * m + j];
    }
  }
  const y = new Float64Array(m), x = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i];
    for (let p = 0; p < i; p++) s -= l[i * m + p] * y[p];
    y[i] = s / l[i * m + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = y[i];
    for (let p = i + 1; p < m; p++) s -= l[p * m + i] * x[p];
    x[i] = s / l[i * m + i];
  }
  return x;
}
