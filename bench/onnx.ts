// A minimal ONNX writer for the benchmark: the reference models as ONNX, built from the
// same float graph the converter uses (float) and from the converter's quantization
// (int8: the same int8 weights and scales as the unpruned .edgeq file), so that ONNX
// Runtime Web runs exactly the model edgeq and TF.js run. Each model comes in several
// layouts; the benchmark times them all and reports the fastest, so that ONNX Runtime
// gets the graph it runs best, not one we happened to write.
// Protobuf by hand: ModelProto → GraphProto → NodeProto / TensorProto / ValueInfoProto.

import type { FloatGraph, Recurrent } from '../src/toolchain/convert/graph.js';
import type { EdgeqModel, Quant } from '../src/toolchain/format/model.js';

class Pb {
  private parts: number[] = [];
  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    do { let b = Number(x & 0x7fn); x >>= 7n; if (x) b |= 0x80; this.parts.push(b); } while (x);
  }
  int(field: number, v: number): this { this.varint((field << 3) | 0); this.varint(v); return this; }
  bytes(field: number, b: Uint8Array): this { this.varint((field << 3) | 2); this.varint(b.length); for (const x of b) this.parts.push(x); return this; }
  str(field: number, s: string): this { return this.bytes(field, new TextEncoder().encode(s)); }
  msg(field: number, m: Pb): this { return this.bytes(field, m.done()); }
  float(field: number, v: number): this { this.varint((field << 3) | 5); const b = new Uint8Array(new Float32Array([v]).buffer); for (const x of b) this.parts.push(x); return this; }
  done(): Uint8Array { return Uint8Array.from(this.parts); }
}

const FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7;

function tensor(name: string, dims: number[], type: number, raw: Uint8Array): Pb {
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  return t.int(2, type).str(8, name).bytes(9, raw);
}

function attrInts(name: string, v: number[]): Pb { const a = new Pb().str(1, name).int(20, 7); for (const x of v) a.int(8, x); return a; }
function attrInt(name: string, v: number): Pb { return new Pb().str(1, name).int(20, 2).int(3, v); }

function valueInfo(name: string, dims: (number | string)[], type: number): Pb {
  const shape = new Pb();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new Pb().int(1, d) : new Pb().str(2, d));
  return new Pb().str(1, name).msg(2, new Pb().msg(1, new Pb().int(1, type).msg(2, shape)));
}

