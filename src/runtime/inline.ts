// edgeq in one file, for webviews that load a single script: both engine builds are
// inlined (base64) into the bundle. Larger than edgeq.js + a .wasm, but nothing to serve.

import scalar from '../../build/edgeq.scalar.wasm';
import simd from '../../build/edgeq.simd.wasm';
import { setDefaultEngine } from './model.js';

export * from './index.js';

setDefaultEngine((build) => (build === 'simd' ? simd : scalar));
