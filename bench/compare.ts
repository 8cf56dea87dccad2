// edgeq against TF.js's wasm backend (XNNPACK, SIMD, one thread) and ONNX Runtime Web
// (wasm, one thread), in one process, on the same inputs and the same test set.
//
//   npx tsx bench/compare.ts [--quick] [--json FILE]
//
// Like for like: the headline edgeq row runs the unpruned int8 model (the converter's
// quantization of the float weights, 500 calibration images) and ONNX Runtime Web int8
// runs exactly those int8 weights and scales. The shipped, pruned .edgeq file is its own
// row, labelled pruned, with its own accuracy. TF.js and ORT float run the float model.
// ONNX Runtime gets several graph layouts (bench/onnx.ts); all are timed, the fastest at
// batch 1 is its row, and the JSON records every layout tried.
// One statistic for every runtime: the same warm-up, then the timed runs interleaved
// across runtimes in rounds (so that noise from other processes falls on all of them),
// median and p90 per call at batch 1 and batch 64. Cold start: fresh Node processes per
// runtime (bench/cold.mjs), several each, median of (a) process spawn → first result and
// (b) runtime import done → first result. Not a test: it prints and asserts nothing.

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-web';
import { loadDataset, take, type Dataset } from '../src/toolchain/data/datasets.js';
import { engineFile, loadModel } from '../src/runtime/node.js';
import { loadLayersModelFile } from '../src/toolchain/convert/load.js';
import { lowerLayersModel } from '../src/toolchain/convert/graph.js';
import { encodeModel } from '../src/toolchain/format/write.js';
import { CASES, denseInt8, protocol } from './cases.js';
import { floatOnnx, int8Onnx, INT8_LAYOUTS, type OnnxVariant } from './onnx.js';
import { stat, timeInterleaved, type Stat } from './timing.js';
import { accuracy, argmaxRows } from '../src/runtime/classes.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npx tsx bench/compare.ts [--quick] [--json FILE]\n  --quick  fewer timed runs and cold starts, 1,000 test images for accuracy');
  process.exit(0);
}
const quick = args.includes('--quick');
const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const root = new URL('..', import.meta.url).pathname;
const T = protocol(quick);
ort.env.wasm.numThreads = 1;
const require = createRequire(import.meta.url);
const ortWasm = join(dirname(require.resolve('onnxruntime-web')), 'ort-wasm-simd-threaded.wasm');
const tfjsWasm = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist', 'tfjs-backend-wasm-simd.wasm');
const gz = (p: string) => { const b = readFileSync(p); return { raw: b.length, gzip: gzipSync(b, { level: 9 }).length }; };

type Run = (x: Uint8Array, n: number) => Float32Array | Promise<Float32Array>;
// Batch 1 cycles through the first 64 images; batch 64 takes them all.
function timeAll(runs: Run[], images: Uint8Array, batch: number, count: number): Promise<Stat[]> {
  const px = 784;
  const input = (k: number) => (batch === 1 ? images.subarray((k % 64) * px, (k % 64 + 1) * px) : images.subarray(0, 64 * px));
  return timeInterleaved(runs.map((r) => (k: number) => r(input(k), batch)), count, T);
}

async function accuracyOf(run: Run, d: Dataset): Promise<number> {
  let ok = 0;
  for (let i = 0; i < d.count; i += 250) {
    const n = Math.min(250, d.count - i);
    const y = await run(d.images.subarray(i * 784, (i + n) * 784), n);
    ok += n * accuracy(argmaxRows(y, n, 10), d.labels.subarray(i, i + n));
  }
  return ok / d.count;
}

// edgeq's Node runtime as one ESM file for the cold-start processes (the engine bytes
// are passed to loadModel, as an application that ships its own copy would)
const coldDir = join(tmpdir(), 'edgeq-bench-cold');
mkdirSync(coldDir, { recursive: true });
const bundle = join(coldDir, 'edgeq.mjs');
await esbuild.build({ entryPoints: [join(root, 'src/runtime/node.ts')], bundle: true, format: 'esm', platform: 'node', outfile: bundle, logLevel: 'error' });

