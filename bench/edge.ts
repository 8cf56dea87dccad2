// The edge models of MLPerf Tiny as shipped in models/edge/ (DS-CNN keyword spotting,
// MobileNetV1-0.25 visual wake words, ResNet-8, the anomaly-detection autoencoder; see
// models/README.md), plus MobileNetV2 1.0 at 224×224 converted on the fly: edgeq int8
// (SIMD and scalar builds) against TF.js-wasm float (XNNPACK, one thread) and ONNX Runtime
// Web float (wasm, one thread), on the float models the shipped files were converted from
// (models/make-edge.ts edgeFloatModel: trained ones from models/float/, the others rebuilt
// from their seeds), at batch 1 and 64; each model's int8 bound (its MACs at
// the i32x4.dot_i16x8_s peak measured in the same run), arena, sizes, cold start.
// ONNX Runtime Web int8 is not run here: the edge graphs' int8 form needs depthwise,
// add and average-pool in QLinear / QDQ form, which bench/onnx.ts writes for the seed's
// chain models only.
// Timing: bench/timing.ts, as bench/compare.ts. Cold start: fresh Node processes, model
// bytes → first result (a script written to the temp folder, like bench/cold.mjs, for
// any input shape), median of (a) spawn → first result and (b) import done → first result.
//
//   npx tsx bench/edge.ts [--quick] [--json FILE]     (npm run bench:edge; in npm run bench)

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-web';
import { engineFile, loadEngine, loadModel, type Model } from '../src/runtime/node.js';
import { convertLayersModel } from '../src/toolchain/convert/convert.js';
import { lowerLayersModel } from '../src/toolchain/convert/graph.js';
import { EDGE_MODELS, edgeInputs, floatFiles, SEEDS } from '../models/edge-architectures.js';
import { edgeFloatModel } from '../models/make-edge.js';
import { floatOnnxGraph, type OnnxVariant } from './onnx.js';
import { dotPeakGmacs, stat, timeInterleaved, type Stat } from './timing.js';

const args = process.argv.slice(2);
if (args.includes('--help')) { console.log('usage: npx tsx bench/edge.ts [--quick] [--json FILE]'); process.exit(0); }
const quick = args.includes('--quick');
const jsonFile = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const T = { warmup: quick ? 5 : 20, runs1: quick ? 30 : 200, runs64: quick ? 5 : 20, cold: quick ? 2 : 5 };
const root = new URL('..', import.meta.url).pathname;

const timeAll = (runs: ((batch: number) => unknown)[], batch: number, count: number) =>
  timeInterleaved(runs.map((r) => () => r(batch)), count, { warmup: T.warmup, rounds: 5 });

// ---- cold start: one fresh process per measurement
const coldDir = join(tmpdir(), 'edgeq-bench-edge');
mkdirSync(coldDir, { recursive: true });
const bundle = join(coldDir, 'edgeq.mjs');
await esbuild.build({ entryPoints: [join(root, 'src/runtime/node.ts')], bundle: true, format: 'esm', platform: 'node', outfile: bundle, logLevel: 'error' });
const coldScript = join(coldDir, 'cold.mjs');
writeFileSync(coldScript, `
import { readFile } from 'node:fs/promises';
const spec = JSON.parse(process.argv[2]);
const n = spec.shape.reduce((a, b) => a * b, 1);
const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
let tImport, out;
if (spec.runtime === 'edgeq') {
  const { loadModel } = await import(spec.bundle);
  tImport = performance.now();
  const m = await loadModel(await readFile(spec.model), { engine: await readFile(spec.engine) });
  out = m.predict(x);
} else if (spec.runtime === 'tfjs') {
  const m = await import(spec.modules.tfjs), tf = m.default ?? m; // CommonJS: the exports are default
  await import(spec.modules.tfjsWasm);
  tImport = performance.now();
  await tf.setBackend('wasm');
  const json = JSON.parse(await readFile(spec.model, 'utf8'));
  const weights = await readFile(spec.weights);
  const model = await tf.loadLayersModel({ load: async () => ({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length) }) });
  out = tf.tidy(() => model.predict(tf.tensor(x, [1, ...spec.shape])).dataSync());
} else {
  const m = await import(spec.modules.ort), ort = m.default ?? m;
  tImport = performance.now();
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(await readFile(spec.model), { executionProviders: ['wasm'] });
  out = Object.values(await session.run({ input: new ort.Tensor('float32', x, [1, ...spec.onnxShape]) }))[0].data;
}
const now = performance.now();
if (out.length !== spec.outputs) throw new Error('expected ' + spec.outputs + ' outputs, got ' + out.length);
process.stdout.write(JSON.stringify({ firstResultAt: performance.timeOrigin + now, importToFirstMs: now - tImport }));
`);
// the script lives outside the repository: it imports the packages by their resolved paths
const resolve = createRequire(import.meta.url).resolve;
const modules = Object.fromEntries(Object.entries({ tfjs: '@tensorflow/tfjs', tfjsWasm: '@tensorflow/tfjs-backend-wasm', ort: 'onnxruntime-web' }).map(([k, p]) => [k, pathToFileURL(resolve(p)).href]));
interface Cold { spawnToFirstMs: number; importToFirstMs: number }
function coldStart(o: Record<string, unknown>): Cold {
  const spec = { ...o, modules };
  const a: number[] = [], b: number[] = [];
  for (let i = 0; i < T.cold; i++) {
    const t0 = performance.timeOrigin + performance.now();
    const r = JSON.parse(execFileSync(process.execPath, [coldScript, JSON.stringify(spec)], { cwd: root, encoding: 'utf8' }));
    a.push(r.firstResultAt - t0); b.push(r.importToFirstMs);
  }
  return { spawnToFirstMs: stat(a).median, importToFirstMs: stat(b).median };
}

