// Explaining a prediction: the same explain() (src/runtime/explain.ts) with its forward
// passes on edgeq's int8 engine (SIMD build) and on TF.js's wasm backend (XNNPACK, SIMD,
// one thread) running the float model, on the reference CNN.
//
//   npx tsx bench/explain.ts [--quick] [--json FILE]      (npm run bench:explain)
//
// Like for like: the same images (the first Fashion-MNIST test images, as pixels: edgeq
// applies its pixel rule, the TF.js wrapper divides by 255 as the float model was
// trained), the same method, samples, patch, seed and batch (64), so the same masks;
// only the model differs. Each explanation is timed end to end (its model calls, the
// masks and the regression), runtimes interleaved image by image over several rounds;
// the time spent inside predict is summed separately. Agreement: Pearson correlation of
// the per-segment weights (occlusion: per-pixel attributions), int8 engine against
// float model, both for the float model's class. Not a test: it prints and
// asserts nothing.

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { explain, type ExplainOptions, type Predictor } from '../src/runtime/explain.js';
import { engineFile, loadModel } from '../src/runtime/node.js';
import { loadDataset, take } from '../src/toolchain/data/datasets.js';
import { loadLayersModelFile } from '../src/toolchain/convert/load.js';
import { CASES } from './cases.js';
import { explainMarkdown, type ExplainBench, type ExplainRow } from './explain-report.js';
import { stat } from './timing.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npx tsx bench/explain.ts [--quick] [--json FILE]\n  --quick  2 images, 2 rounds (default 5 images, 4 rounds)');
  process.exit(0);
}
const quick = args.includes('--quick');
const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const root = new URL('..', import.meta.url).pathname;
const IMAGES = quick ? 2 : 5, ROUNDS = quick ? 2 : 4;
const METHODS: { name: string; options: ExplainOptions }[] = [
  { name: 'LIME, 1,000 samples', options: { method: 'lime', samples: 1000 } },
  { name: 'KernelSHAP, 1,000 samples', options: { method: 'shap', samples: 1000 } },
  { name: 'occlusion', options: { method: 'occlusion' } },
];
const c = CASES[0]; // the reference CNN

await tf.setBackend('wasm');
tf.enableProdMode();
const images = take(await loadDataset(c.data, 'test'), IMAGES).images;
const edgeq = await loadModel(readFileSync(join(root, c.edgeq)), { engine: readFileSync(engineFile('simd')) });
const { model: float } = await loadLayersModelFile(join(root, c.float));

// Time spent in each runtime's predict, summed over an explanation.
interface Timed extends Predictor { predictMs: number }
function timed(p: Predictor): Timed {
  const t: Timed = {
    inputShape: p.inputShape, outputShape: p.outputShape, predictMs: 0,
    predict(input, o) { const s = performance.now(); const y = p.predict(input, o); t.predictMs += performance.now() - s; return y; },
  };
  return t;
}
const runtimes: { name: string; model: Timed }[] = [
  { name: 'edgeq SIMD, int8 (pruned .edgeq)', model: timed(edgeq) },
  {
    name: 'TF.js wasm, float', model: timed({
      inputShape: c.shape, outputShape: [10],
      predict: (x, o) => tf.tidy(() => {
        const n = o?.batch ?? 1;
        const values = x instanceof Uint8Array ? Float32Array.from(x, (v) => v / 255) : x;
        return (float.predict(tf.tensor(values, [n, ...c.shape], 'float32')) as tf.Tensor).dataSync() as Float32Array;
      }),
    }),
  },
];

function pearson(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i] / n; mb += b[i] / n; }
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) { ab += (a[i] - ma) * (b[i] - mb); aa += (a[i] - ma) ** 2; bb += (b[i] - mb) ** 2; }
  return ab / Math.sqrt(aa * bb);
}

const rows: ExplainRow[] = [];
const targets = Array.from({ length: IMAGES }, (_, i) => {
  const y = runtimes[1].model.predict(images.subarray(i * 784, (i + 1) * 784));
  return y.indexOf(Math.max(...y));
});
const agreement: { method: string; pearson: number[] }[] = [];
for (const m of METHODS) {
  process.stderr.write(`${m.name}\n`);
  const options = { ...m.options, seed: 1, batch: 64 };
  // one untimed explanation per runtime first (compilation, TF.js's kernels' first use)
  for (const r of runtimes) explain(r.model, images.subarray(0, 784), options);
  const ms = runtimes.map(() => [] as number[]), pm = runtimes.map(() => [] as number[]);
  const weights = runtimes.map(() => [] as Float32Array[]);
  let samples = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < IMAGES; i++) {
      const image = images.subarray(i * 784, (i + 1) * 784);
      // both explain the float model's class, so that the weights compared are of one class
      const target = targets[i];
      runtimes.forEach((r, k) => {
        r.model.predictMs = 0;
        const t = performance.now();
        const e = explain(r.model, image, { ...options, target });
        ms[k].push(performance.now() - t);
        pm[k].push(r.model.predictMs);
        samples = e.samples;
        if (round === 0) weights[k].push(e.segmentWeights ?? e.attributions);
      });
    }
  }
  runtimes.forEach((r, k) => rows.push({ method: m.name, runtime: r.name, explainMs: stat(ms[k]), predictMs: stat(pm[k]), samples, predictShare: stat(pm[k]).median / stat(ms[k]).median }));
  agreement.push({ method: m.name, pearson: weights[0].map((w, i) => pearson(w, weights[1][i])) });
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}`;
const result: ExplainBench = { date: new Date().toISOString(), machine, node: process.version, threads: 1, quick, images: IMAGES, rounds: ROUNDS, model: c.name, rows, agreement };
console.log(`\n${explainMarkdown(result)}`);
const json = opt('--json');
if (json) {
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
}
edgeq.dispose();