// A GraphProto under construction: nodes chained from `cur`, constants as initializers.
class Graph {
  readonly g: Pb;
  cur = 'input';
  private n = 0;
  private k = 0;
  nchw = false;
  constructor(name: string) { this.g = new Pb().str(2, name); }
  node(op: string, inputs: string[], attrs: Pb[] = []): string {
    const out = `t${this.n++}`;
    const p = new Pb();
    for (const i of inputs) p.str(1, i);
    p.str(2, out).str(3, out).str(4, op);
    for (const a of attrs) p.msg(5, a);
    this.g.msg(1, p);
    this.cur = out;
    return out;
  }
  init(dims: number[], type: number, data: ArrayBufferView): string {
    const name = `c${this.k++}`;
    this.g.msg(5, tensor(name, dims, type, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    return name;
  }
  f32(v: number): string { return this.init([], FLOAT, new Float32Array([v])); }
  shape(v: number[]): string { return this.init([v.length], INT64, BigInt64Array.from(v, BigInt)); }
  toNchw(): void { if (!this.nchw) { this.node('Transpose', [this.cur], [attrInts('perm', [0, 3, 1, 2])]); this.nchw = true; } }
  toNhwc(): void { if (this.nchw) { this.node('Transpose', [this.cur], [attrInts('perm', [0, 2, 3, 1])]); this.nchw = false; } }
  model(inputShape: number[], inputType = FLOAT, outputShape: number[] = [10]): Uint8Array {
    this.g.msg(11, valueInfo('input', ['N', ...inputShape], inputType));
    this.g.msg(12, valueInfo(this.cur, ['N', ...outputShape], FLOAT));
    return new Pb().int(1, 8).str(2, 'edgeq bench').msg(7, this.g).msg(8, new Pb().str(1, '').int(2, 13)).done();
  }
}

// One ONNX version of a model: what the benchmark feeds it and how it is laid out.
export interface OnnxVariant {
  layout: string; // short name, recorded in the JSON
  description: string;
  bytes: Uint8Array;
  // 'float32': pixels / 255, normalized in JavaScript like TF.js's input; 'uint8': the
  // pixels as they are (the graph quantizes, or its input quantization is the identity)
  input: 'float32' | 'uint8';
  shape: number[]; // one item, without the batch axis
}

// OHWI → OIHW
function oihw<T extends Float32Array | Int8Array>(w: T, filters: number, kh: number, kw: number, make: (n: number) => T): { data: T; c: number } {
  const c = w.length / (filters * kh * kw);
  const out = make(w.length);
  for (let o = 0; o < filters; o++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let ci = 0; ci < c; ci++) out[((o * c + ci) * kh + y) * kw + x] = w[((o * kh + y) * kw + x) * c + ci];
  return { data: out, c };
}

// Dense weights [units][h·w·c] (Keras flattens NHWC) → [units][c·h·w] (NCHW flatten), so
// that an NCHW graph flattens without a Transpose.
function chwColumns<T extends Float32Array | Int8Array>(w: T, units: number, [h, wd, c]: number[]): T {
  const out = w.slice() as T;
  const k = h * wd * c;
  for (let o = 0; o < units; o++) for (let y = 0; y < h; y++) for (let x = 0; x < wd; x++) for (let ci = 0; ci < c; ci++) out[o * k + (ci * h + y) * wd + x] = w[o * k + (y * wd + x) * c + ci];
  return out;
}

// The [h, w, c] shape through valid convolutions and pools.
const outSize = (n: number, k: number, s: number) => Math.floor((n - k) / s) + 1;

// The float model. layout 'nchw': NCHW input (for one channel the same bytes as NHWC),
// no Transpose anywhere (dense weights permuted to the NCHW flatten order);
// 'nhwc-transpose': NHWC input, a Transpose into NCHW before the first convolution and
// back before the flatten (the benchmark's graph until 2026-12). LSTM: one layout.
export function floatOnnx(graph: FloatGraph, layout: 'nchw' | 'nhwc-transpose' = 'nchw'): OnnxVariant {
  const b = new Graph('edgeq-bench');
  const image = graph.inputShape.length === 3;
  const nchw = layout === 'nchw' && image;
  if (nchw && graph.inputShape[2] !== 1) throw new Error('the NCHW layout takes one-channel images (NCHW and NHWC are then the same bytes)');
  if (nchw) b.nchw = true;
  let hwc = graph.inputShape.slice();
  graph.layers.forEach((l) => {
    if (l.type === 'conv2d') {
      b.toNchw();
      const [kh, kw] = l.kernel;
      const { data, c } = oihw(l.weights, l.filters, kh, kw, (n) => new Float32Array(n));
      if (l.padding !== 'valid' || l.activation === 'relu6') throw new Error('the ONNX writer handles valid padding and ReLU only');
      b.node('Conv', [b.cur, b.init([l.filters, c, kh, kw], FLOAT, data), b.init([l.filters], FLOAT, l.bias)], [attrInts('strides', l.strides), attrInts('kernel_shape', [kh, kw])]);
      if (l.activation === 'relu') b.node('Relu', [b.cur]);
      hwc = [outSize(hwc[0], kh, l.strides[0]), outSize(hwc[1], kw, l.strides[1]), l.filters];
    } else if (l.type === 'max_pool2d') {
      if (l.padding !== 'valid') throw new Error('the ONNX writer handles valid pooling only');
      b.toNchw();
      b.node('MaxPool', [b.cur], [attrInts('kernel_shape', l.pool), attrInts('strides', l.strides)]);
      hwc = [outSize(hwc[0], l.pool[0], l.strides[0]), outSize(hwc[1], l.pool[1], l.strides[1]), hwc[2]];
    } else if (l.type === 'flatten') {
      if (!nchw) b.toNhwc();
      b.node('Reshape', [b.cur, b.shape([0, -1])]);
    } else if (l.type === 'dense') {
      const k = l.weights.length / l.units;
      const w = nchw && hwc.length === 3 ? chwColumns(l.weights, l.units, hwc) : l.weights;
      b.node('Gemm', [b.cur, b.init([l.units, k], FLOAT, w), b.init([l.units], FLOAT, l.bias)], [attrInt('transB', 1)]);
      if (l.activation === 'relu') b.node('Relu', [b.cur]);
      hwc = [l.units];
    } else if (l.type === 'softmax') {
      b.node('Softmax', [b.cur], [attrInt('axis', 1)]);
    } else if (l.type === 'lstm' && !l.returnSequences) {
      b.node('Transpose', [b.cur], [attrInts('perm', [1, 0, 2])]);
      recurrentNode(b, l);
      hwc = [l.units];
    } else {
      throw new Error(`the ONNX writer has no ${l.type}`);
    }
  });
  const shape = nchw ? [graph.inputShape[2], graph.inputShape[0], graph.inputShape[1]] : graph.inputShape;
  return {
    layout: image ? layout : 'time-major LSTM',
    description: !image ? 'float, one ONNX LSTM node after a Transpose to time-major, Reshape, Gemm, Softmax' : layout === 'nchw' ? 'float, NCHW input, no Transpose (dense weights in NCHW flatten order)' : 'float, NHWC input, Transpose to NCHW before the first conv and back before the flatten',
    bytes: b.model(shape), input: 'float32', shape,
  };
}

// An ONNX LSTM or GRU node on the time-major b.cur [T, N, F], then its last state as
// [N, units]. LSTM gates i, o, f, c (Keras: i, f, c, o), biases W and R; GRU gates z, r,
// h as Keras', linear_before_reset = Keras' reset_after (Rb its recurrent bias, else 0).
function recurrentNode(b: Graph, l: Recurrent): void {
  if (l.returnSequences || l.direction !== 'forward') throw new Error('the ONNX writer has forward recurrent layers returning the last state only');
  const u = l.units, g = l.type === 'lstm' ? 4 : 3, feat = l.kernel.length / (g * u);
  const order = l.type === 'lstm' ? [0, 3, 1, 2] : [0, 1, 2]; // ONNX gate j takes Keras gate order[j]
  const regate = (w: Float32Array, cols: number) => {
    const out = new Float32Array(g * u * cols);
    order.forEach((k, j) => out.set(w.subarray(k * u * cols, (k + 1) * u * cols), j * u * cols));
    return out;
  };
  const bias = new Float32Array(2 * g * u);
  bias.set(regate(l.bias.subarray(0, g * u), 1), 0);
  if (l.resetAfter) bias.set(regate(l.bias.subarray(g * u), 1), g * u);
  const x = b.cur;
  const out = `t_${l.type}_${x}`;
  const p = new Pb();
  for (const i of [x, b.init([1, g * u, feat], FLOAT, regate(l.kernel, feat)), b.init([1, g * u, u], FLOAT, regate(l.recurrent, u)), b.init([1, 2 * g * u], FLOAT, bias)]) p.str(1, i);
  p.str(2, '').str(2, out).str(3, out).str(4, l.type === 'lstm' ? 'LSTM' : 'GRU');
  const act = l.activation === 'relu' ? 'Relu' : 'Tanh', rec = l.recurrentActivation === 'hardSigmoid' ? 'HardSigmoid' : 'Sigmoid';
  const names = l.type === 'lstm' ? [rec, act, act] : [rec, act];
  const acts = new Pb().str(1, 'activations').int(20, 8);
  for (const a of names) acts.bytes(9, new TextEncoder().encode(a));
  p.msg(5, acts).msg(5, attrInt('hidden_size', u));
  if (l.type === 'gru' && l.resetAfter) p.msg(5, attrInt('linear_before_reset', 1));
  if (rec === 'HardSigmoid') {
    // alpha and beta per activation; only HardSigmoid reads them (TF.js: 0.2x + 0.5)
    const alpha = new Pb().str(1, 'activation_alpha').int(20, 6); names.forEach((_, k) => alpha.float(7, k === 0 ? 0.2 : 0));
    const beta = new Pb().str(1, 'activation_beta').int(20, 6); names.forEach((_, k) => beta.float(7, k === 0 ? 0.5 : 0));
    p.msg(5, alpha).msg(5, beta);
  }
  b.g.msg(1, p);
  b.cur = out; // Y_h: [1, N, units]
  b.node('Reshape', [b.cur, b.shape([-1, u])]);
}

// A sequence model [steps, features] (Conv1D, 1-D pooling, one LSTM / GRU, Dense): the
// input is NWC as TF.js's; one Transpose to NCW for the convolutions, one to time-major
// before the recurrent node.
export function floatOnnxSequence(graph: FloatGraph): OnnxVariant {
  const b = new Graph('edgeq-bench-sequence');
  let [steps, c] = graph.inputShape;
  let ncw = false;
  graph.layers.forEach((l) => {
    if (l.type === 'conv1d') {
      if (!ncw) { b.node('Transpose', [b.cur], [attrInts('perm', [0, 2, 1])]); ncw = true; }
      const span = (l.kernel - 1) * l.dilation + 1;
      const total = l.padding === 'valid' ? 0 : Math.max((Math.ceil(steps / l.stride) - 1) * l.stride + span - steps, 0);
      const pads = l.padding === 'causal' ? [total, 0] : [Math.floor(total / 2), total - Math.floor(total / 2)];
      const w = new Float32Array(l.weights.length); // [f][k][c] → [f][c][k]
      for (let o = 0; o < l.filters; o++) for (let k = 0; k < l.kernel; k++) for (let ci = 0; ci < c; ci++) w[(o * c + ci) * l.kernel + k] = l.weights[(o * l.kernel + k) * c + ci];
      b.node('Conv', [b.cur, b.init([l.filters, c, l.kernel], FLOAT, w), b.init([l.filters], FLOAT, l.bias)],
        [attrInts('kernel_shape', [l.kernel]), attrInts('strides', [l.stride]), attrInts('dilations', [l.dilation]), attrInts('pads', pads)]);
      if (l.activation === 'relu') b.node('Relu', [b.cur]);
      else if (l.activation !== 'none') throw new Error(`the ONNX writer has no fused ${l.activation}`);
      steps = Math.floor((steps + pads[0] + pads[1] - span) / l.stride) + 1;
      c = l.filters;
    } else if (l.type === 'max_pool1d' && l.padding === 'valid') {
      b.node('MaxPool', [b.cur], [attrInts('kernel_shape', [l.pool]), attrInts('strides', [l.stride])]);
      steps = Math.floor((steps - l.pool) / l.stride) + 1;
    } else if (l.type === 'lstm' || l.type === 'gru') {
      b.node('Transpose', [b.cur], [attrInts('perm', ncw ? [2, 0, 1] : [1, 0, 2])]);
      recurrentNode(b, l);
      c = l.units;
    } else if (l.type === 'dense') {
      b.node('Gemm', [b.cur, b.init([l.units, c], FLOAT, l.weights), b.init([l.units], FLOAT, l.bias)], [attrInt('transB', 1)]);
      if (l.activation === 'relu') b.node('Relu', [b.cur]);
      c = l.units;
    } else if (l.type === 'softmax') {
      b.node('Softmax', [b.cur], [attrInt('axis', 1)]);
    } else {
      throw new Error(`the sequence ONNX writer has no ${l.type}${'padding' in l ? ` (${l.padding})` : ''}`);
    }
  });
  return {
    layout: 'ncw-time-major', description: 'float, NWC input, Transpose to NCW for Conv / MaxPool, Transpose to time-major for one ONNX LSTM / GRU node, Gemm',
    bytes: b.model(graph.inputShape, FLOAT, [c]), input: 'float32', shape: graph.inputShape,
  };
}

// TF's 'same' padding as ONNX pads [top, left, bottom, right] (the extra row and column
// at the bottom and right, as TF puts them).
function samePads(h: number, w: number, k: [number, number], s: [number, number]): number[] {
  const total = (n: number, kk: number, ss: number) => Math.max((Math.ceil(n / ss) - 1) * ss + kk - n, 0);
  const th = total(h, k[0], s[0]), tw = total(w, k[1], s[1]);
  return [th >> 1, tw >> 1, th - (th >> 1), tw - (tw >> 1)];
}

// Any float graph of the edge models (bench/edge.ts): convolutions with same or valid
// padding, depthwise (Conv with group = channels), add, concatenate, average pools,
// zero padding, dense, softmax, ReLU / ReLU6 (Clip), batch normalization as the lowering
// leaves it (folded, or a channel affine: Mul, Add). Layouts for images: 'nchw' (NCHW input, which the
// caller transposes once, outside the timing; no Transpose in the graph) and
// 'nhwc-transpose' (NHWC input, one Transpose first); vectors: 'dense'.
export function floatOnnxGraph(graph: FloatGraph, layout: 'nchw' | 'nhwc-transpose' | 'dense'): OnnxVariant {
  const b = new Graph('edgeq-bench-edge');
  const image = graph.inputShape.length === 3;
  if (image === (layout === 'dense')) throw new Error(`layout ${layout} for input [${graph.inputShape}]`);
  let x = 'input';
  if (layout === 'nhwc-transpose') x = b.node('Transpose', [x], [attrInts('perm', [0, 3, 1, 2])]);
  const names: string[] = [], shapes: number[][] = [];
  const inName = (i: number) => (i < 0 ? x : names[i]);
  const inShape = (i: number) => (i < 0 ? graph.inputShape : shapes[i]);
  const act = (a: string) => {
    if (a === 'relu') b.node('Relu', [b.cur]);
    else if (a === 'relu6') b.node('Clip', [b.cur, b.f32(0), b.f32(6)]);
    else if (a !== 'none') throw new Error(`the ONNX writer has no fused ${a}`);
  };
  graph.layers.forEach((l, i) => {
    const ins = l.inputs ?? [i - 1];
    const src = inName(ins[0]);
    const [h, w, c] = inShape(ins[0]);
    let out: number[];
    if (l.type === 'conv2d' || l.type === 'depthwise_conv2d') {
      const [kh, kw] = l.kernel;
      const depthwise = l.type === 'depthwise_conv2d';
      const filters = depthwise ? c * l.multiplier : l.filters;
      const wts = depthwise ? { data: l.weights, c: 1 } : oihw(l.weights, l.filters, kh, kw, (n) => new Float32Array(n));
      const pads = l.padding === 'same' ? samePads(h, w, l.kernel, l.strides) : [0, 0, 0, 0];
      const attrs = [attrInts('strides', l.strides), attrInts('kernel_shape', [kh, kw]), attrInts('pads', pads)];
      if (depthwise) attrs.push(attrInt('group', c));
      b.node('Conv', [src, b.init([filters, wts.c, kh, kw], FLOAT, wts.data), b.init([filters], FLOAT, l.bias)], attrs);
      act(l.activation);
      out = [Math.floor((h + pads[0] + pads[2] - kh) / l.strides[0]) + 1, Math.floor((w + pads[1] + pads[3] - kw) / l.strides[1]) + 1, filters];
    } else if (l.type === 'avg_pool2d' || l.type === 'max_pool2d') {
      const pads = l.padding === 'same' ? samePads(h, w, l.pool, l.strides) : [0, 0, 0, 0];
      b.node(l.type === 'avg_pool2d' ? 'AveragePool' : 'MaxPool', [src], [attrInts('kernel_shape', l.pool), attrInts('strides', l.strides), attrInts('pads', pads)]);
      out = [Math.floor((h + pads[0] + pads[2] - l.pool[0]) / l.strides[0]) + 1, Math.floor((w + pads[1] + pads[3] - l.pool[1]) / l.strides[1]) + 1, c];
    } else if (l.type === 'global_avg_pool2d') {
      b.node('GlobalAveragePool', [src]);
      b.node('Reshape', [b.cur, b.shape([0, -1])]);
      out = [c];
    } else if (l.type === 'pad2d') {
      const [t, bo, le, r] = l.pads;
      b.node('Pad', [src, b.shape([0, 0, t, le, 0, 0, bo, r])]);
      out = [h + t + bo, w + le + r, c];
    } else if (l.type === 'channel_affine') {
      // a batch normalization the lowering could not fold: x · scale + shift per channel
      const dims = inShape(ins[0]).length === 3 ? [c, 1, 1] : [l.scale.length];
      b.node('Add', [b.node('Mul', [src, b.init(dims, FLOAT, l.scale)]), b.init(dims, FLOAT, l.shift)]);
      out = inShape(ins[0]);
    } else if (l.type === 'add') {
      b.node('Add', [src, inName(ins[1])]);
      act(l.activation);
      out = inShape(ins[0]);
    } else if (l.type === 'concatenate') {
      b.node('Concat', ins.map(inName), [attrInt('axis', 1)]);
      out = [h, w, ins.reduce((n, j) => n + inShape(j)[2], 0)];
    } else if (l.type === 'flatten') {
      if (inShape(ins[0]).length === 3 && h * w !== 1) throw new Error('the ONNX writer flattens 1×1 maps only');
      b.node('Reshape', [src, b.shape([0, -1])]);
      out = [inShape(ins[0]).reduce((a, v) => a * v, 1)];
    } else if (l.type === 'dense') {
      const k = l.weights.length / l.units;
      b.node('Gemm', [src, b.init([l.units, k], FLOAT, l.weights), b.init([l.units], FLOAT, l.bias)], [attrInt('transB', 1)]);
      act(l.activation);
      out = [l.units];
    } else if (l.type === 'softmax') {
      b.node('Softmax', [src], [attrInt('axis', 1)]);
      out = inShape(ins[0]);
    } else {
      throw new Error(`the ONNX writer has no ${l.type}`);
    }
    names.push(b.cur);
    shapes.push(out);
  });
  const [h0, w0, c0] = graph.inputShape;
  const shape = layout === 'nchw' ? [c0, h0, w0] : graph.inputShape;
  const description = { nchw: 'float, NCHW input (transposed from NHWC once, outside the timing), no Transpose in the graph', 'nhwc-transpose': 'float, NHWC input, one Transpose to NCHW first', dense: 'float, Gemm chain' }[layout];
  return { layout, description, bytes: b.model(shape, FLOAT, shapes[shapes.length - 1]), input: 'float32', shape };
}

export type Int8Layout = 'qlinear-u8' | 'qlinear-s8' | 'qdq-u8' | 'qdq-s8' | 'matmulinteger-u8-nhwc';
export const INT8_LAYOUTS: Int8Layout[] = ['qlinear-u8', 'qlinear-s8', 'qdq-u8', 'qdq-s8', 'matmulinteger-u8-nhwc'];
const INT8_DESCRIPTIONS: Record<Int8Layout, string> = {
  'qlinear-u8': 'QLinearConv everywhere (dense layers as 1×1 QLinearConv with int32 bias and per-channel scales), uint8 activations, int8 weights, uint8 pixels in, NCHW, no Transpose, MaxPool on uint8',
  'qlinear-s8': 'the same with int8 activations (the uint8 pixels shifted to int8 in the graph)',
  'qdq-u8': 'QDQ form (DequantizeLinear → Conv → Relu → QuantizeLinear, dense layers as 1×1 Conv, per-channel int8 weights, int32 bias) that ONNX Runtime fuses into its quantized kernels at load; uint8 activations, uint8 pixels in, NCHW, no Transpose',
  'qdq-s8': 'QDQ form with int8 activations',
  'matmulinteger-u8-nhwc': 'the benchmark\'s graph until 2026-12: float NHWC input, QuantizeLinear, Transpose into NCHW, QLinearConv (uint8 activations), Transpose back before the flatten, dense as MatMulInteger + Cast + Mul + Add + Relu + QuantizeLinear',
};

// The converter's int8 model (same int8 weights and scales as the .edgeq file) as ONNX.
// edgeq's activations are int8 with zero point z; uint8 activations hold the same real
// values with zero point z + 128. ReLU needs no node: the converter's output range for a
// ReLU layer starts at the real 0, so quantization clamps at it. The last layer's int8
// logits are dequantized for the float Softmax.
export function int8Onnx(model: EdgeqModel, layout: Int8Layout = 'qlinear-u8'): OnnxVariant {
  if (layout === 'matmulinteger-u8-nhwc') return int8OnnxMatMulInteger(model);
  const b = new Graph(`edgeq-bench-int8-${layout}`);
  const u8 = layout.endsWith('u8');
  const qdq = layout.startsWith('qdq');
  const [h0, w0, c0] = model.input.shape;
  if (model.input.shape.length !== 3 || c0 !== 1) throw new Error('the int8 ONNX writer takes one-channel images');
  const zp = (q: Quant) => (u8 ? b.init([], UINT8, new Uint8Array([q.zeroPoint + 128])) : b.init([], INT8, new Int8Array([q.zeroPoint])));
  const zeros = (n: number, type: number) => b.init(n === 1 ? [] : [n], type, type === INT32 ? new Int32Array(n) : new Int8Array(n));
  // uint8 pixels in: the input quantization must be the identity on pixels (scale 1/255,
  // zero point −128, as the converter calibrates 0–1 inputs) or the graph requantizes
  let q = model.input.quant;
  // (the graph assumes pixels / 255 is the float input, as for the reference models)
  const identity = Math.abs(q.scale * 255 - 1) < 1e-6 && q.zeroPoint === -128;
  const pixels: Quant = { scale: 1 / 255, zeroPoint: -128 };
  if (!identity || !u8) {
    const dq = b.node('DequantizeLinear', [b.cur, b.f32(pixels.scale), b.init([], UINT8, new Uint8Array([0]))]);
    b.node('QuantizeLinear', [dq, b.f32(q.scale), zp(q)]);
  }
  const dq = (x: string, s: Quant) => b.node('DequantizeLinear', [x, b.f32(s.scale), zp(s)]);
  const qz = (x: string, s: Quant) => b.node('QuantizeLinear', [x, b.f32(s.scale), zp(s)]);
  // a convolution (dense layers: 1×1 over [N, k, 1, 1]) from quantized in to quantized out
  const conv = (filters: number, c: number, kh: number, kw: number, strides: number[], w: Int8Array, scales: Float32Array, bias: Int32Array | undefined, relu: boolean, out: Quant) => {
    const attrs = [attrInts('strides', strides), attrInts('kernel_shape', [kh, kw])];
    const weights = b.init([filters, c, kh, kw], INT8, w);
    const biasQ = bias ?? new Int32Array(filters);
    if (qdq) {
      const x = dq(b.cur, q);
      const wf = b.node('DequantizeLinear', [weights, b.init([filters], FLOAT, scales), zeros(filters, INT8)], [attrInt('axis', 0)]);
      const bf = b.node('DequantizeLinear', [b.init([filters], INT32, biasQ), b.init([filters], FLOAT, Float32Array.from(scales, (s) => s * q.scale)), zeros(filters, INT32)], [attrInt('axis', 0)]);
      b.node('Conv', [x, wf, bf], attrs);
      if (relu) b.node('Relu', [b.cur]);
      qz(b.cur, out);
    } else {
      b.node('QLinearConv', [b.cur, b.f32(q.scale), zp(q), weights, b.init([filters], FLOAT, scales), zeros(filters, INT8), b.f32(out.scale), zp(out), b.init([filters], INT32, biasQ)], attrs);
    }
    q = out;
  };
  let hwc = [h0, w0, c0];
  model.layers.forEach((l) => {
    if (l.type === 'conv2d') {
      if (l.padding !== 'valid' || l.activation === 'relu6') throw new Error('the int8 ONNX writer handles valid padding and ReLU only');
      const [kh, kw] = l.kernel;
      const { data, c } = oihw(l.weights, l.filters, kh, kw, (n) => new Int8Array(n));
      conv(l.filters, c, kh, kw, l.strides, data, l.weightScales, l.bias, l.activation === 'relu', l.output);
      hwc = [outSize(hwc[0], kh, l.strides[0]), outSize(hwc[1], kw, l.strides[1]), l.filters];
    } else if (l.type === 'max_pool2d') {
      if (l.padding !== 'valid') throw new Error('the int8 ONNX writer handles valid pooling only');
      const attrs = [attrInts('kernel_shape', l.pool), attrInts('strides', l.strides)];
      if (qdq) { b.node('MaxPool', [dq(b.cur, q)], attrs); qz(b.cur, q); } else b.node('MaxPool', [b.cur], attrs);
      hwc = [outSize(hwc[0], l.pool[0], l.strides[0]), outSize(hwc[1], l.pool[1], l.strides[1]), hwc[2]];
    } else if (l.type === 'flatten') {
      b.node('Reshape', [b.cur, b.shape([0, -1, 1, 1])]);
    } else if (l.type === 'dense') {
      const k = l.weights.length / l.units;
      const w = hwc.length === 3 ? chwColumns(l.weights, l.units, hwc) : l.weights;
      conv(l.units, k, 1, 1, [1, 1], w, l.weightScales, l.bias, l.activation === 'relu', l.output);
      hwc = [l.units];
    } else if (l.type === 'softmax') {
      b.node('Reshape', [b.cur, b.shape([0, -1])]);
      dq(b.cur, q);
      b.node('Softmax', [b.cur], [attrInt('axis', 1)]);
    } else {
      throw new Error(`the int8 ONNX writer has no ${l.type}`);
    }
  });
  const shape = [c0, h0, w0];
  return { layout, description: INT8_DESCRIPTIONS[layout], bytes: b.model(shape, UINT8), input: 'uint8', shape };
}

// The benchmark's int8 graph until 2026-12, kept to show what the layout costs:
// QuantizeLinear → Transpose → QLinearConv → MaxPool → … → Transpose → MatMulInteger
// (+ scale, bias, ReLU, re-quantize) → Softmax, NHWC float input.
function int8OnnxMatMulInteger(model: EdgeqModel): OnnxVariant {
  const b = new Graph('edgeq-bench-int8');
  const f32 = (v: number) => b.f32(v);
  const i8 = (v: number) => b.init([], INT8, new Int8Array([v]));
  const u8 = (zeroPoint: number) => b.init([], UINT8, new Uint8Array([zeroPoint + 128]));
  let q = model.input.quant;
  b.node('QuantizeLinear', [b.cur, f32(q.scale), u8(q.zeroPoint)]);
  model.layers.forEach((l, i) => {
    if (l.type === 'conv2d') {
      b.toNchw();
      const [kh, kw] = l.kernel;
      const { data, c } = oihw(l.weights, l.filters, kh, kw, (n) => new Int8Array(n));
      b.node('QLinearConv', [b.cur, f32(q.scale), u8(q.zeroPoint), b.init([l.filters, c, kh, kw], INT8, data), b.init([l.filters], FLOAT, l.weightScales),
        b.init([l.filters], INT8, new Int8Array(l.filters)), f32(l.output.scale), u8(l.output.zeroPoint), b.init([l.filters], INT32, l.bias ?? new Int32Array(l.filters))],
      [attrInts('strides', l.strides), attrInts('kernel_shape', [kh, kw])]);
      q = l.output;
    } else if (l.type === 'max_pool2d') {
      b.toNchw();
      b.node('MaxPool', [b.cur], [attrInts('kernel_shape', l.pool), attrInts('strides', l.strides)]);
    } else if (l.type === 'flatten') {
      b.toNhwc();
      b.node('Reshape', [b.cur, b.shape([0, -1])]);
    } else if (l.type === 'dense') {
      const kk = l.weights.length / l.units;
      const kn = new Int8Array(l.weights.length);
      for (let o = 0; o < l.units; o++) for (let j = 0; j < kk; j++) kn[j * l.units + o] = l.weights[o * kk + j];
      b.node('MatMulInteger', [b.cur, b.init([kk, l.units], INT8, kn), u8(q.zeroPoint), i8(0)]);
      b.node('Cast', [b.cur], [attrInt('to', FLOAT)]);
      const s = Float32Array.from(l.weightScales, (w) => q.scale * w);
      b.node('Mul', [b.cur, b.init([l.units], FLOAT, s)]);
      b.node('Add', [b.cur, b.init([l.units], FLOAT, Float32Array.from(l.bias ?? new Int32Array(l.units), (v, o) => v * s[o]))]);
      if (l.activation === 'relu') b.node('Relu', [b.cur]);
      if (model.layers[i + 1]?.type !== 'softmax') { b.node('QuantizeLinear', [b.cur, f32(l.output.scale), u8(l.output.zeroPoint)]); q = l.output; }
    } else if (l.type === 'softmax') {
      b.node('Softmax', [b.cur], [attrInt('axis', 1)]);
    } else {
      throw new Error(`the int8 ONNX writer has no ${l.type}`);
    }
  });
  return { layout: 'matmulinteger-u8-nhwc', description: INT8_DESCRIPTIONS['matmulinteger-u8-nhwc'], bytes: b.model(model.input.shape), input: 'float32', shape: model.input.shape };
}
