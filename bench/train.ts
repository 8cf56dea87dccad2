// Training speed of the reference models (forward + backward + Adam, what `edgeq train`
// runs: src/toolchain/train), in images per second per TF.js backend on this machine.
//
//   npx tsx bench/train.ts [--quick] [--webgpu] [--json FILE]     (npm run bench:train)
//
// Each model and backend trains from the same seeded weights on the first N training
// images (batch 64, Adam, lr 0.001) for two epochs; the figure is the second epoch's
// training images per second (the first includes kernel compilation and warm-up), the
// test pass after each epoch excluded (trainLoop times the fit alone). --webgpu adds
// WebGPU (on a machine without a GPU: SwiftShader, slow). Not a test: it prints and
// asserts nothing.

import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { referenceModel, type Arch } from '../models/architectures.js';
import { loadDataset, take } from '../src/toolchain/data/datasets.js';
import { chooseBackend, type BackendName } from '../src/toolchain/train/backend.js';
import { trainLoop } from '../src/toolchain/train/loop.js';
import { tensorsOf } from '../src/toolchain/train/train.js';
import { trainMarkdown, type TrainBench, type TrainRow } from './train-report.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npx tsx bench/train.ts [--quick] [--webgpu] [--json FILE]\n  --quick   512 training images (default 2,048), 64 for the cpu backend and WebGPU (default 128)\n  --webgpu  also WebGPU (SwiftShader where there is no GPU: slow)');
  process.exit(0);
}
const quick = args.includes('--quick');
const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const backends: BackendName[] = ['wasm', 'cpu', ...(args.includes('--webgpu') ? ['webgpu' as const] : [])];
// the cpu backend is 5–100× slower (the CNN at ~2 img/s): fewer images keep the run short
const images = (b: BackendName) => (b === 'wasm' ? (quick ? 512 : 2048) : quick ? 64 : 128);
const cases: { arch: Arch; data: string }[] = [{ arch: 'cnn', data: 'fashion-mnist' }, { arch: 'lstm', data: 'mnist' }];

tf.enableProdMode();
const rows: TrainRow[] = [];
for (const c of cases) {
  const train = await loadDataset(c.data, 'train');
  const test = take(await loadDataset(c.data, 'test'), 256);
  for (const b of backends) {
    const choice = await chooseBackend(b);
    const n = images(b);
    const { x, y } = tensorsOf(take(train, n), c.arch);
    const t = tensorsOf(test, c.arch);
    const model = referenceModel(tf, c.arch, train.classes.length, 1);
    process.stderr.write(`${c.arch} on ${choice.name}: ${n} images × 2 epochs\n`);
    const h = await trainLoop({ model, x, y, test: { x: t.x, labels: test.labels }, epochs: 2, batch: 64, lr: 0.001 });
    rows.push({ arch: c.arch, data: c.data, backend: choice.name, note: choice.note, images: n, imagesPerSecond: h[1].imagesPerSecond, firstEpochImagesPerSecond: h[0].imagesPerSecond });
    model.dispose();
    tf.dispose([x, y, t.x, t.y]);
  }
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}`;
const result: TrainBench = { date: new Date().toISOString(), machine, node: process.version, quick, rows };
console.log(`\n${trainMarkdown(result)}`);
const json = opt('--json');
if (json) {
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
}
