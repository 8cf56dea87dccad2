// A minimal ONNX writer for the benchmark: the reference models as ONNX, float (Conv,
// Relu, MaxPool, Gemm, LSTM, Softmax) built from the same float graph the converter
// uses, so that ONNX Runtime Web runs exactly the model edgeq and TF.js run, and the
// CNN in int8 from the converter's quantization.
// Protobuf by hand: ModelProto → GraphProto → NodeProto / TensorProto / ValueInfoProto.

import type { FloatGraph } from '../src/toolchain/convert/graph.js';
import type { EdgeqModel } from '../src/toolchain/format/model.js';

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

const FLOAT = 1, INT64 = 7;

function tensor(name: string, dims: number[], type: number, raw: Uint8Array): Pb {
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  return t.int(2, type).str(8, name).bytes(9, raw);
}

function attrInts(name: string, v: number[]): Pb { const a = new Pb().str(1, name).int(20, 7); for (const x of v) a.int(8, x); return a; }
function attrInt(name: string, v: number): Pb { return new Pb().str(1, name).int(20, 2).int(3, v); }

function valueInfo(name: string, dims: (number | string)[]): Pb {
  const shape = new Pb();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new Pb().int(1, d) : new Pb().str(2, d));
  return new Pb().str(1, name).msg(2, new Pb().msg(1, new Pb().int(1, FLOAT).msg(2, shape)));
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
  toNchw(): void { if (!this.nchw) { this.node('Transpose', [this.cur], [attrInts('perm', [0, 3, 1, 2])]); this.nchw = true; } }
  toNhwc(): void { if (this.nchw) { this.node('Transpose', [this.cur], [attrInts('perm', [0, 2, 3, 1])]); this.nchw = false; } }
  maxPool(pool: number[], strides: number[]): void { this.toNchw(); this.node('MaxPool', [this.cur], [attrInts('kernel_shape', pool), attrInts('strides', strides)]); }
  flatten(): void { this.toNhwc(); this.node('Reshape', [this.cur, this.init([2], INT64, new BigInt64Array([0n, -1n]))]); }
  model(inputShape: number[]): Uint8Array {
    this.g.msg(11, valueInfo('input', ['N', ...inputShape]));
    this.g.msg(12, valueInfo(this.cur, ['N', 10]));
    return new Pb().int(1, 8).str(2, 'edgeq bench').msg(7, this.g).msg(8, new Pb().str(1, '').int(2, 13)).done();
  }
}

// OHWI → OIHW
function oihw<T extends Float32Array | Int8Array>(w: T, filters: number, kh: number, kw: number, make: (n: number) => T): { data: T; c: number } {
  const c = w.length / (filters * kh * kw);
  const out = make(w.length);
  for (let o = 0; o < filters; o++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let ci = 0; ci < c; ci++) out[((o * c + ci) * kh + y) * kw + x] = w[((o * kh + y) * kw + x) * c + ci];
  return { data: out, c };
}

