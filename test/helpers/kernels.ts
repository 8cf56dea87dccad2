// Host-side wrappers over the engine's kernel exports: copy tensors into wasm memory,
// Prepare once (pack weights, size scratch), run cheaply, read results back.
// Used by the tests and the kernel benchmark; the model engine calls the same exports.
//
// Memory: every prepare* allocates on the engine heap; engine.mem_reset() frees all.

import type { EngineExports } from '../../src/runtime/engine.js';

import { FLOAT_ACTIVATION, FUSED_ACTIVATION, PADDING, RNN_DIRECTION, type RnnDirection, type Conv1dPadding, type FloatActivation, type FusedActivation, type Padding } from '../../src/runtime/codes.js';
import type { Quant } from '../../src/toolchain/format/model.js';

export type { Conv1dPadding, FloatActivation, FusedActivation, Padding, Quant };
// 'ref': the plain reference kernel; 'opt': the optimized kernel of this build
// (SIMD in the SIMD build, the same packed loops in scalar form in the scalar build).
export type Variant = 'ref' | 'opt';
// conv2d also has 'sparse': work only for non-zero weights (stride 1 only).
export type ConvVariant = Variant | 'sparse';

export interface PreparedOp<Out extends Int8Array | Float32Array = Int8Array> {
  readonly inputLength: number;
  readonly outputLength: number;
  setInput(x: ArrayLike<number>): void;
  run(): void;
  output(): Out;
}

