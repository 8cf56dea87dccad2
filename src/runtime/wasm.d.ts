// a .wasm import is its bytes (the Worker example's CompiledWasm rule gives a module)
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}

// the inlined bundle (src/toolchain/bundle.ts): the engine raw-deflated, in base64
declare module '*.wasm?deflated' {
  const base64: string;
  export default base64;
}

// wrangler's Data rule (the Worker example): an .edgeq import is its bytes.
declare module '*.edgeq' {
  const bytes: ArrayBuffer;
  export default bytes;
}
