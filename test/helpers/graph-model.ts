// TF.js Graph models written by hand, the way tensorflowjs_converter lays one out (Const
// nodes named like the weights, fused and unfused ops, weights optionally stored as uint8
// or float16), so that the graph-model path can be tested without Python: the Keras
// MNIST CNN of test/fixtures/keras-mnist-cnn (writeGraphModel), and any graph of nodes
// and weights (GraphWriter).

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { rng } from './quant.js';

const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
const list = (...i: number[]) => ({ list: { i: i.map(String) } });
const conv = { strides: list(1, 1, 1, 1), padding: { s: b64('VALID') }, data_format: { s: b64('NHWC') }, dilations: list(1, 1, 1, 1), T: { type: 'DT_FLOAT' } };
const pool = { ksize: list(1, 2, 2, 1), strides: list(1, 2, 2, 1), padding: { s: b64('VALID') }, data_format: { s: b64('NHWC') }, T: { type: 'DT_FLOAT' } };
const fused = (...ops: string[]) => ({ fused_ops: { list: { s: ops.map(b64) } }, num_args: { i: '1' }, epsilon: { f: 0 } });
const mm = { transpose_a: { b: false }, transpose_b: { b: false }, T: { type: 'DT_FLOAT' } };

export function writeGraphModel(extraNode?: { name: string; op: string }): string {
  const src = new URL('../fixtures/keras-mnist-cnn/', import.meta.url).pathname;
  const keras = JSON.parse(readFileSync(join(src, 'model.json'), 'utf8'));
  const specs = keras.weightsManifest[0].weights as { name: string; shape: number[]; dtype: string }[];
  const shard = readFileSync(join(src, 'group1-shard1of1.bin'));
  const flat = Buffer.from(new Int32Array([-1, 375]).buffer);
  const constNode = (name: string, dtype = 'DT_FLOAT') => ({ name, op: 'Const', attr: { value: { tensor: { dtype } }, dtype: { type: dtype } } });
  const node = [
    { name: 'x', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '-1' }, { size: '28' }, { size: '28' }, { size: '1' }] } }, dtype: { type: 'DT_FLOAT' } } },
    ...specs.map((s) => constNode(s.name)),
    constNode('flatten/Const', 'DT_INT32'),
    { name: 'c1', op: '_FusedConv2D', input: ['x', 'conv2d/kernel', 'conv2d/bias'], attr: { ...conv, ...fused('BiasAdd', 'Relu') } },
    { name: 'p1', op: 'MaxPool', input: ['c1'], attr: pool },
    { name: 'c2', op: 'Conv2D', input: ['p1', 'conv2d_1/kernel'], attr: conv },
    { name: 'c2b', op: 'BiasAdd', input: ['c2', 'conv2d_1/bias'], attr: { T: { type: 'DT_FLOAT' }, data_format: { s: b64('NHWC') } } },
    { name: 'c2r', op: 'Relu', input: ['c2b'], attr: { T: { type: 'DT_FLOAT' } } },
    { name: 'p2', op: 'MaxPool', input: ['c2r'], attr: pool },
    { name: 'drop', op: 'Identity', input: ['p2'], attr: { T: { type: 'DT_FLOAT' } } },
    { name: 'flat', op: 'Reshape', input: ['drop', 'flatten/Const'], attr: { T: { type: 'DT_FLOAT' } } },
    { name: 'd1', op: '_FusedMatMul', input: ['flat', 'dense/kernel', 'dense/bias'], attr: { ...mm, ...fused('BiasAdd', 'Relu') } },
    { name: 'd2', op: 'MatMul', input: ['d1', 'dense_1/kernel'], attr: mm },
    { name: 'd2b', op: 'BiasAdd', input: ['d2', 'dense_1/bias'], attr: { T: { type: 'DT_FLOAT' } } },
    { name: 'd2r', op: 'Relu', input: ['d2b'], attr: { T: { type: 'DT_FLOAT' } } },
    ...(extraNode ? [{ ...extraNode, input: ['d2r'], attr: { T: { type: 'DT_FLOAT' } } }] : []),
    { name: 'd3', op: '_FusedMatMul', input: [extraNode ? extraNode.name : 'd2r', 'dense_2/kernel', 'dense_2/bias'], attr: { ...mm, ...fused('BiasAdd') } },
    { name: 'y', op: 'Softmax', input: ['d3'], attr: { T: { type: 'DT_FLOAT' } } },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'edgeq-graph-'));
  writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.concat([shard, flat]));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({
    format: 'graph-model', generatedBy: 'test', convertedBy: 'test/helpers/graph-model.ts',
    modelTopology: { node, library: {}, versions: { producer: 1 } },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [...specs, { name: 'flatten/Const', shape: [2], dtype: 'int32' }] }],
    signature: { inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT' } }, outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT' } } },
  }));
  return join(dir, 'model.json');
}

