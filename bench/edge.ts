// The edge models of MLPerf Tiny (DS-CNN keyword spotting, MobileNetV1-0.25 visual
// wake words, ResNet-8, the anomaly-detection autoencoder) with seeded random weights:
// edgeq int8 (SIMD and scalar builds) against TF.js-wasm float (XNNPACK, one thread) at
// batch 1 and 64, next to each model's int8 bound, its MACs over the i32x4.dot_i16x8_s
// peak measured in the same run. Speed only: random weights have no accuracy to report
// (the converter's tests check agreement on trained models of the same ops).
//
//   npx tsx bench/edge.ts [--quick] [--json FILE]     (npm run bench:edge)

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { loadEngine, loadModel, type Model } from '../src/runtime/node.js';
import { convertLayersModel } from '../src/toolchain/convert/convert.js';
import { timeInterleaved } from './timing.js';

const args = process.argv.slice(2);
if (args.includes('--help')) { console.log('usage: npx tsx bench/edge.ts [--quick] [--json FILE]'); process.exit(0); }
const quick = args.includes('--quick');
const jsonFile = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const T = { warmup: quick ? 5 : 20, runs1: quick ? 30 : 200, runs64: quick ? 5 : 20 };

let seed = 1;
const init = () => tf.initializers.glorotUniform({ seed: seed++ });
const S = (x: tf.SymbolicTensor | tf.SymbolicTensor[] | tf.Tensor | tf.Tensor[]) => x as tf.SymbolicTensor;
const bnRelu = (x: tf.SymbolicTensor) => S(tf.layers.reLU().apply(S(tf.layers.batchNormalization().apply(x))));

function dsCnn(): tf.LayersModel {
  const input = tf.input({ shape: [49, 10, 1] });
  let x = bnRelu(S(tf.layers.conv2d({ filters: 64, kernelSize: [10, 4], strides: 2, padding: 'same', kernelInitializer: init() }).apply(input)));
  for (let i = 0; i < 4; i++) {
    x = bnRelu(S(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: init() }).apply(x)));
    x = bnRelu(S(tf.layers.conv2d({ filters: 64, kernelSize: 1, kernelInitializer: init() }).apply(x)));
  }
  x = S(tf.layers.globalAveragePooling2d({}).apply(x));
  return tf.model({ inputs: input, outputs: S(tf.layers.dense({ units: 12, activation: 'softmax', kernelInitializer: init() }).apply(x)) });
}

function mobileNetV1(): tf.LayersModel {
  const input = tf.input({ shape: [96, 96, 3] });
  let x = bnRelu(S(tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init() }).apply(input)));
  const blocks: [number, number][] = [[16, 1], [32, 2], [32, 1], [64, 2], [64, 1], [128, 2], [128, 1], [128, 1], [128, 1], [128, 1], [128, 1], [256, 2], [256, 1]];
  for (const [filters, stride] of blocks) {
    x = bnRelu(S(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, depthwiseInitializer: init() }).apply(x)));
    x = bnRelu(S(tf.layers.conv2d({ filters, kernelSize: 1, useBias: false, kernelInitializer: init() }).apply(x)));
  }
  x = S(tf.layers.globalAveragePooling2d({}).apply(x));
  return tf.model({ inputs: input, outputs: S(tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: init() }).apply(x)) });
}

function resNet8(): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3] });
  let x = bnRelu(S(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', kernelInitializer: init() }).apply(input)));
  for (const [filters, stride] of [[16, 1], [32, 2], [64, 2]]) {
    let y = bnRelu(S(tf.layers.conv2d({ filters, kernelSize: 3, strides: stride, padding: 'same', kernelInitializer: init() }).apply(x)));
    y = S(tf.layers.batchNormalization().apply(S(tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', kernelInitializer: init() }).apply(y))));
    const skip = stride === 1 ? x : S(tf.layers.conv2d({ filters, kernelSize: 1, strides: stride, kernelInitializer: init() }).apply(x));
    x = S(tf.layers.reLU().apply(S(tf.layers.add().apply([y, skip]))));
  }
  x = S(tf.layers.flatten().apply(S(tf.layers.averagePooling2d({ poolSize: 8 }).apply(x))));
  return tf.model({ inputs: input, outputs: S(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init() }).apply(x)) });
}

// MobileNetV2 1.0 at 224×224 (≈ 300 M MACs), as Keras builds it: zero padding before
// each stride-2 depthwise conv, ReLU6, linear bottlenecks, residual adds.
function mobileNetV2(): tf.LayersModel {
  const input = tf.input({ shape: [224, 224, 3] });
  const bn = (x: tf.SymbolicTensor, relu6: boolean) => {
    const y = S(tf.layers.batchNormalization().apply(x));
    return relu6 ? S(tf.layers.reLU({ maxValue: 6 }).apply(y)) : y;
  };
  const pad = (x: tf.SymbolicTensor) => S(tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]] }).apply(x));
  let x = bn(S(tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, kernelInitializer: init() }).apply(pad(input))), true);
  let channels = 32;
  for (const [t, c, n, s] of [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      let y = x;
      if (t !== 1) y = bn(S(tf.layers.conv2d({ filters: channels * t, kernelSize: 1, useBias: false, kernelInitializer: init() }).apply(y)), true);
      y = bn(S(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: stride === 2 ? 'valid' : 'same', useBias: false, depthwiseInitializer: init() }).apply(stride === 2 ? pad(y) : y)), true);
      y = bn(S(tf.layers.conv2d({ filters: c, kernelSize: 1, useBias: false, kernelInitializer: init() }).apply(y)), false);
      x = stride === 1 && channels === c ? S(tf.layers.add().apply([x, y])) : y;
      channels = c;
    }
  }
  x = bn(S(tf.layers.conv2d({ filters: 1280, kernelSize: 1, useBias: false, kernelInitializer: init() }).apply(x)), true);
  x = S(tf.layers.globalAveragePooling2d({}).apply(x));
  return tf.model({ inputs: input, outputs: S(tf.layers.dense({ units: 1000, activation: 'softmax', kernelInitializer: init() }).apply(x)) });
}

