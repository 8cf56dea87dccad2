// edgeq against TF.js's wasm backend (XNNPACK, SIMD, one thread), TF.js's cpu backend,
// and ONNX Runtime Web (wasm, one thread; ONNX models built here from the same weights:
// float for both models, int8 for the CNN), side by side in one process on the shipped
// reference models and the same inputs. For the CNN, edgeq also runs the int8 model
// ONNX Runtime gets (quantized here, not pruned), to show what pruning adds.
//
//   npx tsx bench/compare.ts [--quick] [--json FILE] [--svg FILE]
//
// Figures: latency at batch 1 (median, p90), throughput at batch 64, cold start (model
// bytes to first result, engine compile included), memory, sizes, test accuracy; each
// also as a ratio against TF.js-wasm. Not a test: it prints and asserts nothing.

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import Benchmark from 'benchmark';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadDataset, take, type Dataset } from '../src/toolchain/data/datasets.js';
import { engineFile, loadModel } from '../src/runtime/node.js';
import { loadLayersModelFile } from '../src/toolchain/convert/load.js';
import { lowerLayersModel } from '../src/toolchain/convert/graph.js';
import { quantizeGraph } from '../src/toolchain/convert/quantize.js';
import { encodeModel } from '../src/toolchain/format/write.js';
import * as ort from 'onnxruntime-web';
import { floatOnnx, int8Onnx } from './onnx.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npx tsx bench/compare.ts [--quick] [--json FILE] [--svg FILE]\n  --quick  shorter sampling, 1,000 test images for accuracy');
  process.exit(0);
}
const quick = args.includes('--quick');
const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const maxTime = quick ? 0.3 : 1.5;
const root = new URL('..', import.meta.url).pathname;

// onnx: which ONNX versions ONNX Runtime Web runs. The LSTM has no int8 version: ONNX's
// int8 LSTM (DynamicQuantizeLSTM) is a com.microsoft contrib op that ORT-web lacks.
interface Case { name: string; edgeq: string; float: string; data: string; shape: number[]; onnx: ('float' | 'int8')[] }
const cases: Case[] = [
  { name: 'reference CNN (Fashion-MNIST)', edgeq: 'models/cnn-fashion-mnist.edgeq', float: 'models/float/cnn-fashion-mnist/model.json', data: 'fashion-mnist', shape: [28, 28, 1], onnx: ['float', 'int8'] },
  { name: 'reference LSTM (mnist rows)', edgeq: 'models/lstm-mnist.edgeq', float: 'models/float/lstm-mnist/model.json', data: 'mnist', shape: [28, 28], onnx: ['float'] },
];
ort.env.wasm.numThreads = 1;
const ortWasm = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-web')), 'ort-wasm-simd-threaded.wasm');

