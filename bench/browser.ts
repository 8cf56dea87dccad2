// bench/compare.ts in headless Chromium: edgeq's three engine builds (simd, scalar, and
// relaxed where WebAssembly.validate accepts it), TF.js's wasm backend (XNNPACK, SIMD,
// one thread) and ONNX Runtime Web (wasm, one thread; float, and for the CNN int8 on the
// same weights and scales as edgeq's dense row, every layout of bench/onnx.ts, the
// fastest at batch 1 reported) on the same models and the 64 first test images. The
// pages are cross-origin isolated, for a 5 µs timer (bench/browser/site.ts).
//
//   npx tsx bench/browser.ts [--quick] [--json FILE] [--svg FILE]
//
// Before timing: every edgeq build's scores, at batch 64 and at batch 1, are checked bit
// for bit against Node's SIMD engine (a difference stops the run), and every runtime's
// top-1 agreement with TF.js's float model on the 64 images is recorded. Timing: the
// protocol of bench/compare.ts (bench/cases.ts, bench/timing.ts timeInterleaved, run in
// the page): warm-up, then timed calls interleaved across runtimes in rounds; median and
// p90. Cold start: a new browser context and page per measurement (empty caches), the
// engine's .wasm fetched and compiled, several per runtime in rounds, medians
// (bench/browser/cold.ts). The SVG sets the Node figures of bench/results/compare.json
// beside these where it has the same row. Not a test: it prints and asserts nothing.

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { accuracy, argmaxRows } from '../src/runtime/classes.js';
import { loadModel } from '../src/runtime/node.js';
import { lowerLayersModel } from '../src/toolchain/convert/graph.js';
import { loadLayersModelFile } from '../src/toolchain/convert/load.js';
import { loadDataset } from '../src/toolchain/data/datasets.js';
import { encodeModel } from '../src/toolchain/format/write.js';
import { CHROMIUM_PATH } from '../test/helpers/capabilities.js';
import { launchChromium, serveDir } from '../test/helpers/pages.js';
import { CASES, denseInt8, protocol } from './cases.js';
import { floatOnnx, int8Onnx, INT8_LAYOUTS, type OnnxVariant } from './onnx.js';
import { chart, markdown, type BrowserResults, type BrowserRow, type BrowserLayout } from './browser/report.js';
import { buildSite, coldStart, ISOLATION, openBenchPage } from './browser/site.js';
import type { Candidate } from './browser/runtimes.js';
import { stat, type Stat } from './timing.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npx tsx bench/browser.ts [--quick] [--json FILE] [--svg FILE]\n  --quick  fewer timed runs and cold starts');
  process.exit(0);
}
if (!existsSync(CHROMIUM_PATH)) {
  console.error(`bench/browser.ts drives Chromium at ${CHROMIUM_PATH} (playwright-core downloads no browser), and there is none: install Debian's package,\n  sudo apt-get install -y --no-install-recommends chromium`);
  process.exit(1);
}
const quick = args.includes('--quick');
const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const root = new URL('..', import.meta.url).pathname;
const T = protocol(quick);