function autoencoder(): tf.LayersModel {
  const input = tf.input({ shape: [640] });
  let x = input;
  for (const units of [128, 128, 128, 128, 8, 128, 128, 128, 128]) x = bnRelu(S(tf.layers.dense({ units, kernelInitializer: init() }).apply(x)));
  return tf.model({ inputs: input, outputs: S(tf.layers.dense({ units: 640, kernelInitializer: init() }).apply(x)) });
}

// random batch-norm statistics, so that nothing folds to a no-op
function randomizeBatchNorm(m: tf.LayersModel): void {
  for (const l of m.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    const w = l.getWeights();
    l.setWeights(w.map((t, j) => (j === w.length - 1 ? tf.randomUniform(t.shape, 0.5, 1.5, 'float32', seed++) : tf.randomUniform(t.shape, -0.2, 0.2, 'float32', seed++).add(j === 0 ? 1 : 0))));
  }
}

const timeAll = (runs: ((batch: number) => unknown)[], batch: number, count: number) =>
  timeInterleaved(runs.map((r) => () => r(batch)), count, { warmup: T.warmup, rounds: 5 });

await tf.setBackend('wasm');
const engine = await loadEngine('simd');
const peakOf = () => { const n = 200_000, s = performance.now(); engine.peak_dot_i16x8(n, 3); return (n * 12 * 8) / ((performance.now() - s) / 1000) / 1e9; };
const peak = Math.max(peakOf(), peakOf(), peakOf());

// [name, model, input shape, heavy: few timed runs, batch 64 skipped]
const cases: [string, () => tf.LayersModel, number[], boolean?][] = [
  ['DS-CNN keyword spotting (49×10×1)', dsCnn, [49, 10, 1]],
  ['MobileNetV1-0.25 visual wake words (96×96×3)', mobileNetV1, [96, 96, 3]],
  ['ResNet-8 (32×32×3)', resNet8, [32, 32, 3]],
  ['autoencoder, anomaly detection (640)', autoencoder, [640]],
  ['MobileNetV2 1.0 (224×224×3)', mobileNetV2, [224, 224, 3], true],
];
const rows = [];
for (const [name, make, shape, heavy] of cases) {
  process.stderr.write(`${name}…\n`);
  const model = make();
  randomizeBatchNorm(model);
  const per = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: (heavy ? 8 : 64) * per }, (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
  const cal = tf.tensor(x.subarray(0, (heavy ? 4 : 32) * per), [heavy ? 4 : 32, ...shape]);
  const { bytes } = await convertLayersModel(model, { name, calibration: cal });
  cal.dispose();
  const models: Model[] = [await loadModel(bytes, { build: 'simd' }), await loadModel(bytes, { build: 'scalar' })];
  const input = (b: number) => x.subarray(0, b * per);
  const runs = [
    ...models.map((m) => (b: number) => m.predict(input(b), { batch: b })),
    (b: number) => tf.tidy(() => (model.predict(tf.tensor(input(b), [b, ...shape])) as tf.Tensor).dataSync()),
  ];
  const s1 = await timeAll(runs, 1, heavy ? 10 : T.runs1);
  const s64 = heavy ? null : await timeAll(runs, 64, T.runs64);
  const macs = models[0].info.macs;
  const boundMs = macs / (peak * 1e9) * 1000;
  rows.push({
    model: name, macs, edgeqBytes: bytes.length, arenaBytes: models[0].info.arenaBytes, boundMs,
    batch1: { simd: s1[0], scalar: s1[1], tfjsWasm: s1[2] },
    batch64: s64 ? { simd: s64[0], scalar: s64[1], tfjsWasm: s64[2] } : null,
  });
  models.forEach((m) => m.dispose());
  model.dispose();
}

const f = (v: number, d = 2) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
console.log(`\nedgeq on the MLPerf Tiny models — ${new Date().toISOString()} — Node ${process.version}, one thread; dot peak ${f(peak, 1)} GMAC/s\n`);
console.log('| model | MACs | int8 bound, ms | edgeq SIMD batch 1, ms | × bound | scalar, ms | TF.js-wasm, ms | edgeq faster by | batch 64: edgeq, TF.js-wasm img/s |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(`| ${r.model} | ${f(r.macs / 1e6, 2)} M | ${f(r.boundMs, 3)} | ${f(r.batch1.simd.median, 3)} | ${f(r.batch1.simd.median / r.boundMs, 1)}× | ${f(r.batch1.scalar.median, 3)} | ${f(r.batch1.tfjsWasm.median, 3)} | ${f(r.batch1.tfjsWasm.median / r.batch1.simd.median, 2)}× | ${r.batch64 ? `${f(64000 / r.batch64.simd.median, 0)}, ${f(64000 / r.batch64.tfjsWasm.median, 0)}` : '–'} |`);
}
if (jsonFile) {
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, JSON.stringify({ date: new Date().toISOString(), node: process.version, machine: `${cpus().length} cores`, quick, peakGmacs: peak, protocol: T, rows }, null, 2));
}
