// edgeq for Node.js: the runtime API with the engine read from this package's files.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { instantiateEngine, simdSupported, type EngineBuild, type EngineExports } from './engine.js';
import { EngineError, ModelFormatError } from './errors.js';
import { loadModel, setDefaultEngine, type LoadOptions, type Model } from './model.js';

export * from './index.js';

// From source (src/runtime/), the engine builds are read from build/ at the repository
// root; from the package (dist/src/runtime/), from dist/web/, beside the bundles, so the
// package ships each engine once.
export function engineFile(build: EngineBuild): string {
  const candidates = ['../../build/', '../../web/'].map((dir) => fileURLToPath(new URL(`${dir}edgeq.${build}.wasm`, import.meta.url)));
  return candidates.find((path) => existsSync(path)) ?? candidates[0];
}

async function readEngine(build: EngineBuild): Promise<Uint8Array> {
  const path = engineFile(build);
  try {
    return await readFile(path);
  } catch {
    throw new EngineError('E_ENGINE_MISSING', `engine build '${build}' not found at ${path}: run \`npm run build:wasm\``);
  }
}

setDefaultEngine(readEngine);

// The raw engine exports (tests, benchmarks, tools).
export async function loadEngine(build: EngineBuild = simdSupported() ? 'simd' : 'scalar'): Promise<EngineExports> {
  return instantiateEngine(await readEngine(build));
}

// Reads and loads an .edgeq file.
export async function loadModelFile(path: string, options?: LoadOptions): Promise<Model> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelFormatError('E_FILE', code === 'ENOENT' ? `model file not found: ${path}` : `cannot read model file ${path}: ${(e as Error).message}`);
  }
  return loadModel(bytes, options);
}