interface Cold { spawnToFirstMs: number; importToFirstMs: number; rssMB: number }
function coldStart(spec: Record<string, unknown>): Cold {
  const a: number[] = [], b: number[] = [], m: number[] = [];
  for (let i = 0; i < T.cold; i++) {
    const t0 = performance.timeOrigin + performance.now();
    const r = JSON.parse(execFileSync(process.execPath, [join(root, 'bench/cold.mjs'), JSON.stringify(spec)], { cwd: root, encoding: 'utf8' }));
    a.push(r.firstResultAt - t0); b.push(r.importToFirstMs); m.push(r.rss / 1048576);
  }
  return { spawnToFirstMs: stat(a).median, importToFirstMs: stat(b).median, rssMB: stat(m).median };
}

interface Row {
  case: string; runtime: string; weights: string; layout?: string; testSet: string;
  batch1: Stat; batch64: Stat & { imgPerSec: number }; accuracy: number;
  cold: Cold; modelBytes: number; runtimeWasm: { raw: number; gzip: number } | null;
}
interface Layout { case: string; runtime: string; layout: string; description: string; batch1: Stat; batch64: Stat & { imgPerSec: number }; accuracy: number; modelBytes: number; chosen: boolean }
const rows: Row[] = [];
const layouts: Layout[] = [];

await tf.setBackend('wasm');
tf.enableProdMode();
for (const c of CASES) {
  const full = await loadDataset(c.data, 'test');
  const d = quick ? take(full, 1000) : full;
  const testSet = `${c.data} test, ${d.count.toLocaleString('en-US')} images`;
  process.stderr.write(`${c.name}: ${testSet}\n`);
  const { model } = await loadLayersModelFile(join(root, c.float));
  const graph = lowerLayersModel(model);
  const floatBytes = readFileSync(join(root, c.float)).length + statSync(join(root, dirname(c.float), 'weights.bin')).size;

  interface Cand { runtime: string; weights: string; run: Run; modelBytes: number; wasm: string | null; cold: Record<string, unknown>; variant?: OnnxVariant }
  const cands: Cand[] = [];
  const edgeqCand = async (runtime: string, weights: string, bytes: Uint8Array, file: string) => {
    const m = await loadModel(bytes, { engine: readFileSync(engineFile('simd')) });
    cands.push({ runtime, weights, run: (x, n) => m.predict(x, { batch: n }), modelBytes: bytes.length, wasm: engineFile('simd'), cold: { runtime: 'edgeq', bundle, engine: engineFile('simd'), model: file } });
  };
  if (c.int8) {
    const int8 = await denseInt8(c, graph);
    const dense = encodeModel(int8);
    const file = join(coldDir, 'dense.edgeq');
    writeFileSync(file, dense);
    await edgeqCand('edgeq', 'int8, dense (the weights ORT int8 gets)', dense, file);
    for (const layout of INT8_LAYOUTS) cands.push(await ortCand('ORT-web int8', 'int8, dense', int8Onnx(int8, layout)));
  } else {
    // the LSTM's kernel runs its weights dense: the shipped file, pruned and clustered, costs
    // what a dense int8 file costs
    await edgeqCand('edgeq', 'int8, dense kernel (the shipped .edgeq file, pruned and clustered)', readFileSync(join(root, c.edgeq)), join(root, c.edgeq));
  }
  if (c.int8) await edgeqCand('edgeq', 'int8, pruned (the shipped .edgeq file)', readFileSync(join(root, c.edgeq)), join(root, c.edgeq));
  cands.push({
    runtime: 'TF.js wasm', weights: 'float', modelBytes: floatBytes, wasm: tfjsWasm,
    run: (x, n) => tf.tidy(() => (model.predict(tf.tensor(x, [n, ...c.shape], 'float32').div(255)) as tf.Tensor).dataSync() as Float32Array),
    cold: { runtime: 'tfjs', model: join(root, c.float), weights: join(root, dirname(c.float), 'weights.bin'), shape: c.shape },
  });
  for (const layout of c.shape.length === 3 ? (['nchw', 'nhwc-transpose'] as const) : (['nchw'] as const)) cands.push(await ortCand('ORT-web float', 'float', floatOnnx(graph, layout)));

  async function ortCand(runtime: string, weights: string, v: OnnxVariant): Promise<Cand> {
    const session = await ort.InferenceSession.create(v.bytes, { executionProviders: ['wasm'] });
    const run = async (x: Uint8Array, n: number) => {
      const t = v.input === 'uint8' ? new ort.Tensor('uint8', x, [n, ...v.shape]) : new ort.Tensor('float32', Float32Array.from(x, (p) => p / 255), [n, ...v.shape]);
      return Object.values(await session.run({ input: t }))[0].data as Float32Array;
    };
    const file = join(coldDir, `${runtime.replace(/\W+/g, '-')}-${v.layout.replace(/\W+/g, '-')}.onnx`);
    writeFileSync(file, v.bytes);
    return { runtime, weights, run, modelBytes: v.bytes.length, wasm: ortWasm, variant: v, cold: { runtime: 'ort', model: file, input: v.input, shape: v.shape } };
  }

  const s1 = await timeAll(cands.map((x) => x.run), d.images, 1, T.runs1);
  const s64 = await timeAll(cands.map((x) => x.run), d.images, 64, T.runs64);
  const acc: number[] = [];
  for (const x of cands) acc.push(await accuracyOf(x.run, d));
  // per ORT runtime, the layout fastest at batch 1
  const chosen = new Set<number>();
  for (const rt of new Set(cands.map((x) => x.runtime))) {
    const idx = cands.map((_, i) => i).filter((i) => cands[i].runtime === rt);
    idx.filter((i) => cands[i].variant === undefined).forEach((i) => chosen.add(i));
    const ortIdx = idx.filter((i) => cands[i].variant);
    if (ortIdx.length) chosen.add(ortIdx.reduce((a, b) => (s1[b].median < s1[a].median ? b : a)));
  }
  cands.forEach((x, i) => {
    const b64 = { ...s64[i], imgPerSec: 64000 / s64[i].median };
    if (x.variant) layouts.push({ case: c.name, runtime: x.runtime, layout: x.variant.layout, description: x.variant.description, batch1: s1[i], batch64: b64, accuracy: acc[i], modelBytes: x.modelBytes, chosen: chosen.has(i) });
  });
  for (const i of [...chosen].sort((a, b) => a - b)) {
    const x = cands[i];
    process.stderr.write(`  cold starts: ${x.runtime}${x.variant ? ` (${x.variant.layout})` : ''}, ${x.weights}\n`);
    rows.push({
      case: c.name, runtime: x.runtime, weights: x.weights, layout: x.variant?.layout, testSet,
      batch1: s1[i], batch64: { ...s64[i], imgPerSec: 64000 / s64[i].median }, accuracy: acc[i],
      cold: coldStart(x.cold), modelBytes: x.modelBytes, runtimeWasm: x.wasm ? gz(x.wasm) : null,
    });
  }
  model.dispose();
}

