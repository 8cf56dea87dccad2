// The sensor sequence models shipped in models/edge/ (activity recognition: Conv1D →
// MaxPooling1D → Conv1D → GRU → Dense 6; forecasting: Conv1D → LSTM relu → Dense 1; see
// models/README.md): edgeq int8 (SIMD and scalar builds) against TF.js-wasm float
// (XNNPACK, one thread) and ONNX Runtime Web float (wasm, one thread) on the float models
// the shipped files were converted from (models/float/<name>/), at batch 1 and 64; each
// model's int8 bound (its MACs at the i32x4.dot_i16x8_s peak measured in the same run).
// The ONNX graph (bench/onnx.ts floatOnnxSequence) is checked against TF.js before it
// is timed. Timing: bench/timing.ts, as bench/compare.ts and bench/edge.ts.
//
//   npx tsx bench/sequence.ts [--quick] [--json FILE]     (in npm run bench)

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { loadEngine, loadModel, type Model } from '../src/runtime/node.js';
import { lowerLayersModel } from '../src/toolchain/convert/graph.js';
import { loadLayersModelFile } from '../src/toolchain/convert/load.js';
import { floatOnnxSequence } from './onnx.js';
import { dotPeakGmacs, timeInterleaved, type Stat } from './timing.js';

const args = process.argv.slice(2);
if (args.includes('--help')) { console.log('usage: npx tsx bench/sequence.ts [--quick] [--json FILE]'); process.exit(0); }
const quick = args.includes('--quick');
const jsonFile = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const T = { warmup: quick ? 5 : 20, runs1: quick ? 30 : 200, runs64: quick ? 5 : 20 };
const root = new URL('..', import.meta.url).pathname;

const MODELS = [
  { name: 'activity-recognition', title: 'activity recognition (Conv1D → GRU 64 → Dense 6)' },
  { name: 'forecasting', title: 'forecasting (Conv1D → LSTM 32 relu → Dense 1)' },
];

await tf.setBackend('wasm');
tf.enableProdMode();
ort.env.wasm.numThreads = 1;
const peak = dotPeakGmacs(await loadEngine('simd'));

type Runtimes = Record<'simd' | 'scalar' | 'tfjsWasm' | 'ortWasm', Stat>;
const rows = [];
for (const spec of MODELS) {
  process.stderr.write(`${spec.title}…\n`);
  const { model, floatBytes } = await loadLayersModelFile(join(root, 'models/float', spec.name, 'model.json'));
  const bytes = new Uint8Array(readFileSync(join(root, 'models/edge', `${spec.name}.edgeq`)));
  const shape = model.inputs[0].shape.slice(1) as number[];
  const per = shape.reduce((a, b) => a * b, 1);
  // timing does not depend on the values; smooth signals in the models' range
  const x = Float32Array.from({ length: 64 * per }, (_, i) => Math.sin(i * 0.05) + 0.3 * Math.sin(i * 0.73));
  const input = (b: number) => x.subarray(0, b * per);
  const models: Model[] = [await loadModel(bytes, { build: 'simd' }), await loadModel(bytes, { build: 'scalar' })];
  const onnx = floatOnnxSequence(lowerLayersModel(model));
  const session = await ort.InferenceSession.create(onnx.bytes, { executionProviders: ['wasm'] });
  const ortRun = async (b: number) => Object.values(await session.run({ input: new ort.Tensor('float32', input(b), [b, ...shape]) }))[0].data as Float32Array;
  // the ONNX graph computes the float model
  const want = tf.tidy(() => (model.predict(tf.tensor(input(4), [4, ...shape])) as tf.Tensor).dataSync() as Float32Array);
  const got = await ortRun(4);
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const err = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
  if (!(err <= 1e-3 * scale + 1e-5)) throw new Error(`${spec.name}: the ONNX graph differs from TF.js by ${err} (outputs up to ${scale})`);
  const runs = [
    ...models.map((m) => (b: number) => m.predict(input(b), { batch: b })),
    (b: number) => tf.tidy(() => (model.predict(tf.tensor(input(b), [b, ...shape])) as tf.Tensor).dataSync()),
    ortRun,
  ];
  const timeAll = (batch: number, count: number) => timeInterleaved(runs.map((r) => () => r(batch)), count, { warmup: T.warmup, rounds: 5 });
  const pick = (s: Stat[]): Runtimes => ({ simd: s[0], scalar: s[1], tfjsWasm: s[2], ortWasm: s[3] });
  const batch1 = pick(await timeAll(1, T.runs1));
  const batch64 = pick(await timeAll(64, T.runs64));
  const macs = models[0].info.macs;
  rows.push({
    model: spec.title, name: spec.name, macs, edgeqBytes: bytes.length, floatBytes, onnxBytes: onnx.bytes.length,
    arenaBytes: models[0].info.arenaBytes, boundMs: macs / (peak * 1e9) * 1000, onnx: onnx.description, batch1, batch64,
  });
  models.forEach((m) => m.dispose());
  await session.release();
  model.dispose();
}

const f = (v: number, d = 2) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
console.log(`\nedgeq on the sensor sequence models — ${new Date().toISOString()} — Node ${process.version}, one thread${quick ? ', --quick' : ''}; dot peak ${f(peak, 1)} GMAC/s\n`);
console.log('| model | MACs | int8 bound, ms | edgeq SIMD, ms | × bound | scalar, ms | TF.js-wasm, ms (× edgeq) | ORT-web, ms (× edgeq) | batch 64 items/s: edgeq, TF.js, ORT | arena | .edgeq | float |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const e = r.batch1.simd.median;
  const b64 = [r.batch64.simd, r.batch64.tfjsWasm, r.batch64.ortWasm].map((s) => f(64000 / s.median, 0)).join(', ');
  console.log(`| ${r.model} | ${f(r.macs / 1e6, 2)} M | ${f(r.boundMs, 3)} | ${f(e, 3)} | ${f(e / r.boundMs, 1)}× | ${f(r.batch1.scalar.median, 3)} | ${f(r.batch1.tfjsWasm.median, 3)} (${f(r.batch1.tfjsWasm.median / e, 1)}×) | ${f(r.batch1.ortWasm.median, 3)} (${f(r.batch1.ortWasm.median / e, 1)}×) | ${b64} | ${f(r.arenaBytes / 1024, 1)} KB | ${f(r.edgeqBytes / 1024, 1)} KB | ${f(r.floatBytes / 1024, 1)} KB |`);
}
if (jsonFile) {
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, JSON.stringify({ date: new Date().toISOString(), node: process.version, machine: `${cpus().length} cores`, quick, peakGmacs: peak, protocol: T, rows }, null, 2) + '\n');
}
