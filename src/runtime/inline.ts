// edgeq in one file, for webviews that load a single script: the simd and scalar
// engine builds are inlined, raw-deflated and base64-encoded (src/toolchain/bundle.ts), and inflated (fflate,
// bundled) the first time a model asks for that build. Larger than edgeq.js + a .wasm,
// but nothing to serve.

import { inflateSync } from 'fflate';
import scalar from '../../build/edgeq.scalar.wasm?deflated';
import simd from '../../build/edgeq.simd.wasm?deflated';
import { EngineError } from './errors.js';
import { setDefaultEngine } from './model.js';

export * from './index.js';

const decode = (base64: string) => inflateSync(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
// The relaxed build is not inlined (45 KB more for an opt-in build): asking for it is
// E_ENGINE_BUILD, as where relaxed SIMD does not validate, never a silent fall back.
setDefaultEngine((build) => {
  if (build === 'relaxed') throw new EngineError('E_ENGINE_BUILD', "edgeq.inline.js holds the simd and scalar builds only: for build 'relaxed' load edgeq.js with its .wasm files");
  return decode(build === 'simd' ? simd : scalar);
});