async function asyncQuantiles(fn: () => Promise<unknown>, runs: number): Promise<{ median: number; p90: number }> {
  for (let i = 0; i < 10; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) { const s = performance.now(); await fn(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b);
  return { median: t[t.length >> 1], p90: t[Math.floor(0.9 * t.length)] };
}

function time(fn: () => void): Promise<Benchmark.Stats> {
  return new Promise((resolve, reject) => {
    const b = new Benchmark('x', fn, { maxTime, minSamples: 10, onComplete: () => resolve(b.stats), onError: (e: unknown) => reject(e) });
    b.run();
  });
}

function quantiles(fn: () => void, runs: number): { median: number; p90: number } {
  for (let i = 0; i < 20; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) { const s = performance.now(); fn(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b);
  return { median: t[t.length >> 1], p90: t[Math.floor(0.9 * t.length)] };
}

interface Row {
  runtime: string; case: string;
  batch1: { median: number; p90: number }; // ms
  batch64: number; // images per second
  coldStartMs: number; accuracy: number;
  modelBytes: number; runtimeWasm: { raw: number; gzip: number };
  memoryBytes: number | null; // engine arena + weights (edgeq only)
  rssDelta: number; // process RSS after loading and the first run, minus before
}

const gz = (p: string) => { const b = readFileSync(p); return { raw: b.length, gzip: gzipSync(b, { level: 9 }).length }; };
const require = createRequire(import.meta.url);
const tfjsWasm = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist', 'tfjs-backend-wasm-simd.wasm');

function accuracyOf(predict: (x: Uint8Array, n: number) => Float32Array, d: Dataset): number {
  let ok = 0;
  for (let i = 0; i < d.count; i += 250) {
    const n = Math.min(250, d.count - i);
    const y = predict(d.images.subarray(i * 784, (i + n) * 784), n);
    for (let j = 0; j < n; j++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (y[j * 10 + c] > y[j * 10 + best]) best = c;
      if (best === d.labels[i + j]) ok++;
    }
  }
  return ok / d.count;
}

const rows: Row[] = [];
tf.enableProdMode();
for (const c of cases) {
  const full = await loadDataset(c.data, 'test');
  const d = quick ? { ...full, count: 1000, images: full.images.subarray(0, 1000 * 784), labels: full.labels.subarray(0, 1000) } : full;
  const one = d.images.subarray(0, 784);
  const batch = d.images.subarray(0, 64 * 784);
  const edgeq = async (runtime: string, bytes: Uint8Array, build: 'simd' | 'scalar') => {
    // cold start: compile the engine from bytes, load the model, first result
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const module = await WebAssembly.compile(readFileSync(engineFile(build)));
    const m = await loadModel(bytes, { engine: module });
    m.predict(one);
    const coldStartMs = performance.now() - t0;
    const rssDelta = process.memoryUsage().rss - rss0;
    const batch1 = quantiles(() => m.predict(one), quick ? 300 : 2000);
    const s64 = await time(() => m.predict(batch, { batch: 64 }));
    rows.push({
      runtime, case: c.name, batch1, batch64: 64 / s64.mean, coldStartMs,
      accuracy: accuracyOf((x, n) => m.predict(x, { batch: n }), d),
      modelBytes: bytes.length, runtimeWasm: gz(engineFile(build)), memoryBytes: m.info.arenaBytes + m.info.weightBytes, rssDelta,
    });
    m.dispose();
  };
  const bytes = readFileSync(join(root, c.edgeq));
  for (const build of ['simd', 'scalar'] as const) await edgeq(`edgeq ${build}`, bytes, build);
  const floatBytes = readFileSync(join(root, c.float)).length + statSync(join(root, dirname(c.float), 'weights.bin')).size;
  for (const backend of ['wasm', 'cpu'] as const) {
    await tf.setBackend(backend);
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const { model } = await loadLayersModelFile(join(root, c.float));
    const run = (x: Uint8Array, n: number) => tf.tidy(() => (model.predict(tf.tensor(x, [n, ...c.shape], 'float32').div(255)) as tf.Tensor).dataSync() as Float32Array);
    run(one, 1);
    const coldStartMs = performance.now() - t0;
    const rssDelta = process.memoryUsage().rss - rss0;
    const batch1 = quantiles(() => run(one, 1), backend === 'cpu' ? 50 : quick ? 100 : 500);
    const s64 = backend === 'cpu' ? { mean: quantiles(() => run(batch, 64), 3).median / 1000 } : await time(() => run(batch, 64));
    rows.push({
      runtime: `TF.js ${backend}`, case: c.name, batch1, batch64: 64 / s64.mean, coldStartMs,
      accuracy: accuracyOf(run, backend === 'cpu' ? { ...d, count: Math.min(d.count, 500) } : d),
      modelBytes: floatBytes, runtimeWasm: backend === 'wasm' ? gz(tfjsWasm) : { raw: 0, gzip: 0 }, memoryBytes: null, rssDelta,
    });
    if (backend === 'cpu' && c.onnx.length) {
      // ONNX Runtime Web on the same weights: float, and int8 with the converter's scales
      const graph = lowerLayersModel(model);
      const variants: [string, Uint8Array][] = [['ORT-web float', floatOnnx(graph)]];
      if (c.onnx.includes('int8')) {
        const train = take(await loadDataset(c.data, 'train'), 500);
        const cal = tf.tensor(train.images, [500, ...c.shape], 'float32').div(255);
        const int8 = quantizeGraph(graph, cal, { metadata: { name: c.name }, normalization: { mul: 1 / 255, add: 0 } });
        cal.dispose();
        variants.push(['ORT-web int8', int8Onnx(int8)]);
        // the same int8 weights on edgeq, not pruned: its dense kernels, like for like
        await edgeq('edgeq simd, not pruned', encodeModel(int8), 'simd');
      }
      for (const [runtime, onnx] of variants) {
        const rss1 = process.memoryUsage().rss;
        const t1 = performance.now();
        const session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'] });
        const runOrt = async (x: Uint8Array, n: number) => {
          const r = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x, (v) => v / 255), [n, ...c.shape]) });
          return Object.values(r)[0].data as Float32Array;
        };
        await runOrt(one, 1);
        const coldStartMs = performance.now() - t1;
        const rssDelta = process.memoryUsage().rss - rss1;
        const batch1 = await asyncQuantiles(() => runOrt(one, 1), quick ? 300 : 1000);
        const b64 = await asyncQuantiles(() => runOrt(batch, 64), quick ? 20 : 100);
        let ok = 0;
        for (let i = 0; i < d.count; i += 250) {
          const m = Math.min(250, d.count - i);
          const y = await runOrt(d.images.subarray(i * 784, (i + m) * 784), m);
          for (let j = 0; j < m; j++) { let b = 0; for (let k = 1; k < 10; k++) if (y[j * 10 + k] > y[j * 10 + b]) b = k; if (b === d.labels[i + j]) ok++; }
        }
        rows.push({ runtime, case: c.name, batch1, batch64: 64 / (b64.median / 1000), coldStartMs, accuracy: ok / d.count, modelBytes: onnx.length, runtimeWasm: gz(ortWasm), memoryBytes: null, rssDelta });
        await session.release();
      }
    }
    model.dispose();
  }
}

