// esbuild's binary loader (the inlined bundle): a .wasm import is its bytes.
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}
