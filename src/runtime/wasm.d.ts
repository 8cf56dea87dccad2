// esbuild's binary loader (the inlined bundle): a .wasm import is its bytes.
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}

// wrangler's Data rule (the Worker example): an .edgeq import is its bytes.
declare module '*.edgeq' {
  const bytes: ArrayBuffer;
  export default bytes;
}