export class Heap {
  constructor(readonly e: EngineExports) {}
  alloc(bytes: number): number {
    const p = this.e.mem_alloc(Math.max(bytes, 1));
    if (!p) throw new RangeError(`engine heap: cannot allocate ${bytes} bytes`);
    return p;
  }
  put(a: Int8Array | Int32Array | Float32Array | Uint8Array): number {
    const p = this.alloc(a.byteLength);
    new Uint8Array(this.e.memory.buffer, p, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return p;
  }
  write(ptr: number, a: ArrayLike<number>, kind: 'i8' | 'f32'): void {
    const view = kind === 'i8' ? new Int8Array(this.e.memory.buffer, ptr, a.length)
      : new Float32Array(this.e.memory.buffer, ptr, a.length);
    view.set(a);
  }
  i8(ptr: number, n: number): Int8Array { return new Int8Array(this.e.memory.buffer, ptr, n).slice(); }
  f32(ptr: number, n: number): Float32Array { return new Float32Array(this.e.memory.buffer, ptr, n).slice(); }
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new RangeError(what);
}

function op<Out extends Int8Array | Float32Array>(
  heap: Heap, inLength: number, inKind: 'i8' | 'f32', outLength: number, outKind: 'i8' | 'f32',
  body: (x: number, y: number) => () => void,
): PreparedOp<Out> {
  const x = heap.alloc(inLength * (inKind === 'i8' ? 1 : 4));
  const y = heap.alloc(outLength * (outKind === 'i8' ? 1 : 4));
  const run = body(x, y);
  return {
    inputLength: inLength,
    outputLength: outLength,
    setInput(a) {
      check(a.length === inLength, `input has ${a.length} elements, expected ${inLength}`);
      heap.write(x, a, inKind);
    },
    run,
    output: () => (outKind === 'i8' ? heap.i8(y, outLength) : heap.f32(y, outLength)) as Out,
  };
}

export interface Conv2dSpec {
  batch: number; height: number; width: number; channels: number;
  filters: number; kernel: [number, number]; strides: [number, number];
  padding: Padding; activation: FusedActivation;
  input: Quant; output: Quant;
  weights: Int8Array; // OHWI: [filters][kh][kw][channels]
  weightScales: Float32Array; // [filters]
  bias: Int32Array; // [filters], scale input.scale · weightScales[o]
}

export function conv2dOutputShape(e: EngineExports, s: Conv2dSpec): [number, number, number, number] {
  const pad = PADDING[s.padding];
  return [s.batch, e.window_out_size(s.height, s.kernel[0], s.strides[0], pad),
    e.window_out_size(s.width, s.kernel[1], s.strides[1], pad), s.filters];
}

export function prepareConv2d(heap: Heap, s: Conv2dSpec, variant: ConvVariant): PreparedOp {
  if (variant === 'sparse') return prepareConv2dMaxPool(heap, s, { pool: [1, 1], strides: [1, 1], padding: 'valid' }, 'sparse');
  const e = heap.e;
  const [kh, kw] = s.kernel;
  const [sh, sw] = s.strides;
  const pad = PADDING[s.padding];
  const act = FUSED_ACTIVATION[s.activation];
  const k = kh * kw * s.channels;
  check(s.weights.length === s.filters * k, 'conv2d: weights length');
  check(s.weightScales.length === s.filters && s.bias.length === s.filters, 'conv2d: scales / bias length');
  const outLength = conv2dOutputShape(e, s).reduce((a, b) => a * b, 1);
  const inLength = s.batch * s.height * s.width * s.channels;
  const w = heap.put(s.weights), bias = heap.put(s.bias), ws = heap.put(s.weightScales);
  return op(heap, inLength, 'i8', outLength, 'i8', (x, y) => {
    if (variant === 'ref') {
      return () => e.conv2d_s8_ref(x, s.batch, s.height, s.width, s.channels, w, bias, ws, s.filters,
        kh, kw, sh, sw, pad, s.input.scale, s.input.zeroPoint, s.output.scale, s.output.zeroPoint, act, y);
    }
    const packed = heap.alloc(e.gemm_packed_size(s.filters, k));
    e.gemm_pack(w, s.filters, k, bias, ws, s.input.scale, s.input.zeroPoint, s.output.scale, packed);
    const scratch = heap.alloc(e.conv2d_scratch_size(s.width, s.channels, kh, kw, sw, pad));
    return () => e.conv2d_s8_im2col(x, s.batch, s.height, s.width, s.channels, packed, s.filters,
      kh, kw, sh, sw, pad, s.input.zeroPoint, s.output.scale, s.output.zeroPoint, act, y, scratch);
  });
}

export interface Conv1dSpec {
  batch: number; steps: number; channels: number;
  filters: number; kernel: number; stride: number; dilation: number;
  padding: Conv1dPadding; activation: FusedActivation;
  input: Quant; output: Quant;
  weights: Int8Array; // [filters][kernel][channels]
  weightScales: Float32Array; // [filters]
  bias: Int32Array | null; // [filters], scale input.scale · weightScales[o]
}

export function conv1dOutputShape(e: EngineExports, s: Conv1dSpec): [number, number, number] {
  return [s.batch, e.window_out_size(s.steps, (s.kernel - 1) * s.dilation + 1, s.stride, PADDING[s.padding]), s.filters];
}

export function prepareConv1d(heap: Heap, s: Conv1dSpec, variant: Variant): PreparedOp {
  const e = heap.e;
  const pad = PADDING[s.padding];
  const act = FUSED_ACTIVATION[s.activation];
  const k = s.kernel * s.channels;
  check(s.weights.length === s.filters * k, 'conv1d: weights length');
  check(s.weightScales.length === s.filters && (!s.bias || s.bias.length === s.filters), 'conv1d: scales / bias length');
  const outLength = conv1dOutputShape(e, s).reduce((a, b) => a * b, 1);
  const w = heap.put(s.weights), bias = s.bias ? heap.put(s.bias) : 0, ws = heap.put(s.weightScales);
  return op(heap, s.batch * s.steps * s.channels, 'i8', outLength, 'i8', (x, y) => {
    if (variant === 'ref') {
      return () => e.conv1d_s8_ref(x, s.batch, s.steps, s.channels, w, bias, ws, s.filters, s.kernel, s.stride, s.dilation, pad,
        s.input.scale, s.input.zeroPoint, s.output.scale, s.output.zeroPoint, act, y);
    }
    const packed = heap.alloc(e.gemm_packed_size(s.filters, k));
    e.gemm_pack(w, s.filters, k, bias, ws, s.input.scale, s.input.zeroPoint, s.output.scale, packed);
    const scratch = heap.alloc(e.conv1d_scratch_size(s.steps, s.channels, s.kernel, s.stride, s.dilation, pad));
    return () => e.conv1d_s8_im2col(x, s.batch, s.steps, s.channels, packed, s.filters, s.kernel, s.stride, s.dilation, pad,
      s.input.zeroPoint, s.output.scale, s.output.zeroPoint, act, y, scratch);
  });
}

export interface DepthwiseConv2dSpec {
  batch: number; height: number; width: number; channels: number;
  multiplier: number; kernel: [number, number]; strides: [number, number];
  padding: Padding; activation: FusedActivation;
  input: Quant; output: Quant;
  weights: Int8Array; // [channels · multiplier][kh][kw]
  weightScales: Float32Array; // [channels · multiplier]
  bias: Int32Array | null; // [channels · multiplier], scale input.scale · weightScales[o]
}

export function depthwiseConv2dOutputShape(e: EngineExports, s: DepthwiseConv2dSpec): [number, number, number, number] {
  const pad = PADDING[s.padding];
  return [s.batch, e.window_out_size(s.height, s.kernel[0], s.strides[0], pad),
    e.window_out_size(s.width, s.kernel[1], s.strides[1], pad), s.channels * s.multiplier];
}

export function prepareDepthwiseConv2d(heap: Heap, s: DepthwiseConv2dSpec, variant: Variant): PreparedOp {
  const e = heap.e;
  const [kh, kw] = s.kernel;
  const [sh, sw] = s.strides;
  const pad = PADDING[s.padding];
  const act = FUSED_ACTIVATION[s.activation];
  const oc = s.channels * s.multiplier;
  check(s.weights.length === oc * kh * kw, 'depthwise conv2d: weights length');
  check(s.weightScales.length === oc && (!s.bias || s.bias.length === oc), 'depthwise conv2d: scales / bias length');
  const outLength = depthwiseConv2dOutputShape(e, s).reduce((a, b) => a * b, 1);
  const inLength = s.batch * s.height * s.width * s.channels;
  const w = heap.put(s.weights), bias = s.bias ? heap.put(s.bias) : 0, ws = heap.put(s.weightScales);
  return op(heap, inLength, 'i8', outLength, 'i8', (x, y) => {
    if (variant === 'ref') {
      return () => e.depthwise_conv2d_s8_ref(x, s.batch, s.height, s.width, s.channels, w, bias, ws, s.multiplier,
        kh, kw, sh, sw, pad, s.input.scale, s.input.zeroPoint, s.output.scale, s.output.zeroPoint, act, y);
    }
    const packed = heap.alloc(e.depthwise_conv2d_packed_size(oc, kh, kw));
    e.depthwise_conv2d_pack(w, oc, kh, kw, bias, ws, s.input.scale, s.input.zeroPoint, s.output.scale, packed);
    return () => e.depthwise_conv2d_s8_c8(x, s.batch, s.height, s.width, s.channels, packed, s.multiplier,
      kh, kw, sh, sw, pad, s.input.zeroPoint, s.output.scale, s.output.zeroPoint, act, y);
  });
}

// add, multiply: a [batch][n] with b [batch][nb], nb = n or a divisor of it (broadcast
// over a's rows of nb); concatenate: rows of ca and cb values into rows of ca + cb.
export interface BinarySpec {
  op: 'add' | 'multiply' | 'concatenate';
  batch: number; n: number; nb: number; // concatenate: batch = rows, n = ca, nb = cb
  a: Quant; b: Quant; output: Quant; activation: FusedActivation;
}

// Two inputs, one after the other in setInput: a's values then b's.
export function prepareBinary(heap: Heap, s: BinarySpec, variant: Variant): PreparedOp {
  const e = heap.e;
  const aLen = s.batch * s.n, bLen = s.batch * s.nb;
  const outLength = s.op === 'concatenate' ? aLen + bLen : aLen;
  return op(heap, aLen + bLen, 'i8', outLength, 'i8', (x, y) => {
    const b = x + aLen;
    const q = [s.a.scale, s.a.zeroPoint, s.b.scale, s.b.zeroPoint, s.output.scale, s.output.zeroPoint] as const;
    if (s.op === 'concatenate') {
      const f = variant === 'ref' ? e.concatenate_s8_ref : e.concatenate_s8_x16;
      return () => f(x, b, s.batch, s.n, s.nb, ...q, y);
    }
    const f = s.op === 'add' ? (variant === 'ref' ? e.add_s8_ref : e.add_s8_x16) : (variant === 'ref' ? e.multiply_s8_ref : e.multiply_s8_x16);
    return () => f(x, b, s.batch, s.n, s.nb, ...q, FUSED_ACTIVATION[s.activation], y);
  });
}

// The activation op on int8: 'ref' computes each value, 'opt' looks it up in the table.
export interface ActivationS8Spec { n: number; activation: FloatActivation; alpha: number; input: Quant; output: Quant }

export function prepareActivationS8(heap: Heap, s: ActivationS8Spec, variant: Variant): PreparedOp {
  const e = heap.e;
  const act = FLOAT_ACTIVATION[s.activation];
  return op(heap, s.n, 'i8', s.n, 'i8', (x, y) => {
    if (variant === 'ref') {
      return () => e.activation_s8_ref(x, s.n, act, s.alpha, s.input.scale, s.input.zeroPoint, s.output.scale, s.output.zeroPoint, y);
    }
    const table = heap.alloc(256);
    e.activation_s8_table(act, s.alpha, s.input.scale, s.input.zeroPoint, s.output.scale, s.output.zeroPoint, table);
    return () => e.activation_s8_lut(x, s.n, table, y);
  });
}

// Nearest upsampling by factors [fh, fw], or zero padding [top, bottom, left, right] with
// the input's zero point.
export interface Resize2dSpec { op: 'upsample' | 'pad'; batch: number; height: number; width: number; channels: number; factors?: [number, number]; pads?: [number, number, number, number]; zeroPoint?: number }

export function prepareResize2d(heap: Heap, s: Resize2dSpec, variant: Variant): PreparedOp {
  const e = heap.e;
  const [fh, fw] = s.factors ?? [1, 1];
  const [t, b, l, r] = s.pads ?? [0, 0, 0, 0];
  const out = s.op === 'upsample' ? s.batch * s.height * fh * s.width * fw * s.channels : s.batch * (s.height + t + b) * (s.width + l + r) * s.channels;
  return op(heap, s.batch * s.height * s.width * s.channels, 'i8', out, 'i8', (x, y) => {
    if (s.op === 'upsample') {
      const f = variant === 'ref' ? e.upsample2d_s8_ref : e.upsample2d_s8_rows;
      return () => f(x, s.batch, s.height, s.width, s.channels, fh, fw, y);
    }
    const f = variant === 'ref' ? e.pad2d_s8_ref : e.pad2d_s8_rows;
    return () => f(x, s.batch, s.height, s.width, s.channels, t, b, l, r, s.zeroPoint ?? 0, y);
  });
}

// The per-channel affine op: rows of c values, real y = a[c] · real x + b[c].
export interface ChannelAffineSpec { n: number; c: number; a: Float32Array; b: Float32Array; input: Quant; output: Quant }

export function prepareChannelAffine(heap: Heap, s: ChannelAffineSpec, variant: Variant): PreparedOp {
  const e = heap.e;
  const ab = new Float32Array(2 * s.c);
  ab.set(s.a); ab.set(s.b, s.c);
  const pab = heap.put(ab);
  return op(heap, s.n, 'i8', s.n, 'i8', (x, y) => {
    if (variant === 'ref') return () => e.channel_affine_s8_ref(x, s.n, s.c, pab, s.input.scale, s.input.zeroPoint, s.output.scale, s.output.zeroPoint, y);
    const table = heap.alloc(8 * s.c);
    e.channel_affine_prepare(s.c, pab, s.input.scale, s.output.scale, table);
    return () => e.channel_affine_s8_table(x, s.n, s.c, table, s.input.zeroPoint, s.output.zeroPoint, y);
  });
}

// The max pooling that follows a conv2d, run fused with it (conv2d_max_pool2d_s8_im2col).
export interface MaxPoolSpec { pool: [number, number]; strides: [number, number]; padding: Padding }

// 'ref' runs conv2d_s8_ref then max_pool2d_s8_ref through an intermediate tensor.
export function prepareConv2dMaxPool(heap: Heap, s: Conv2dSpec, p: MaxPoolSpec, variant: ConvVariant): PreparedOp {
  const e = heap.e;
  const [kh, kw] = s.kernel;
  const [sh, sw] = s.strides;
  const [pkh, pkw] = p.pool;
  const [psh, psw] = p.strides;
  const pad = PADDING[s.padding], ppad = PADDING[p.padding];
  const act = FUSED_ACTIVATION[s.activation];
  const k = kh * kw * s.channels;
  check(s.weights.length === s.filters * k, 'conv2d: weights length');
  check(s.weightScales.length === s.filters && s.bias.length === s.filters, 'conv2d: scales / bias length');
  const [, oh, ow] = conv2dOutputShape(e, s);
  const pooled = pool2dOutputShape(e, { kind: 'max', batch: s.batch, height: oh, width: ow, channels: s.filters, ...p });
  check(pooled[1] > 0 && pooled[2] > 0, 'conv2d + max pool: the pool window does not fit');
  const inLength = s.batch * s.height * s.width * s.channels;
  const w = heap.put(s.weights), bias = heap.put(s.bias), ws = heap.put(s.weightScales);
  return op(heap, inLength, 'i8', pooled.reduce((a, b) => a * b, 1), 'i8', (x, y) => {
    if (variant === 'ref') {
      const mid = heap.alloc(s.batch * oh * ow * s.filters);
      return () => {
        e.conv2d_s8_ref(x, s.batch, s.height, s.width, s.channels, w, bias, ws, s.filters,
          kh, kw, sh, sw, pad, s.input.scale, s.input.zeroPoint, s.output.scale, s.output.zeroPoint, act, mid);
        e.max_pool2d_s8_ref(mid, s.batch, oh, ow, s.filters, pkh, pkw, psh, psw, ppad, y);
      };
    }
    if (variant === 'sparse') {
      check(sh === 1 && sw === 1, 'conv2d sparse: stride 1 only');
      const packed = heap.alloc(e.conv2d_sparse_packed_size(s.filters, e.conv2d_sparse_pairs(w, s.filters, kh, kw, s.channels), s.channels));
      e.conv2d_sparse_pack(w, s.filters, kh, kw, s.channels, s.height, s.width, pad, bias, ws,
        s.input.scale, s.input.zeroPoint, s.output.scale, packed);
      const scratch = heap.alloc(e.conv2d_sparse_scratch_size(s.height, s.width, s.channels, s.filters, kh, kw, pad, pkh, psh, ppad));
      return () => e.conv2d_max_pool2d_s8_sparse(x, s.batch, s.height, s.width, s.channels, packed, s.filters,
        kh, kw, pad, s.input.zeroPoint, s.output.scale, s.output.zeroPoint, act, pkh, pkw, psh, psw, ppad, y, scratch);
    }
    const packed = heap.alloc(e.gemm_packed_size(s.filters, k));
    e.gemm_pack(w, s.filters, k, bias, ws, s.input.scale, s.input.zeroPoint, s.output.scale, packed);
    const scratch = heap.alloc(e.conv2d_max_pool2d_scratch_size(s.width, s.channels, s.filters, kh, kw, sw, pad, pkh, pkw, psw, ppad));
    return () => e.conv2d_max_pool2d_s8_im2col(x, s.batch, s.height, s.width, s.channels, packed, s.filters,
      kh, kw, sh, sw, pad, s.input.zeroPoint, s.output.scale, s.output.zeroPoint, act,
      pkh, pkw, psh, psw, ppad, y, scratch);
  });
}

export interface DenseSpec {
  batch: number; inputs: number; units: number; activation: FusedActivation;
  input: Quant; output: Quant;
  weights: Int8Array; // [units][inputs]
  weightScales: Float32Array; bias: Int32Array;
}

export function prepareDense(heap: Heap, s: DenseSpec, variant: Variant): PreparedOp {
  const e = heap.e;
  const act = FUSED_ACTIVATION[s.activation];
  check(s.weights.length === s.units * s.inputs, 'dense: weights length');
  check(s.weightScales.length === s.units && s.bias.length === s.units, 'dense: scales / bias length');
  const w = heap.put(s.weights), bias = heap.put(s.bias), ws = heap.put(s.weightScales);
  return op(heap, s.batch * s.inputs, 'i8', s.batch * s.units, 'i8', (x, y) => {
    if (variant === 'ref') {
      return () => e.dense_s8_ref(x, s.batch, s.inputs, w, bias, ws, s.units,
        s.input.scale, s.input.zeroPoint, s.output.scale, s.output.zeroPoint, act, y);
    }
    const packed = heap.alloc(e.gemm_packed_size(s.units, s.inputs));
    e.gemm_pack(w, s.units, s.inputs, bias, ws, s.input.scale, s.input.zeroPoint, s.output.scale, packed);
    return () => e.dense_s8_gemm(x, s.batch, s.inputs, packed, s.units, s.output.scale, s.output.zeroPoint, act, y);
  });
}

export interface Pool2dSpec {
  kind: 'max' | 'avg' | 'globalAvg' | 'globalMax';
  batch: number; height: number; width: number; channels: number;
  pool: [number, number]; strides: [number, number]; padding: Padding;
}

export function pool2dOutputShape(e: EngineExports, s: Pool2dSpec): [number, number, number, number] {
  if (s.kind === 'globalAvg' || s.kind === 'globalMax') return [s.batch, 1, 1, s.channels];
  const pad = PADDING[s.padding];
  return [s.batch, e.window_out_size(s.height, s.pool[0], s.strides[0], pad),
    e.window_out_size(s.width, s.pool[1], s.strides[1], pad), s.channels];
}

export function preparePool2d(heap: Heap, s: Pool2dSpec, variant: Variant): PreparedOp {
  const e = heap.e;
  const outLength = pool2dOutputShape(e, s).reduce((a, b) => a * b, 1);
  return op(heap, s.batch * s.height * s.width * s.channels, 'i8', outLength, 'i8', (x, y) => {
    if (s.kind === 'globalAvg' || s.kind === 'globalMax') {
      const f = s.kind === 'globalAvg' ? (variant === 'ref' ? e.global_avg_pool2d_s8_ref : e.global_avg_pool2d_s8_c16) : (variant === 'ref' ? e.global_max_pool2d_s8_ref : e.global_max_pool2d_s8_c16);
      return () => f(x, s.batch, s.height, s.width, s.channels, y);
    }
    const f = s.kind === 'max'
      ? (variant === 'ref' ? e.max_pool2d_s8_ref : e.max_pool2d_s8_c16)
      : (variant === 'ref' ? e.avg_pool2d_s8_ref : e.avg_pool2d_s8_c16);
    const pad = PADDING[s.padding];
    return () => f(x, s.batch, s.height, s.width, s.channels, s.pool[0], s.pool[1], s.strides[0], s.strides[1], pad, y);
  });
}

// lstm and gru: the same fields; gate counts 4 (i, f, c, o) and 3 (z, r, h)
export interface LstmSpec {
  batch: number; steps: number; features: number; units: number;
  activation: 'relu' | 'tanh'; recurrentActivation: 'sigmoid' | 'hardSigmoid';
  returnSequences: boolean;
  direction?: RnnDirection; // forward when absent
  input: Quant; output: Quant;
  kernel: Int8Array; // Wx: [gates·units][features]
  kernelScales: Float32Array; // [gates·units]
  recurrent: Int8Array; // Wh: [gates·units][units]
  recurrentScales: Float32Array; // [gates·units]
  bias: Float32Array; // [gates·units] real values; gru with resetAfter: [2][3·units] (input, recurrent)
}
export interface GruSpec extends LstmSpec { resetAfter: boolean }

export function prepareLstm(heap: Heap, s: LstmSpec, variant: Variant): PreparedOp {
  return prepareRecurrent(heap, s, 'lstm', variant);
}
export function prepareGru(heap: Heap, s: GruSpec, variant: Variant): PreparedOp {
  return prepareRecurrent(heap, s, 'gru', variant);
}

function prepareRecurrent(heap: Heap, s: LstmSpec | GruSpec, cell: 'lstm' | 'gru', variant: Variant): PreparedOp {
  const e = heap.e;
  const n = (cell === 'lstm' ? 4 : 3) * s.units;
  const ra = 'resetAfter' in s && s.resetAfter ? 1 : 0;
  check(s.kernel.length === n * s.features && s.recurrent.length === n * s.units, `${cell}: weights length`);
  check(s.kernelScales.length === n && s.recurrentScales.length === n && s.bias.length === n * (1 + ra), `${cell}: scales / bias length`);
  const act = FLOAT_ACTIVATION[s.activation];
  const rec = FLOAT_ACTIVATION[s.recurrentActivation];
  const seq = s.returnSequences ? 1 : 0;
  const dir = RNN_DIRECTION[s.direction ?? 'forward'];
  const outLength = s.batch * (s.returnSequences ? s.steps : 1) * s.units;
  const wx = heap.put(s.kernel), wxs = heap.put(s.kernelScales);
  const wh = heap.put(s.recurrent), whs = heap.put(s.recurrentScales);
  const bias = heap.put(s.bias);
  const scratch = heap.alloc(cell === 'lstm' ? e.lstm_scratch_size(s.batch, s.steps, s.units) : e.gru_scratch_size(s.batch, s.steps, s.units));
  const { scale: sx, zeroPoint: zx } = s.input, { scale: sy, zeroPoint: zy } = s.output;
  return op(heap, s.batch * s.steps * s.features, 'i8', outLength, 'i8', (x, y) => {
    if (cell === 'lstm') {
      if (variant === 'ref') return () => e.lstm_s8_ref(x, s.batch, s.steps, s.features, s.units, wx, wxs, wh, whs, bias, sx, zx, sy, zy, act, rec, seq, dir, y, scratch);
      const packed = heap.alloc(e.lstm_packed_size(s.features, s.units));
      e.lstm_pack(wx, wxs, wh, whs, s.features, s.units, sx, zx, packed);
      return () => e.lstm_s8_gemm(x, s.batch, s.steps, s.features, s.units, packed, bias, sy, zy, act, rec, seq, dir, y, scratch);
    }
    if (variant === 'ref') return () => e.gru_s8_ref(x, s.batch, s.steps, s.features, s.units, wx, wxs, wh, whs, bias, ra, sx, zx, sy, zy, act, rec, seq, dir, y, scratch);
    const packed = heap.alloc(e.gru_packed_size(s.features, s.units, ra));
    e.gru_pack(wx, wxs, wh, whs, s.features, s.units, ra, sx, zx, packed);
    return () => e.gru_s8_gemm(x, s.batch, s.steps, s.features, s.units, packed, bias, ra, sy, zy, act, rec, seq, dir, y, scratch);
  });
}

export function prepareActivation(heap: Heap, act: FloatActivation, n: number, variant: Variant): PreparedOp<Float32Array> {
  const e = heap.e;
  const code = FLOAT_ACTIVATION[act];
  return op(heap, n, 'f32', n, 'f32', (x, y) =>
    variant === 'ref' ? () => e.activation_f32_ref(code, x, n, y) : () => e.activation_f32_x4(code, x, n, y));
}

export function prepareSoftmax(heap: Heap, rows: number, n: number, input: Quant): PreparedOp<Float32Array> {
  return op(heap, rows * n, 'i8', rows * n, 'f32', (x, y) => () => heap.e.softmax_s8_f32(x, rows, n, input.scale, y));
}