const site = mkdtempSync(join(tmpdir(), 'edgeq-bench-browser-'));
await buildSite(site, { others: true });
let server: Server | undefined;
const browser = await launchChromium();
try {
  const served = await serveDir(site, undefined, ISOLATION);
  server = served.server;
  const url = served.url;
  const probe = await openBenchPage(browser, url);
  const { relaxed, crossOriginIsolated } = await probe.env();
  await probe.close();
  if (!crossOriginIsolated) throw new Error('the benchmark page is not cross-origin isolated: its timer would be coarsened to 100 µs');
  const builds = ['simd', 'scalar', ...(relaxed ? ['relaxed'] as const : [])] as const;
  if (!relaxed) process.stderr.write('this Chromium refuses relaxed SIMD (WebAssembly.validate): no relaxed rows\n');

  // Node's TF.js (the dense int8 quantization) on the backend bench/compare.ts uses
  await tf.setBackend('wasm');
  const rows: BrowserRow[] = [];
  const layouts: BrowserLayout[] = [];
  for (const [ci, c] of CASES.entries()) {
    process.stderr.write(`${c.name}\n`);
    const test = await loadDataset(c.data, 'test');
    const images = test.images.subarray(0, 64 * 784);
    writeFileSync(join(site, `images-${ci}.bin`), images);
    const { model } = await loadLayersModelFile(join(root, c.float));
    const graph = lowerLayersModel(model);
    model.dispose();

    // what each candidate is, and the file the page fetches
    interface Cand { runtime: string; weights: string; build?: string; variant?: OnnxVariant; modelBytes: number; page: Candidate; node?: Uint8Array }
    const cands: Cand[] = [];
    const file = (name: string, bytes: Uint8Array) => { writeFileSync(join(site, `${ci}-${name}`), bytes); return `${ci}-${name}`; };
    const edgeq = (weights: string, name: string, bytes: Uint8Array) => {
      const model = file(name, bytes);
      for (const build of builds) cands.push({ runtime: 'edgeq', weights, build, modelBytes: bytes.length, node: bytes, page: { runtime: 'edgeq', model, build, shape: c.shape } });
    };
    const ortCand = (runtime: string, weights: string, v: OnnxVariant) => {
      cands.push({ runtime, weights, variant: v, modelBytes: v.bytes.length, page: { runtime: 'ort', model: file(`${runtime}-${v.layout}.onnx`.replace(/[^\w.-]+/g, '-'), v.bytes), input: v.input, shape: v.shape } });
    };
    if (c.int8) {
      const int8 = await denseInt8(c, graph);
      edgeq('int8, dense (the weights ORT int8 gets)', 'dense.edgeq', encodeModel(int8));
      for (const layout of INT8_LAYOUTS) ortCand('ORT-web int8', 'int8, dense', int8Onnx(int8, layout));
      edgeq('int8, pruned (the shipped .edgeq file)', 'pruned.edgeq', readFileSync(join(root, c.edgeq)));
    } else {
      // the LSTM's kernel runs its weights dense, whatever the file holds
      edgeq('int8, dense kernel (the shipped .edgeq file, pruned and clustered)', 'model.edgeq', readFileSync(join(root, c.edgeq)));
    }
    const json = readFileSync(join(root, c.float)), weightsBin = readFileSync(join(root, dirname(c.float), 'weights.bin'));
    cands.push({ runtime: 'TF.js wasm', weights: 'float', modelBytes: json.length + weightsBin.length, page: { runtime: 'tfjs', model: file('model.json', json), weights: file('weights.bin', weightsBin), shape: c.shape } });
    for (const layout of c.shape.length === 3 ? (['nchw', 'nhwc-transpose'] as const) : (['nchw'] as const)) ortCand('ORT-web float', 'float', floatOnnx(graph, layout));

    const page = await openBenchPage(browser, url);
    const out = await page.load(cands.map((x) => x.page), `images-${ci}.bin`);
    // edgeq: every build in Chromium gives Node's SIMD engine's scores, bit for bit
    const nodeScores = new Map<Uint8Array, { want64: Float32Array; want1: Float32Array }>();
    for (const [i, x] of cands.entries()) {
      if (!x.node) continue;
      if (!nodeScores.has(x.node)) {
        const m = await loadModel(x.node, { build: 'simd' });
        const want1 = new Float32Array(640);
        for (let k = 0; k < 64; k++) want1.set(m.predict(images.subarray(k * 784, (k + 1) * 784)), k * 10);
        nodeScores.set(x.node, { want64: m.predict(images, { batch: 64 }), want1 });
        m.dispose();
      }
      const { want64, want1 } = nodeScores.get(x.node)!;
      for (const [batch, got, want] of [[64, out[i].batch64, want64], [1, out[i].batch1, want1]] as const) {
        const bits = new Uint32Array(Float32Array.from(got).buffer), wantBits = new Uint32Array(want.buffer);
        const differ = wantBits.reduce((n, b, j) => n + (b !== bits[j] || got.length !== want.length ? 1 : 0), 0);
        if (differ) throw new Error(`${c.name}, edgeq ${x.build} (${x.weights}) at batch ${batch} in Chromium: ${differ} of ${want.length} scores differ from Node's SIMD engine`);
      }
    }
    const tfIdx = cands.findIndex((x) => x.runtime === 'TF.js wasm');
    const top1 = (i: number) => argmaxRows(Float32Array.from(out[i].batch64), 64, 10);
    const agreement = cands.map((_, i) => accuracy(top1(i), top1(tfIdx)));

    process.stderr.write(`  timing ${cands.length} candidates\n`);
    const s = await page.time(T);
    await page.close();
    // per ORT runtime, the layout fastest at batch 1 (as bench/compare.ts)
    const chosen = new Set<number>();
    for (const rt of new Set(cands.map((x) => x.runtime))) {
      const idx = cands.map((_, i) => i).filter((i) => cands[i].runtime === rt);
      if (!cands[idx[0]].variant) idx.forEach((i) => chosen.add(i));
      else chosen.add(idx.reduce((a, b) => (s.batch1[b].median < s.batch1[a].median ? b : a)));
    }
    const b64 = (x: Stat) => ({ ...x, imgPerSec: 64000 / x.median });
    cands.forEach((x, i) => {
      if (x.variant) layouts.push({ case: c.name, runtime: x.runtime, layout: x.variant.layout, description: x.variant.description, batch1: s.batch1[i], batch64: b64(s.batch64[i]), agreement: agreement[i], chosen: chosen.has(i) });
    });
    // cold starts, interleaved across the reported candidates in rounds
    const picked = [...chosen].sort((a, b) => a - b);
    process.stderr.write(`  cold starts: ${picked.length} runtimes × ${T.cold}\n`);
    const colds = picked.map(() => [] as Awaited<ReturnType<typeof coldStart>>[]);
    for (let r = 0; r < T.cold; r++) for (const [j, i] of picked.entries()) colds[j].push(await coldStart(browser, url, cands[i].page));
    for (const [j, i] of picked.entries()) {
      const x = cands[i], med = (k: 'scriptToFirstMs' | 'bytesToFirstMs' | 'navigationToFirstMs') => stat(colds[j].map((v) => v[k])).median;
      rows.push({
        case: c.name, runtime: x.runtime, build: x.build, weights: x.weights, layout: x.variant?.layout,
        batch1: s.batch1[i], batch64: b64(s.batch64[i]), agreementWithTfjs: agreement[i],
        cold: { scriptToFirstMs: med('scriptToFirstMs'), bytesToFirstMs: med('bytesToFirstMs'), navigationToFirstMs: med('navigationToFirstMs'), runs: colds[j].length },
        modelBytes: x.modelBytes,
      });
    }
  }

  const results: BrowserResults = {
    date: new Date().toISOString(), machine: `${cpus().length} × ${cpus()[0]?.model.trim()}`, cores: cpus().length,
    chromium: browser.version(), node: process.version, threads: 1, quick, protocol: T, relaxed, rows, layouts,
  };
  const compareFile = join(root, 'bench/results/compare.json');
  const node = existsSync(compareFile) ? JSON.parse(readFileSync(compareFile, 'utf8')) : undefined;
  console.log(`\n${markdown(results)}\n`);
  const jsonOut = opt('--json'), svgOut = opt('--svg');
  if (jsonOut) { mkdirSync(dirname(jsonOut), { recursive: true }); writeFileSync(jsonOut, JSON.stringify(results, null, 2) + '\n'); }
  if (svgOut) { mkdirSync(dirname(svgOut), { recursive: true }); writeFileSync(svgOut, chart(results, node)); }
} catch (e) {
  // here rather than as an unhandled rejection, which TF.js's wasm backend rethrows with
  // a screenful of its own source
  console.error(`bench/browser.ts: ${e instanceof Error ? e.stack : String(e)}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  server?.close();
  rmSync(site, { recursive: true, force: true });
}
