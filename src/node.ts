// Node-only helpers: locate and load the engine builds shipped in build/.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { instantiateEngine, simdSupported, type EngineBuild, type EngineExports } from './engine.js';

export function engineFile(build: EngineBuild): string {
  return fileURLToPath(new URL(`../build/edgeq.${build}.wasm`, import.meta.url));
}

export async function loadEngine(build: EngineBuild = simdSupported() ? 'simd' : 'scalar'): Promise<EngineExports> {
  const path = engineFile(build);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw new Error(`engine build '${build}' not found at ${path}: run \`npm run build:wasm\` first`);
  }
  return instantiateEngine(bytes);
}