// Whether this engine validates a relaxed-SIMD instruction (i16x8.relaxed_dot_i8x16_i7x16_s).
// edgeq ships no relaxed build either way: README, "Against TF.js and ONNX Runtime Web".
const relaxedSimd = WebAssembly.validate(new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128, v128) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0b, 0x01, 0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0xfd, 0x92, 0x02, 0x0b, // body
]));

const f = (v: number, d = 2) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const lines = [`edgeq vs TF.js — ${new Date().toISOString()} — Node ${process.version}, one thread${quick ? ', --quick' : ''}`, ''];
lines.push('| model | runtime | batch 1 median (p90), ms | × TF.js-wasm | batch 64, img/s | × TF.js-wasm | cold start, ms | accuracy | model size | runtime wasm (gzip) | arena + weights | RSS change |');
lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const ref = rows.find((x) => x.case === r.case && x.runtime === 'TF.js wasm')!;
  lines.push(`| ${r.case} | ${r.runtime} | ${f(r.batch1.median, 3)} (${f(r.batch1.p90, 3)}) | ${f(ref.batch1.median / r.batch1.median, 1)}× | ${f(r.batch64, 0)} | ${f(r.batch64 / ref.batch64, 1)}× | ${f(r.coldStartMs, 1)} | ${f(100 * r.accuracy)} % | ${f(r.modelBytes / 1024, 1)} KB | ${r.runtimeWasm.raw ? `${f(r.runtimeWasm.raw / 1024, 1)} KB (${f(r.runtimeWasm.gzip / 1024, 1)} KB)` : '–'} | ${r.memoryBytes ? `${f(r.memoryBytes / 1024, 1)} KB` : '–'} | ${f(r.rssDelta / 1048576, 1)} MB |`);
}
lines.push('', `relaxed SIMD in this engine: ${relaxedSimd ? 'yes' : 'no'}. edgeq has no relaxed-SIMD build: its int8 dot product is defined for a 7-bit operand only, so 8-bit weights would not give the same bits everywhere (README).`);
console.log(lines.join('\n'));
const json = opt('--json');
if (json) { mkdirSync(dirname(json), { recursive: true }); writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, relaxedSimd, rows }, null, 2)); }
const svg = opt('--svg');
if (svg) {
  // speed-up over TF.js-wasm at batch 1, one bar per runtime and model
  const bars = rows.map((r) => ({ label: `${r.case.split(' (')[0]} · ${r.runtime}`, v: rows.find((x) => x.case === r.case && x.runtime === 'TF.js wasm')!.batch1.median / r.batch1.median }));
  const max = Math.max(...bars.map((b) => b.v));
  const W = 720, bh = 22, left = 260;
  const body = bars.map((b, i) => `<text x="${left - 8}" y="${40 + i * (bh + 6) + 15}" text-anchor="end">${b.label}</text><rect x="${left}" y="${40 + i * (bh + 6)}" width="${((W - left - 80) * b.v) / max}" height="${bh}" fill="${b.label.includes('edgeq') ? '#2a7' : '#888'}"/><text x="${left + ((W - left - 80) * b.v) / max + 6}" y="${40 + i * (bh + 6) + 15}">${b.v.toFixed(1)}×</text>`).join('');
  mkdirSync(dirname(svg), { recursive: true });
  writeFileSync(svg, `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${60 + bars.length * (bh + 6)}" font-family="sans-serif" font-size="13"><text x="10" y="22" font-weight="bold">Speed at batch 1, relative to TF.js-wasm (higher is faster)</text>${body}</svg>`);
}