// NHWC items → NCHW, for the ONNX graphs without a Transpose (outside the timing)
function toNchw(x: Float32Array, [h, w, c]: number[]): Float32Array {
  const out = new Float32Array(x.length), per = h * w * c;
  for (let i = 0; i < x.length / per; i++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let k = 0; k < c; k++) out[i * per + (k * h + y) * w + xx] = x[i * per + (y * w + xx) * c + k];
  return out;
}

await tf.setBackend('wasm');
tf.enableProdMode();
ort.env.wasm.numThreads = 1;
const peak = dotPeakGmacs(await loadEngine('simd'));

type Runtimes = Record<'simd' | 'scalar' | 'tfjsWasm' | 'ortWasm', Stat>;
const rows = [];
for (const spec of EDGE_MODELS) {
  const heavy = !spec.shipped; // MobileNetV2: few timed runs, batch 64 and cold starts skipped
  process.stderr.write(`${spec.title}…\n`);
  const model = await edgeFloatModel(spec.name);
  const shape = spec.shape, per = shape.reduce((a, b) => a * b, 1);
  const x = edgeInputs(spec.name, heavy ? 4 : 64, SEEDS.test);
  let bytes: Uint8Array, file: string;
  if (spec.shipped) {
    file = join(root, 'models/edge', `${spec.name}.edgeq`);
    bytes = new Uint8Array(readFileSync(file));
  } else {
    const cal = tf.tensor(edgeInputs(spec.name, 8, SEEDS.calibration), [8, ...shape]);
    bytes = (await convertLayersModel(model, { name: spec.name, calibration: cal })).bytes;
    cal.dispose();
    file = join(coldDir, `${spec.name}.edgeq`);
    writeFileSync(file, bytes);
  }
  const float = await floatFiles(tf, model);
  const floatBytes = Buffer.byteLength(float.json) + float.weights.length;
  writeFileSync(join(coldDir, `${spec.name}.json`), float.json);
  writeFileSync(join(coldDir, `${spec.name}.bin`), float.weights);

  const models: Model[] = [await loadModel(bytes, { build: 'simd' }), await loadModel(bytes, { build: 'scalar' })];
  const outputs = models[0].outputShape.reduce((a, b) => a * b, 1);
  const input = (b: number) => x.subarray(0, b * per);
  // ONNX Runtime: every layout, the fastest at batch 1 reported
  const variants: { v: OnnxVariant; session: ort.InferenceSession; x: Float32Array; file: string }[] = [];
  for (const layout of shape.length === 3 ? (['nchw', 'nhwc-transpose'] as const) : (['dense'] as const)) {
    const v = floatOnnxGraph(lowerLayersModel(model), layout);
    const f = join(coldDir, `${spec.name}-${layout}.onnx`);
    writeFileSync(f, v.bytes);
    variants.push({ v, session: await ort.InferenceSession.create(v.bytes, { executionProviders: ['wasm'] }), x: layout === 'nchw' ? toNchw(x, shape) : x, file: f });
  }
  // each ONNX graph computes the float model (so that its timings are the model's)
  const want = tf.tidy(() => (model.predict(tf.tensor(input(4), [4, ...shape])) as tf.Tensor).dataSync() as Float32Array);
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (const o of variants) {
    const got = Object.values(await o.session.run({ input: new ort.Tensor('float32', o.x.subarray(0, 4 * per), [4, ...o.v.shape]) }))[0].data as Float32Array;
    const err = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
    if (!(err <= 1e-3 * scale + 1e-5)) throw new Error(`${spec.name}: ONNX layout ${o.v.layout} differs from TF.js by ${err} (outputs up to ${scale})`);
  }
  const runs = [
    ...models.map((m) => (b: number) => m.predict(input(b), { batch: b })),
    (b: number) => tf.tidy(() => (model.predict(tf.tensor(input(b), [b, ...shape])) as tf.Tensor).dataSync()),
    ...variants.map((o) => async (b: number) => Object.values(await o.session.run({ input: new ort.Tensor('float32', o.x.subarray(0, b * per), [b, ...o.v.shape]) }))[0].data),
  ];
  const s1 = await timeAll(runs, 1, heavy ? 10 : T.runs1);
  const s64 = heavy ? null : await timeAll(runs, 64, T.runs64);
  const best = variants.reduce((a, _, i) => (s1[3 + i].median < s1[3 + a].median ? i : a), 0);
  const pick = (s: Stat[]): Runtimes => ({ simd: s[0], scalar: s[1], tfjsWasm: s[2], ortWasm: s[3 + best] });
  const onnxLayouts = variants.map((o, i) => ({ layout: o.v.layout, description: o.v.description, bytes: o.v.bytes.length, batch1: s1[3 + i], batch64: s64 ? s64[3 + i] : null, chosen: i === best }));
  let cold = null;
  if (!heavy) {
    process.stderr.write('  cold starts…\n');
    const o = variants[best];
    cold = {
      edgeq: coldStart({ runtime: 'edgeq', bundle, engine: engineFile('simd'), model: file, shape, outputs }),
      tfjsWasm: coldStart({ runtime: 'tfjs', model: join(coldDir, `${spec.name}.json`), weights: join(coldDir, `${spec.name}.bin`), shape, outputs }),
      ortWasm: coldStart({ runtime: 'ort', model: o.file, shape, onnxShape: o.v.shape, outputs }),
    };
  }
  const macs = models[0].info.macs;
  rows.push({
    model: spec.title, name: spec.name, shipped: spec.shipped, macs, edgeqBytes: bytes.length, floatBytes, onnxBytes: variants[best].v.bytes.length,
    arenaBytes: models[0].info.arenaBytes, boundMs: macs / (peak * 1e9) * 1000,
    batch1: pick(s1), batch64: s64 ? pick(s64) : null, onnxLayouts, cold,
  });
  models.forEach((m) => m.dispose());
  for (const o of variants) await o.session.release();
  model.dispose();
}

