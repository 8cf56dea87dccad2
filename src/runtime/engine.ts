// Instantiates the engine .wasm (it has no imports) and types its exports.
// No Node or npm dependency: runs in any JavaScript host with WebAssembly.

export type EngineBuild = 'simd' | 'scalar' | 'relaxed';

export interface EngineExports {
  memory: WebAssembly.Memory;
  engine_simd(): number;
  engine_relaxed(): number;
  mem_alloc(size: number): number;
  mem_reset(): void;
  mem_used(): number;
  quant_multiplier(inScale: number, weightScale: number, outScale: number): number;
  quant_act_min(act: number, scale: number, zp: number): number;
  quant_act_max(act: number, scale: number, zp: number): number;
  window_out_size(size: number, window: number, stride: number, pad: number): number;
  window_pad_before(size: number, window: number, stride: number, pad: number): number;
  gemm_packed_size(n: number, k: number): number;
  gemm_pack(w: number, n: number, k: number, bias: number, wscale: number,
    inScale: number, inZp: number, outScale: number, packed: number): void;
  gemm_s8(m: number, n: number, k: number, a: number, lda: number, packed: number,
    c: number, ldc: number, stage: number, zp: number, qmin: number, qmax: number): void;
  conv2d_s8_ref(x: number, batch: number, h: number, w: number, c: number,
    weights: number, bias: number, wscale: number, oc: number, kh: number, kw: number,
    sh: number, sw: number, pad: number, inScale: number, inZp: number,
    outScale: number, outZp: number, act: number, y: number): void;
  conv2d_s8_im2col(x: number, batch: number, h: number, w: number, c: number,
    packed: number, oc: number, kh: number, kw: number, sh: number, sw: number, pad: number,
    inZp: number, outScale: number, outZp: number, act: number, y: number, scratch: number): void;
  conv2d_scratch_size(w: number, c: number, kh: number, kw: number, sw: number, pad: number): number;
  conv2d_max_pool2d_s8_im2col(x: number, batch: number, h: number, w: number, c: number,
    packed: number, oc: number, kh: number, kw: number, sh: number, sw: number, pad: number,
    inZp: number, outScale: number, outZp: number, act: number,
    pkh: number, pkw: number, psh: number, psw: number, ppad: number, y: number, scratch: number): void;
  conv2d_max_pool2d_scratch_size(w: number, c: number, oc: number, kh: number, kw: number, sw: number, pad: number,
    pkh: number, pkw: number, psw: number, ppad: number): number;
  conv1d_s8_ref(x: number, batch: number, steps: number, c: number,
    weights: number, bias: number, wscale: number, f: number, k: number,
    stride: number, dilation: number, pad: number, inScale: number, inZp: number,
    outScale: number, outZp: number, act: number, y: number): void;
  conv1d_s8_im2col(x: number, batch: number, steps: number, c: number,
    packed: number, f: number, k: number, stride: number, dilation: number, pad: number,
    inZp: number, outScale: number, outZp: number, act: number, y: number, scratch: number): void;
  conv1d_scratch_size(steps: number, c: number, k: number, stride: number, dilation: number, pad: number): number;
  depthwise_conv2d_s8_ref(x: number, batch: number, h: number, w: number, c: number,
    weights: number, bias: number, wscale: number, m: number, kh: number, kw: number,
    sh: number, sw: number, pad: number, inScale: number, inZp: number,
    outScale: number, outZp: number, act: number, y: number): void;
  depthwise_conv2d_packed_size(oc: number, kh: number, kw: number): number;
  depthwise_conv2d_pack(w: number, oc: number, kh: number, kw: number, bias: number, wscale: number,
    inScale: number, inZp: number, outScale: number, packed: number): void;
  depthwise_conv2d_s8_c8(x: number, batch: number, h: number, w: number, c: number,
    packed: number, m: number, kh: number, kw: number, sh: number, sw: number, pad: number,
    inZp: number, outScale: number, outZp: number, act: number, y: number): void;
  add_s8_ref(a: number, b: number, batch: number, n: number, nb: number, aScale: number, aZp: number,
    bScale: number, bZp: number, outScale: number, outZp: number, act: number, y: number): void;
  add_s8_x16(a: number, b: number, batch: number, n: number, nb: number, aScale: number, aZp: number,
    bScale: number, bZp: number, outScale: number, outZp: number, act: number, y: number): void;
  multiply_s8_ref(a: number, b: number, batch: number, n: number, nb: number, aScale: number, aZp: number,
    bScale: number, bZp: number, outScale: number, outZp: number, act: number, y: number): void;
  multiply_s8_x16(a: number, b: number, batch: number, n: number, nb: number, aScale: number, aZp: number,
    bScale: number, bZp: number, outScale: number, outZp: number, act: number, y: number): void;
  concatenate_s8_ref(a: number, b: number, rows: number, ca: number, cb: number, aScale: number, aZp: number,
    bScale: number, bZp: number, outScale: number, outZp: number, y: number): void;
  concatenate_s8_x16(a: number, b: number, rows: number, ca: number, cb: number, aScale: number, aZp: number,
    bScale: number, bZp: number, outScale: number, outZp: number, y: number): void;
  activation_s8_ref(x: number, n: number, act: number, alpha: number, inScale: number, inZp: number,
    outScale: number, outZp: number, y: number): void;
  activation_s8_table(act: number, alpha: number, inScale: number, inZp: number, outScale: number, outZp: number, table: number): void;
  activation_s8_lut(x: number, n: number, table: number, y: number): void;
  channel_affine_s8_ref(x: number, n: number, c: number, ab: number, inScale: number, inZp: number, outScale: number, outZp: number, y: number): void;
  channel_affine_prepare(c: number, ab: number, inScale: number, outScale: number, table: number): void;
  channel_affine_s8_table(x: number, n: number, c: number, table: number, inZp: number, outZp: number, y: number): void;
  conv2d_sparse_pairs(w: number, n: number, kh: number, kw: number, c: number): number;
  conv2d_sparse_packed_size(n: number, pairs: number, c: number): number;
  conv2d_sparse_pack(w: number, n: number, kh: number, kw: number, c: number, h: number, wd: number, pad: number,
    bias: number, wscale: number, inScale: number, inZp: number, outScale: number, packed: number): void;
  conv2d_sparse_scratch_size(h: number, w: number, c: number, oc: number, kh: number, kw: number, pad: number,
    pkh: number, psh: number, ppad: number): number;
  conv2d_max_pool2d_s8_sparse(x: number, batch: number, h: number, w: number, c: number,
    packed: number, oc: number, kh: number, kw: number, pad: number,
    inZp: number, outScale: number, outZp: number, act: number,
    pkh: number, pkw: number, psh: number, psw: number, ppad: number, y: number, scratch: number): void;
  dense_s8_ref(x: number, batch: number, k: number, weights: number, bias: number, wscale: number,
    n: number, inScale: number, inZp: number, outScale: number, outZp: number, act: number, y: number): void;
  dense_s8_gemm(x: number, batch: number, k: number, packed: number, n: number,
    outScale: number, outZp: number, act: number, y: number): void;
  max_pool2d_s8_ref: Pool2dFn;
  max_pool2d_s8_c16: Pool2dFn;
  avg_pool2d_s8_ref: Pool2dFn;
  avg_pool2d_s8_c16: Pool2dFn;
  global_avg_pool2d_s8_ref(x: number, batch: number, h: number, w: number, c: number, y: number): void;
  global_avg_pool2d_s8_c16(x: number, batch: number, h: number, w: number, c: number, y: number): void;
  global_max_pool2d_s8_ref(x: number, batch: number, h: number, w: number, c: number, y: number): void;
  global_max_pool2d_s8_c16(x: number, batch: number, h: number, w: number, c: number, y: number): void;
  upsample2d_s8_ref(x: number, batch: number, h: number, w: number, c: number, fh: number, fw: number, y: number): void;
  upsample2d_s8_rows(x: number, batch: number, h: number, w: number, c: number, fh: number, fw: number, y: number): void;
  pad2d_s8_ref(x: number, batch: number, h: number, w: number, c: number, top: number, bottom: number, left: number, right: number, zp: number, y: number): void;
  pad2d_s8_rows(x: number, batch: number, h: number, w: number, c: number, top: number, bottom: number, left: number, right: number, zp: number, y: number): void;
  lstm_s8_ref(x: number, batch: number, steps: number, features: number, units: number,
    wx: number, wxScale: number, wh: number, whScale: number, bias: number,
    inScale: number, inZp: number, outScale: number, outZp: number,
    act: number, recAct: number, sequences: number, direction: number, y: number, scratch: number): void;
  lstm_s8_gemm(x: number, batch: number, steps: number, features: number, units: number,
    packed: number, bias: number, outScale: number, outZp: number,
    act: number, recAct: number, sequences: number, direction: number, y: number, scratch: number): void;
  lstm_pack(wx: number, wxScale: number, wh: number, whScale: number, features: number, units: number,
    inScale: number, inZp: number, packed: number): void;
  lstm_packed_size(features: number, units: number): number;
  lstm_scratch_size(batch: number, steps: number, units: number): number;
  gru_s8_ref(x: number, batch: number, steps: number, features: number, units: number,
    wx: number, wxScale: number, wh: number, whScale: number, bias: number, resetAfter: number,
    inScale: number, inZp: number, outScale: number, outZp: number,
    act: number, recAct: number, sequences: number, direction: number, y: number, scratch: number): void;
  gru_s8_gemm(x: number, batch: number, steps: number, features: number, units: number,
    packed: number, bias: number, resetAfter: number, outScale: number, outZp: number,
    act: number, recAct: number, sequences: number, direction: number, y: number, scratch: number): void;
  gru_pack(wx: number, wxScale: number, wh: number, whScale: number, features: number, units: number, resetAfter: number,
    inScale: number, inZp: number, packed: number): void;
  gru_packed_size(features: number, units: number, resetAfter: number): number;
  gru_scratch_size(batch: number, steps: number, units: number): number;
  activation_f32_ref(act: number, x: number, n: number, y: number): void;
  activation_f32_x4(act: number, x: number, n: number, y: number): void;
  softmax_s8_f32(x: number, rows: number, n: number, scale: number, y: number): void;
  peak_dot_i16x8(iterations: number, seed: number): number;
  mem_release(ptr: number): void;
  // the model engine (assembly/model/model.ts)
  model_load(ptr: number, len: number): number;
  model_prepare(batch: number): number;
  model_run(batch: number, inputKind: number): number;
  model_error_index(): number;
  model_error_reason(): number;
  model_input_ptr(): number;
  model_output_ptr(): number;
  model_arena_bytes(): number;
  model_arena_live_peak(): number;
  model_scratch_bytes(): number;
  model_weight_bytes(): number;
  model_metadata_ptr(): number;
  model_metadata_size(): number;
  model_tensor_count(): number;
  model_op_count(): number;
  model_input_tensor(): number;
  model_output_tensor(): number;
  model_format_version(): number;
  model_pixel_channels(): number;
  model_pixel_rule(c: number, which: number): number;
  model_tensor_info(t: number, field: number): number;
  model_tensor_scale(t: number, channel: number): number;
  model_op_info(o: number, field: number): number;
}

type Pool2dFn = (x: number, batch: number, h: number, w: number, c: number,
  ph: number, pw: number, sh: number, sw: number, pad: number, y: number) => void;

// The smallest module that uses a v128 instruction: validates only where the engine
// implements fixed-width SIMD.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0,
  65, 0, 253, 15, 253, 98, 11,
]);

export function simdSupported(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}

// The same with i32x4.relaxed_dot_i8x16_i7x16_add_s: validates where the engine has the
// final relaxed-SIMD opcodes (Chromium 114+, workerd; Node 20 only behind a flag).
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0,
  65, 0, 253, 15, 65, 0, 253, 15, 65, 0, 253, 15, 253, 147, 2, 11,
]);

export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(RELAXED_PROBE);
}

export async function instantiateEngine(source: BufferSource | WebAssembly.Module): Promise<EngineExports> {
  const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
  const instance = await WebAssembly.instantiate(module, {});
  return instance.exports as unknown as EngineExports;
}
