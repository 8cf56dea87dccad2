// Bundles the Worker into examples/worker/dist/: worker.js with the engine .wasm and
// the model beside it, imported as modules (wrangler.toml's rules).
//
//   npm run build:worker                      the shipped models/cnn-mnist.edgeq
//   npx tsx examples/worker/build.ts my.edgeq  your own model (served under its name)

import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));

export async function buildWorker(outDir = join(here, 'dist'), model?: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(here, 'worker.ts')], bundle: true, format: 'esm', platform: 'neutral', target: 'es2022',
    outfile: join(outDir, 'worker.js'), logLevel: 'error', minify: true,
    plugins: [{
      // keep the engine and the model as imports of files beside worker.js
      name: 'assets',
      setup(b) {
        b.onResolve({ filter: /\.(wasm|edgeq)$/ }, (args) => {
          const isModel = args.path.endsWith('.edgeq');
          const file = isModel && model ? model : join(args.resolveDir, args.path);
          const name = isModel ? 'model.edgeq' : file.replace(/^.*[/\\]/, '');
          copyFileSync(file, join(outDir, name));
          return { path: `./${name}`, external: true };
        });
      },
    }],
  });
  return join(outDir, 'worker.js');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) console.log(`built ${await buildWorker(undefined, process.argv[2])}`);