const f = (v: number, d = 2) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
console.log(`\nedgeq on the MLPerf Tiny models — ${new Date().toISOString()} — Node ${process.version}, one thread${quick ? ', --quick' : ''}; dot peak ${f(peak, 1)} GMAC/s\n`);
console.log('| model | MACs | int8 bound, ms | edgeq SIMD, ms | × bound | scalar, ms | TF.js-wasm, ms | ORT-web, ms | batch 64 img/s: edgeq, TF.js, ORT | cold (b), ms: edgeq, TF.js, ORT | arena | .edgeq | float |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const b64 = r.batch64 ? [r.batch64.simd, r.batch64.tfjsWasm, r.batch64.ortWasm].map((s) => f(64000 / s.median, 0)).join(', ') : '–';
  const cold = r.cold ? [r.cold.edgeq, r.cold.tfjsWasm, r.cold.ortWasm].map((c) => f(c.importToFirstMs, 1)).join(', ') : '–';
  console.log(`| ${r.model} | ${f(r.macs / 1e6, 2)} M | ${f(r.boundMs, 3)} | ${f(r.batch1.simd.median, 3)} | ${f(r.batch1.simd.median / r.boundMs, 1)}× | ${f(r.batch1.scalar.median, 3)} | ${f(r.batch1.tfjsWasm.median, 3)} | ${f(r.batch1.ortWasm.median, 3)} | ${b64} | ${cold} | ${f(r.arenaBytes / 1024, 1)} KB | ${f(r.edgeqBytes / 1024, 1)} KB | ${f(r.floatBytes / 1024, 1)} KB |`);
}
if (jsonFile) {
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, JSON.stringify({ date: new Date().toISOString(), node: process.version, machine: `${cpus().length} cores`, quick, peakGmacs: peak, protocol: T, rows }, null, 2) + '\n');
}
