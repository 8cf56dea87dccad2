// edgeq for browsers, webviews and bundlers: the runtime API with the engine fetched
// from next to this module (edgeq.simd.wasm / edgeq.scalar.wasm). Cloudflare Workers
// cannot compile wasm from bytes: import the .wasm as a module and pass it as
// { engine } to loadModel instead.

import { EngineError } from './errors.js';
import { setDefaultEngine } from './model.js';

export * from './index.js';

setDefaultEngine(async (build) => {
  const url = new URL(`./edgeq.${build}.wasm`, import.meta.url);
  const res = await fetch(url);
  if (!res.ok) throw new EngineError('E_ENGINE_MISSING', `engine ${url} answered HTTP ${res.status}: serve edgeq.${build}.wasm next to edgeq.js`);
  const ct = res.headers.get('content-type') ?? '';
  if (typeof WebAssembly.compileStreaming === 'function' && ct.startsWith('application/wasm')) return WebAssembly.compileStreaming(res);
  return res.arrayBuffer();
});
