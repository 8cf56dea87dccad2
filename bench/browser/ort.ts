// ONNX Runtime Web's wasm build, as one module for the browser benchmark's pages
// (bench/browser.ts bundles it to ort.js; ort-wasm-simd-threaded.wasm is served beside it).
export * from 'onnxruntime-web/wasm';
