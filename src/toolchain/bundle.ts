// Builds the runtime bundles into dist/web/: edgeq.js (ESM, no Node built-ins) with the
// engine .wasm files beside it, and edgeq.inline.js with both engines inlined; prints
// raw and gzip sizes. `npm run build:bundle` (part of `npm run build`).

import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface BundleSizes { file: string; raw: number; gzip: number }

export async function buildBundles(outDir = join(root, 'dist', 'web')): Promise<BundleSizes[]> {
  mkdirSync(outDir, { recursive: true });
  const common = { bundle: true, format: 'esm' as const, platform: 'browser' as const, target: 'es2020', minify: true, logLevel: 'error' as const, legalComments: 'none' as const };
  await build({ ...common, entryPoints: [join(root, 'src/runtime/browser.ts')], outfile: join(outDir, 'edgeq.js') });
  await build({ ...common, entryPoints: [join(root, 'src/runtime/inline.ts')], outfile: join(outDir, 'edgeq.inline.js'), loader: { '.wasm': 'binary' } });
  for (const b of ['simd', 'scalar']) copyFileSync(join(root, 'build', `edgeq.${b}.wasm`), join(outDir, `edgeq.${b}.wasm`));
  const sizes = ['edgeq.js', 'edgeq.inline.js', 'edgeq.simd.wasm', 'edgeq.scalar.wasm'].map((file) => {
    const bytes = readFileSync(join(outDir, file));
    return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  writeFileSync(join(outDir, 'sizes.json'), JSON.stringify(sizes, null, 2));
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const s of await buildBundles()) console.log(`${s.file.padEnd(18)} ${String(s.raw).padStart(8)} B raw ${String(s.gzip).padStart(8)} B gzip`);
}
