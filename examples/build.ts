// Builds the examples into build/examples/: esbuild bundles, pages, and the data they
// load. `npx tsx examples/build.ts` (npm run build:examples).

import { build } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadDataset, type Dataset } from '../src/toolchain/data/datasets.js';

const here = fileURLToPath(new URL('.', import.meta.url));

// [u32 count][count × 784 pixels][count labels]
export function mnistSlice(d: Dataset): Uint8Array {
  const out = new Uint8Array(4 + d.count * 785);
  new DataView(out.buffer).setUint32(0, d.count, true);
  out.set(d.images, 4);
  out.set(d.labels, 4 + d.count * 784);
  return out;
}

export async function buildTrainBrowser(outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(here, 'train-browser/main.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    outfile: join(outDir, 'main.js'), minify: true, logLevel: 'error',
  });
  copyFileSync(join(here, 'train-browser/index.html'), join(outDir, 'index.html'));
  writeFileSync(join(outDir, 'mnist-train.bin'), mnistSlice(await loadDataset('mnist', 'train')));
  writeFileSync(join(outDir, 'mnist-test.bin'), mnistSlice(await loadDataset('mnist', 'test')));
}

// The webview page, its script, the engines, the model and sample digits.
export async function buildWebview(outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(here, 'webview/app.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2020',
    outfile: join(outDir, 'app.js'), minify: true, logLevel: 'error',
  });
  copyFileSync(join(here, 'webview/index.html'), join(outDir, 'index.html'));
  for (const b of ['simd', 'scalar']) copyFileSync(join(here, '..', 'build', `edgeq.${b}.wasm`), join(outDir, `edgeq.${b}.wasm`));
  copyFileSync(join(here, '..', 'models', 'cnn-mnist.edgeq'), join(outDir, 'cnn-mnist.edgeq'));
  const test = await loadDataset('mnist', 'test');
  const n = 10;
  const samples = new Uint8Array(1 + n * 784);
  samples[0] = n;
  for (let i = 0; i < n; i++) samples.set(test.images.subarray(i * 784, (i + 1) * 784), 1 + i * 784);
  writeFileSync(join(outDir, 'samples.bin'), samples);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = join(here, '..', 'build', 'examples');
  await buildTrainBrowser(join(out, 'train-browser'));
  await buildWebview(join(out, 'webview'));
  console.log(`built ${out}/train-browser and ${out}/webview`);
}
