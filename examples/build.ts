// Builds the examples into build/examples/: esbuild bundles, pages, and the data they
// load. `npx tsx examples/build.ts` (npm run build:examples).

import { build } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadDataset, type Dataset } from '../src/data/datasets.js';

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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = join(here, '..', 'build', 'examples', 'train-browser');
  await buildTrainBrowser(out);
  console.log(`built ${out}`);
}