// NHWC input [N, ...inputShape] like the other runtimes; convolutions run in NCHW.
export function floatOnnx(graph: FloatGraph): Uint8Array {
  const b = new Graph('edgeq-bench');
  graph.layers.forEach((l) => {
    if (l.type === 'conv2d') {
      b.toNchw();
      const [kh, kw] = l.kernel;
      const { data, c } = oihw(l.weights, l.filters, kh, kw, (n) => new Float32Array(n));
      if (l.padding !== 'valid' || l.activation === 'relu6') throw new Error('the ONNX writer handles valid padding and ReLU only');
      b.node('Conv', [b.cur, b.init([l.filters, c, kh, kw], FLOAT, data), b.init([l.filters], FLOAT, l.bias)], [attrInts('strides', l.strides), attrInts('kernel_shape', [kh, kw])]);
      if (l.activation === 'relu') b.node('Relu', [b.cur]);
    } else if (l.type === 'maxPool2d') {
      b.maxPool(l.pool, l.strides);
    } else if (l.type === 'flatten') {
      b.flatten();
    } else if (l.type === 'dense') {
      b.node('Gemm', [b.cur, b.init([l.units, l.weights.length / l.units], FLOAT, l.weights), b.init([l.units], FLOAT, l.bias)], [attrInt('transB', 1)]);
      if (l.activation === 'relu') b.node('Relu', [b.cur]);
    } else if (l.type === 'softmax') {
      b.node('Softmax', [b.cur], [attrInt('axis', 1)]);
    } else if (l.type === 'lstm' && !l.returnSequences) {
      // ONNX LSTM: time-major input, gates i, o, f, c (Keras: i, f, c, o), biases W and R
      const u = l.units, feat = l.kernel.length / (4 * u);
      const order = [0, 3, 1, 2]; // ONNX gate g takes Keras gate order[g]
      const regate = (w: Float32Array, cols: number) => {
        const out = new Float32Array(w.length);
        order.forEach((k, g) => out.set(w.subarray(k * u * cols, (k + 1) * u * cols), g * u * cols));
        return out;
      };
      const bias = new Float32Array(8 * u);
      bias.set(regate(l.bias, 1), 0);
      b.node('Transpose', [b.cur], [attrInts('perm', [1, 0, 2])]);
      const x = b.cur;
      const out = `t_lstm_${u}`;
      const p = new Pb();
      for (const i of [x, b.init([1, 4 * u, feat], FLOAT, regate(l.kernel, feat)), b.init([1, 4 * u, u], FLOAT, regate(l.recurrent, u)), b.init([1, 8 * u], FLOAT, bias)]) p.str(1, i);
      p.str(2, '').str(2, out).str(3, out).str(4, 'LSTM');
      const act = l.activation === 'relu' ? 'Relu' : 'Tanh', rec = l.recurrentActivation === 'hardSigmoid' ? 'HardSigmoid' : 'Sigmoid';
      const acts = new Pb().str(1, 'activations').int(20, 8);
      for (const a of [rec, act, act]) acts.bytes(9, new TextEncoder().encode(a));
      p.msg(5, acts).msg(5, attrInt('hidden_size', u));
      if (rec === 'HardSigmoid') {
        // alpha and beta per activation; only HardSigmoid reads them (TF.js: 0.2x + 0.5)
        const alpha = new Pb().str(1, 'activation_alpha').int(20, 6); [0.2, 0, 0].forEach((v) => alpha.float(7, v));
        const beta = new Pb().str(1, 'activation_beta').int(20, 6); [0.5, 0, 0].forEach((v) => beta.float(7, v));
        p.msg(5, alpha).msg(5, beta);
      }
      b.g.msg(1, p);
      b.cur = out; // Y_h: [1, N, units]
      b.node('Reshape', [b.cur, b.init([2], INT64, new BigInt64Array([-1n, BigInt(u)]))]);
    } else {
      throw new Error(`the ONNX writer has no ${l.type}`);
    }
  });
  return b.model(graph.inputShape);
}

const UINT8 = 2, INT8 = 3, INT32 = 6;

// The same model in int8, from the converter's quantized model (same scales and int8
// weights as the .edgeq file): QuantizeLinear → QLinearConv → MaxPool → … →
// MatMulInteger (+ scale, bias, ReLU, re-quantize) → Softmax. Activations are uint8
// with the zero point moved by 128 (the same real values): ONNX Runtime's fast path is
// uint8 × int8. Input: NHWC floats, normalized as for the float model.
export function int8Onnx(model: EdgeqModel): Uint8Array {
  const b = new Graph('edgeq-bench-int8');
  const f32 = (v: number) => b.init([], FLOAT, new Float32Array([v]));
  const i8 = (v: number) => b.init([], INT8, new Int8Array([v]));
  const u8 = (zeroPoint: number) => b.init([], UINT8, new Uint8Array([zeroPoint + 128]));
  let q = model.input.quant;
  b.node('QuantizeLinear', [b.cur, f32(q.scale), u8(q.zeroPoint)]);
  model.layers.forEach((l, i) => {
    if (l.type === 'conv2d') {
      b.toNchw();
      const [kh, kw] = l.kernel;
      const { data, c } = oihw(l.weights, l.filters, kh, kw, (n) => new Int8Array(n));
      // ReLU needs no node: the output range starts at the real 0 (zero point −128)
      b.node('QLinearConv', [b.cur, f32(q.scale), u8(q.zeroPoint), b.init([l.filters, c, kh, kw], INT8, data), b.init([l.filters], FLOAT, l.weightScales),
        b.init([l.filters], INT8, new Int8Array(l.filters)), f32(l.output.scale), u8(l.output.zeroPoint), b.init([l.filters], INT32, l.bias ?? new Int32Array(l.filters))],
      [attrInts('strides', l.strides), attrInts('kernel_shape', [kh, kw])]);
      q = l.output;
    } else if (l.type === 'maxPool2d') {
      b.maxPool(l.pool, l.strides);
    } else if (l.type === 'flatten') {
      b.flatten();
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
  return b.model(model.input.shape);
}