export interface GraphNodeSpec { name: string; op: string; input?: string[]; attr?: Record<string, unknown> }
interface Weight { name: string; shape: number[]; values: ArrayLike<number>; dtype: 'float32' | 'int32'; quantize?: 'uint8' | 'float16' }

const T = { T: { type: 'DT_FLOAT' } };
const int32 = { type: 'DT_INT32' };
const fusedAttr = (ops: string[]) => (ops.length ? { fused_ops: { list: { s: ops.map(b64) } }, num_args: { i: '1' } } : {});
// attributes of the ops, as TensorFlow writes them
export const attrs = {
  T,
  conv: (stride: number, padding: 'SAME' | 'VALID', fused: string[] = []) => ({ ...T, strides: list(1, stride, stride, 1), padding: { s: b64(padding) }, data_format: { s: b64('NHWC') }, dilations: list(1, 1, 1, 1), ...fusedAttr(fused) }),
  pool: (k: number, stride: number, padding: 'SAME' | 'VALID') => ({ ...T, ksize: list(1, k, k, 1), strides: list(1, stride, stride, 1), padding: { s: b64(padding) }, data_format: { s: b64('NHWC') } }),
  matMul: (fused: string[] = []) => ({ ...T, transpose_a: { b: false }, transpose_b: { b: false }, ...fusedAttr(fused) }),
  batchNorm: (epsilon: number) => ({ ...T, epsilon: { f: epsilon }, data_format: { s: b64('NHWC') }, is_training: { b: false } }),
  mean: (keepDims: boolean) => ({ ...T, keep_dims: { b: keepDims }, Tidx: { type: 'DT_INT32' } }),
  f: (name: string, value: number) => ({ ...T, [name]: { f: value } }),
  b: (flags: Record<string, boolean>) => ({ ...T, ...Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, { b: v }])) }),
  ints: (name: string, ...i: number[]) => ({ ...T, [name]: list(...i) }),
  // the integer ops of shape computations
  int32: { T: int32 },
  shape: { ...T, out_type: int32 },
  slice: (masks: { begin?: number; end?: number; ellipsis?: number; newAxis?: number; shrink?: number } = {}) => ({
    T: int32, Index: int32, begin_mask: { i: String(masks.begin ?? 0) }, end_mask: { i: String(masks.end ?? 0) },
    ellipsis_mask: { i: String(masks.ellipsis ?? 0) }, new_axis_mask: { i: String(masks.newAxis ?? 0) }, shrink_axis_mask: { i: String(masks.shrink ?? 0) },
  }),
  pack: (n: number) => ({ T: int32, N: { i: String(n) }, axis: { i: '0' } }),
  concat: (n: number) => ({ T: int32, N: { i: String(n) }, Tidx: int32 }),
  prod: (keepDims: boolean) => ({ T: int32, Tidx: int32, keep_dims: { b: keepDims } }),
  cast: { SrcT: int32, DstT: int32, Truncate: { b: false } },
};