// Node's own start (a process that imports nothing): the floor under cold start (a)
const nodeBaseline = coldStart({ runtime: 'none' });

const f = (v: number, d = 2) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}`;
console.log(`\nedgeq vs TF.js-wasm vs ONNX Runtime Web — ${new Date().toISOString()} — ${machine}, Node ${process.version}, one thread${quick ? ', --quick' : ''}\n`);
console.log('| model | runtime | weights | batch 1 median (p90), ms | batch 64 median (p90), ms | img/s | cold start: spawn → result, import → result, ms | accuracy |');
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.case} | ${r.runtime}${r.layout ? ` (${r.layout})` : ''} | ${r.weights} | ${f(r.batch1.median, 3)} (${f(r.batch1.p90, 3)}) | ${f(r.batch64.median, 2)} (${f(r.batch64.p90, 2)}) | ${f(r.batch64.imgPerSec, 0)} | ${f(r.cold.spawnToFirstMs, 0)}, ${f(r.cold.importToFirstMs, 1)} | ${f(100 * r.accuracy)} % |`);
console.log(`\nNode alone, spawn → exit-ready: ${f(nodeBaseline.spawnToFirstMs, 0)} ms\n\nONNX Runtime Web layouts tried:\n`);
for (const l of layouts) console.log(`${l.chosen ? '*' : ' '} ${l.case} ${l.runtime} ${l.layout}: batch 1 ${f(l.batch1.median, 3)} ms, batch 64 ${f(l.batch64.imgPerSec, 0)} img/s, ${f(100 * l.accuracy)} %`);
const json = opt('--json');
if (json) {
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), machine, cores: cpus().length, node: process.version, threads: 1, quick, protocol: T, nodeBaseline, rows, layouts }, null, 2) + '\n');
}
