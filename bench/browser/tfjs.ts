// TF.js with its wasm backend, as one module for the browser benchmark's pages
// (bench/browser.ts bundles it to tfjs.js; the backend's .wasm is served beside it).
export * from '@tensorflow/tfjs';
export { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