// IEEE half precision bits of v (round to nearest), as --quantize_float16 stores weights
function half(v: number): number {
  const u = new Uint32Array(new Float32Array([v]).buffer)[0];
  const sign = (u >>> 16) & 0x8000, exp = ((u >>> 23) & 0xff) - 112, mant = u & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) return exp < -10 ? sign : sign | Math.round((mant | 0x800000) / 2 ** (14 - exp));
  return (sign | (exp << 10)) + Math.round(mant / 8192); // a carry rounds into the exponent
}

// Builds a graph model: one input placeholder, weights (Const nodes), op nodes.
export class GraphWriter {
  readonly nodes: GraphNodeSpec[] = [];
  private readonly weights: Weight[] = [];
  private readonly random: () => number;

  constructor(input: number[], seed: number, readonly inputName = 'x') {
    this.random = rng(seed);
    this.nodes.push({ name: inputName, op: 'Placeholder', attr: { shape: { shape: { dim: [-1, ...input].map((d) => ({ size: String(d) })) } }, dtype: { type: 'DT_FLOAT' } } });
  }

  // a constant; its name
  constant(name: string, shape: number[], values: ArrayLike<number>, dtype: 'float32' | 'int32' = 'float32', quantize?: 'uint8' | 'float16'): string {
    const tf = dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT';
    this.nodes.push({ name, op: 'Const', attr: { value: { tensor: { dtype: tf } }, dtype: { type: tf } } });
    this.weights.push({ name, shape, values, dtype, quantize });
    return name;
  }

  ints(name: string, ...values: number[]): string {
    return this.constant(name, [values.length], values, 'int32');
  }

  // uniform in [lo, hi)
  uniform(name: string, shape: number[], lo: number, hi: number, quantize?: 'uint8' | 'float16'): string {
    const n = shape.reduce((a, b) => a * b, 1);
    return this.constant(name, shape, Float32Array.from({ length: n }, () => lo + (hi - lo) * this.random()), 'float32', quantize);
  }

  // a filter or matrix whose outputs keep about the variance of its inputs
  kernel(name: string, shape: number[], fanIn: number, quantize?: 'uint8' | 'float16'): string {
    const a = Math.sqrt(3 / fanIn);
    return this.uniform(name, shape, -a, a, quantize);
  }

  op(name: string, op: string, input: string[], attr: Record<string, unknown> = T): string {
    this.nodes.push({ name, op, input, attr });
    return name;
  }

  // model.json and its shard in a new folder; the path of model.json. `outputs`: the
  // signature's (absent: none, TF.js takes the nodes nothing reads)
  write(outputs?: string[]): string {
    const parts: Buffer[] = [];
    const manifest = this.weights.map((w) => {
      const { name, shape, dtype } = w;
      if (dtype === 'int32') { parts.push(Buffer.from(Int32Array.from(w.values).buffer)); return { name, shape, dtype }; }
      if (w.quantize === 'float16') {
        parts.push(Buffer.from(Uint16Array.from(w.values, half).buffer));
        return { name, shape, dtype, quantization: { dtype: 'float16' } };
      }
      if (w.quantize === 'uint8') {
        const v = Array.from(w.values), min = Math.min(...v), scale = (Math.max(...v) - min) / 255 || 1;
        parts.push(Buffer.from(Uint8Array.from(v, (x) => Math.round((x - min) / scale))));
        return { name, shape, dtype, quantization: { dtype: 'uint8', min, scale } };
      }
      parts.push(Buffer.from(Float32Array.from(w.values).buffer));
      return { name, shape, dtype };
    });
    const dir = mkdtempSync(join(tmpdir(), 'edgeq-graph-'));
    writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.concat(parts));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({
      format: 'graph-model', generatedBy: 'test', convertedBy: 'test/helpers/graph-model.ts',
      modelTopology: { node: this.nodes, library: {}, versions: { producer: 1 } },
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: manifest }],
      ...(outputs ? { signature: { inputs: { [this.inputName]: { name: `${this.inputName}:0`, dtype: 'DT_FLOAT' } }, outputs: Object.fromEntries(outputs.map((o) => [o, { name: `${o}:0`, dtype: 'DT_FLOAT' }])) } } : {}),
    }));
    return join(dir, 'model.json');
  }
}
