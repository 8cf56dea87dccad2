// Builds the runtime bundles into dist/web/: edgeq.js (ESM, no Node built-ins) with the
// engine .wasm files beside it, and edgeq.inline.js with the simd and scalar engines inlined; prints
// raw and gzip sizes. `npm run build:bundle` (part of `npm run build`).

import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { deflateRawSync, gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface BundleSizes { file: string; raw: number; gzip: number }

export async function buildBundles(outDir = join(root, 'dist', 'web')): Promise<BundleSizes[]> {
  mkdirSync(outDir, { recursive: true });
  const common = { bundle: true, format: 'esm' as const, platform: 'browser' as const, target: 'es2020', minify: true, logLevel: 'error' as const, legalComments: 'none' as const };
  await build({ ...common, entryPoints: [join(root, 'src/runtime/browser.ts')], outfile: join(outDir, 'edgeq.js') });
  // the engines inlined raw-deflated and base64-encoded (a third of their base64 size),
  // inflated by fflate when a model first asks for a build
  const license = readFileSync(join(root, 'node_modules/fflate/LICENSE'), 'utf8').split('\n').find((l) => l.startsWith('Copyright')) ?? '';
  await build({
    ...common, entryPoints: [join(root, 'src/runtime/inline.ts')], outfile: join(outDir, 'edgeq.inline.js'),
    banner: { js: `/*! edgeq.inline.js: edgeq's runtime and its simd and scalar engines. Includes fflate (inflate), MIT License, ${license} */` },
    plugins: [{
      name: 'deflated-wasm',
      setup(b) {
        b.onResolve({ filter: /\.wasm\?deflated$/ }, (args) => ({ path: join(args.resolveDir, args.path.replace(/\?deflated$/, '')), namespace: 'deflated' }));
        b.onLoad({ filter: /.*/, namespace: 'deflated' }, (args) => ({
          contents: `export default ${JSON.stringify(deflateRawSync(readFileSync(args.path), { level: 9 }).toString('base64'))};`, loader: 'js',
        }));
      },
    }],
  });
  for (const b of ['simd', 'scalar', 'relaxed']) copyFileSync(join(root, 'build', `edgeq.${b}.wasm`), join(outDir, `edgeq.${b}.wasm`));
  const sizes = ['edgeq.js', 'edgeq.inline.js', 'edgeq.simd.wasm', 'edgeq.scalar.wasm', 'edgeq.relaxed.wasm'].map((file) => {
    const bytes = readFileSync(join(outDir, file));
    return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  writeFileSync(join(outDir, 'sizes.json'), JSON.stringify(sizes, null, 2));
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const s of await buildBundles()) console.log(`${s.file.padEnd(18)} ${String(s.raw).padStart(8)} B raw ${String(s.gzip).padStart(8)} B gzip`);
}
