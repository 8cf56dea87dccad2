// TF.js Graph models (format "graph-model", as tensorflowjs_converter writes a
// SavedModel or a frozen graph), lowered to the same float graph as Layers models. The
// nodes the output needs are taken in an order where each follows its inputs, from the
// one input placeholder; a tensor may have several readers, and add, multiply and concat
// read several tensors. Bias adds, batch norms and per-channel scales fold into the
// convolution or matrix product before them, and ReLU / ReLU6 fuse into it, where
// nothing else reads that one's output; otherwise they become the channel affine and
// activation ops. Identity passes its input through. Shapes computed in the graph (Keras'
// Flatten and Reshape in a SavedModel read the batch size as Shape → StridedSlice → Pack)
// are evaluated here, with the batch a symbol, and become no layer. Constants subtracted
// from, multiplied with or dividing the input (its normalization) fold into the conv or
// matrix product reading it where that is exact (foldInputAffine, as Keras' Rescaling);
// otherwise they are one channel affine op at the input. Last, Pad before a conv folds
// into it where that is exact (foldZeroPadding, as for Layers models).

import * as tf from '@tensorflow/tfjs';
import type { FloatActivation, Padding } from '../../runtime/codes.js';
import { ConvertError, UnsupportedOpError } from '../../runtime/errors.js';
import { foldBatchNorm, foldInputAffine, foldZeroPadding, fusable, outputShape, type FloatGraph, type FloatLayer, type Fusable, type InputAffine, type Weighted } from './graph.js';
import { readModelFiles } from './load.js';

type Attr = { list?: { i?: string[]; s?: string[] }; s?: string; b?: boolean; i?: string; f?: number; shape?: { dim?: { size: string }[] } };
interface GraphNode { name: string; op: string; input?: string[]; attr?: Record<string, Attr> }

export interface LoadedGraphModel { model: tf.GraphModel; graph: FloatGraph; floatBytes: number; files: string[] }

const SUPPORTED = 'Placeholder, Const, Identity, Conv2D, DepthwiseConv2dNative, MatMul, _FusedConv2D, FusedDepthwiseConv2dNative, _FusedMatMul (fusing BiasAdd, '
  + 'then optionally Relu, Relu6, Elu, LeakyRelu or Sigmoid), BiasAdd, Add / AddV2 and Mul (of two tensors, equal or one a per-channel vector; or of a tensor '
  + 'and a per-channel constant), Sub and RealDiv (of a tensor and a per-channel constant), FusedBatchNorm / V2 / V3, Relu, Relu6, LeakyRelu, Elu, Sigmoid, '
  + 'Tanh, MaxPool, AvgPool, Mean (over H, W), ConcatV2 / Concat (last axis), Pad / PadV2 (zeros, H and W), ResizeNearestNeighbor (whole factors), Reshape, '
  + 'Squeeze, Softmax; and to compute a Reshape\'s shape: Shape, StridedSlice (no ellipsis or new axis), Pack, ConcatV2 / Concat, Prod and Cast of shape vectors';

const ACTIVATIONS: Record<string, FloatActivation> = { Relu: 'relu', Relu6: 'relu6', Elu: 'elu', LeakyRelu: 'leakyRelu', Sigmoid: 'sigmoid', Tanh: 'tanh' };

const text = (b64: string | undefined) => (b64 === undefined ? '' : Buffer.from(b64, 'base64').toString('latin1'));
const ints = (n: GraphNode, key: string) => (n.attr?.[key]?.list?.i ?? []).map(Number);
const strings = (n: GraphNode, key: string) => (n.attr?.[key]?.list?.s ?? []).map(text);
const source = (input: string) => input.replace(/^\^/, '').replace(/:\d+$/, '');
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

// The source row (or column) TF.js's ResizeNearestNeighbor reads for output index o.
function nearestSource(o: number, inSize: number, outSize: number, alignCorners: boolean, halfPixel: boolean): number {
  const corners = alignCorners && outSize > 1;
  const ratio = (corners ? inSize - 1 : inSize) / (corners ? outSize - 1 : outSize);
  const frac = halfPixel ? ratio * (o + 0.5) : ratio * o;
  const s = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
  return halfPixel ? Math.max(0, s) : s;
}

// A tensor the model computes: the float layer that holds it (−1: the input), its shape
// without the batch, whether that layer's output is also read elsewhere (an op that
// passes its input through shares it), and the input's normalization still to be applied
// to it (named by its last node; see settle and foldInput); or a constant from the
// weights; or a shape vector (or one of its values) the graph computes from its tensors'
// shapes, each dimension a number or the batch size (unknown until the model runs) times
// a number.
type Tensor = { layer: number; shape: number[]; shared?: boolean; normalize?: InputAffine & { name: string } };
type Dim = number | { batch: number };
type Dims = { dims: Dim[]; scalar: boolean };
type Value = Tensor | { constant: tf.Tensor } | Dims;

const BATCH: Dim = { batch: 1 };
const showDims = (dims: Dim[]) => `[${dims.map((d) => (typeof d === 'number' ? d : d.batch === 1 ? 'batch' : `${d.batch}·batch`)).join(',')}]`;

export function lowerGraphModel(nodes: GraphNode[], weights: tf.NamedTensorMap, outputs?: string[]): FloatGraph {
  const index = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (index.has(n.name)) throw new ConvertError('E_GRAPH_INVALID', `node ${i} '${n.name}': an earlier node has the same name`);
    index.set(n.name, i);
  });
  const where = (n: GraphNode) => `node ${index.get(n.name)} '${n.name}' (${n.op})`;
  const node = (name: string) => nodes[index.get(name)!];
  // data inputs by node name ('^name' is a control dependency: it orders, it feeds nothing)
  const args = new Map(nodes.map((n) => [n.name, (n.input ?? []).filter((s) => !s.startsWith('^'))]));
  for (const n of nodes) for (const s of args.get(n.name)!) if (!index.has(source(s))) throw new ConvertError('E_GRAPH_INVALID', `${where(n)} reads '${s}', which is no node of the graph`);
  const ins = (n: GraphNode) => args.get(n.name)!.map(source);

  const placeholders = nodes.filter((n) => n.op === 'Placeholder');
  if (placeholders.length !== 1) throw new UnsupportedOpError('E_GRAPH', `the graph has ${placeholders.length} input placeholders${placeholders.length ? ` (${placeholders.map((n) => n.name).join(', ')})` : ''}; edgeq converts graphs with one input`);
  const dims = (placeholders[0].attr?.shape?.shape?.dim ?? []).map((d) => Number(d.size));
  if (dims.length < 2 || dims.slice(1).some((d) => !(d > 0))) {
    throw new ConvertError('E_INPUT_SHAPE', `the input placeholder '${placeholders[0].name}' has shape [${dims}] (−1: any size): an .edgeq model has fixed shapes, so every dimension but the batch must be known; re-export the graph with a fixed input shape (e.g. a SavedModel signature of tf.TensorSpec([None, 32, 9])); --sequence-length fixes the steps of Layers models only`);
  }

  // the output: the signature's, or the one node nothing reads
  const read = new Set(nodes.flatMap(ins));
  const ends = outputs?.length ? outputs.map(source) : nodes.filter((n) => !read.has(n.name) && n.op !== 'Const' && n.op !== 'Placeholder' && n.op !== 'NoOp').map((n) => n.name);
  for (const e of ends) if (!index.has(e)) throw new ConvertError('E_GRAPH_INVALID', `the model's signature names the output '${e}', which is no node of the graph`);
  if (ends.length !== 1) throw new UnsupportedOpError('E_GRAPH', `the graph has ${ends.length} outputs${ends.length ? ` (${ends.join(', ')})` : ''}; edgeq converts graphs with one output`);

  // the nodes the output needs, each after its inputs (depth first, without recursion:
  // real graphs are thousands of nodes deep)
  const order: GraphNode[] = [];
  const state = new Map<string, 'open' | 'done'>([[ends[0], 'open']]);
  const stack: { n: GraphNode; next: number }[] = [{ n: node(ends[0]), next: 0 }];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const s = ins(top.n)[top.next++];
    if (s === undefined) {
      state.set(top.n.name, 'done');
      order.push(top.n);
      stack.pop();
    } else if (state.get(s) === 'open') {
      const path = stack.slice(stack.findIndex((f) => f.n.name === s)).map((f) => f.n.name);
      throw new ConvertError('E_GRAPH_CYCLE', `the graph has a cycle: ${[...path, s].join(' → ')} (${where(top.n)} reads '${s}', which depends on it)`);
    } else if (!state.has(s)) {
      state.set(s, 'open');
      stack.push({ n: node(s), next: 0 });
    }
  }

  // how many nodes read each tensor: a tensor read by more than one cannot have a bias,
  // batch norm, scale or activation folded into the layer holding it (Shape reads only
  // its shape, which folding keeps)
  const readers = new Map<string, number>();
  for (const n of order) if (n.op !== 'Shape') for (const s of ins(n)) readers.set(s, (readers.get(s) ?? 0) + 1);

  const layers: FloatLayer[] = [];
  const values = new Map<string, Value>();
  const input = (n: GraphNode, k: number): string => {
    const s = args.get(n.name)![k];
    if (s === undefined) throw new ConvertError('E_GRAPH_INVALID', `${where(n)} has no input ${k}`);
    if (/:[1-9]\d*$/.test(s)) throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)} reads '${s}', an output other than the first: edgeq converts ops with one output`);
    return source(s);
  };
  // input k, the input's normalization still pending on it (see foldInput)
  const pending = (n: GraphNode, k: number): Tensor => {
    const v = values.get(input(n, k))!;
    if (!('layer' in v)) throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)}: its input ${k} '${input(n, k)}' is ${'dims' in v ? 'a shape' : 'a constant'} where edgeq needs a tensor the model computes`);
    return v;
  };
  const tensor = (n: GraphNode, k: number): Tensor => settle(pending(n, k));
  const constant = (n: GraphNode, k: number, what: string): tf.Tensor => {
    const v = values.get(input(n, k))!;
    if (!('constant' in v)) throw new UnsupportedOpError('E_GRAPH_CONST', `${where(n)}: its ${what} '${input(n, k)}' is computed by the model; edgeq needs a constant`);
    return v.constant;
  };
  const numbers = (n: GraphNode, k: number, what: string) => Array.from(constant(n, k, what).dataSync());
  // input k as a shape vector (or scalar): computed from shapes, or a constant of rank 0 or 1
  const dimsOf = (n: GraphNode, k: number, what: string): Dims => {
    const v = values.get(input(n, k))!;
    if ('dims' in v) return v;
    if ('constant' in v && v.constant.rank <= 1) return { dims: Array.from(v.constant.dataSync()), scalar: v.constant.rank === 0 };
    throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)}: its ${what} '${input(n, k)}' is ${'constant' in v ? `a constant of shape [${v.constant.shape}]` : 'computed from the model\'s values'}; edgeq needs a shape vector or scalar there (a constant, or Shape, StridedSlice, Pack, ConcatV2, Prod, Cast of those)`);
  };
  const shapeError = (n: GraphNode, why: string) => new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)}: ${why}`);
  // a · b of two dimensions: the batch size may appear once
  const times = (n: GraphNode, a: Dim, b: Dim): Dim => {
    if (typeof a === 'number' && typeof b === 'number') return a * b;
    if (typeof a !== 'number' && typeof b !== 'number') throw shapeError(n, 'a product of the batch size with itself is no shape edgeq evaluates');
    return typeof a === 'number' ? { batch: a * (b as { batch: number }).batch } : { batch: a.batch * (b as number) };
  };
  // the input's normalization pending on x applied: a channel affine op (its C values
  // repeated along x's last axis, a multiple of C; see reshape), one per tensor however many read it
  const settled = new Map<string, Tensor>();
  const settle = (x: Tensor): Tensor => {
    const p = x.normalize;
    if (!p) return x;
    const key = `${x.layer} ${p.name}`;
    if (!settled.has(key)) {
      const last = x.shape[x.shape.length - 1], c = p.scale.length;
      const affine: FloatLayer = { type: 'channel_affine', name: p.name, scale: Float32Array.from({ length: last }, (_, i) => p.scale[i % c]), shift: Float32Array.from({ length: last }, (_, i) => p.offset[i % c]) };
      settled.set(key, push(affine, [x]));
    }
    return settled.get(key)!;
  };
  // the conv or matrix product l reading x, with the input's normalization pending on x
  // folded into it where that is exact, otherwise applied before it
  const foldInput = (x: Tensor, l: Weighted): Tensor => (x.normalize && !foldInputAffine(l, x.normalize) ? settle(x) : x);
  // the layer holding input k, where a bias, scale or activation may fold into it
  const into = (n: GraphNode, k: number): Fusable | undefined => {
    const x = tensor(n, k);
    return readers.get(input(n, k)) === 1 && !x.shared && x.layer >= 0 ? fusable(layers[x.layer]) : undefined;
  };
  // input 0 passed through unchanged
  const alias = (n: GraphNode, x: Tensor): Tensor => ({ ...x, shared: x.shared || readers.get(input(n, 0)) !== 1 });
  const push = (l: FloatLayer, from: Tensor[]): Tensor => {
    if (from.length > 1 || from[0].layer !== layers.length - 1) l.inputs = from.map((t) => t.layer);
    layers.push(l);
    return { layer: layers.length - 1, shape: outputShape(l, from[0].shape, from[1]?.shape) };
  };
  const image = (n: GraphNode, x: Tensor) => {
    if (x.shape.length !== 3) throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)}: its input has shape [${x.shape}]; edgeq runs it on images [height, width, channels]`);
    const format = text(n.attr?.data_format?.s);
    if (format && format !== 'NHWC') throw new UnsupportedOpError('E_UNSUPPORTED_LAYOUT', `${where(n)}: data format ${format}; edgeq converts NHWC`);
    return x;
  };
  const padding = (n: GraphNode): Padding => {
    const pad = text(n.attr?.padding?.s);
    if (pad !== 'VALID' && pad !== 'SAME') throw new UnsupportedOpError('E_UNSUPPORTED_PADDING', `${where(n)}: padding ${pad || '(explicit)'} is not supported (VALID, SAME)`);
    return pad === 'SAME' ? 'same' : 'valid';
  };
  // one value per channel of x: a scalar, [C], or [1, …, 1, C]
  const perChannel = (n: GraphNode, t: tf.Tensor, x: Tensor, what: string): Float32Array => {
    const c = x.shape[x.shape.length - 1];
    const v = Float32Array.from(t.dataSync());
    if (t.size === 1) return new Float32Array(c).fill(v[0]);
    if (t.size === c && t.shape[t.shape.length - 1] === c && t.shape.length <= x.shape.length + 1) return v;
    throw new UnsupportedOpError('E_UNSUPPORTED_BROADCAST', `${where(n)}: its ${what} of shape [${t.shape}] is not one value per channel of its input [${x.shape}]`);
  };
  // relu and relu6 fuse into the layer before (see into); the others are an op after it
  const activation = (n: GraphNode, x: Tensor, op: string, target: Fusable | undefined, name = n.name): Tensor => {
    const a = ACTIVATIONS[op];
    if (target && (a === 'relu' || a === 'relu6')) {
      target.activation = a;
      return x;
    }
    const alpha = a === 'leakyRelu' ? n.attr?.alpha?.f ?? n.attr?.leakyrelu_alpha?.f ?? 0.2 : a === 'elu' ? 1 : undefined;
    return push({ type: 'activation', name, activation: a, ...(alpha === undefined ? {} : { alpha }) }, [x]);
  };
  // _FusedConv2D, FusedDepthwiseConv2dNative, _FusedMatMul: [BiasAdd] or [BiasAdd, activation]
  // (TF.js reads the first as the extra op and the second as the activation)
  const fusedOps = (n: GraphNode, x: Tensor): Tensor => {
    const ops = strings(n, 'fused_ops');
    if (ops.length === 0) return x;
    if (ops[0] !== 'BiasAdd' || ops.length > 2 || (ops[1] !== undefined && !['Relu', 'Relu6', 'Elu', 'LeakyRelu', 'Sigmoid'].includes(ops[1]))) {
      throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)} fuses ${ops.join(' + ')}; edgeq converts BiasAdd, then optionally Relu, Relu6, Elu, LeakyRelu or Sigmoid`);
    }
    const l = layers[x.layer] as Extract<FloatLayer, { type: 'conv2d' | 'depthwise_conv2d' | 'dense' }>;
    const b = perChannel(n, constant(n, 2, 'bias'), x, 'bias');
    l.bias = Float32Array.from(l.bias, (v, i) => v + b[i]);
    return ops[1] ? activation(n, x, ops[1], fusable(l), `${n.name}/${ops[1]}`) : x;
  };
  // Reshape / Squeeze to `shape` (without the batch): nothing, a flatten or a reshape. The
  // input's normalization waits for the layer after it where its C channels still repeat
  // along the last axis (a multiple of C): a reshape keeps the values' order
  const reshape = (n: GraphNode, x: Tensor, shape: number[]): Tensor => {
    if (shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i])) return alias(n, x);
    const from = x.normalize && shape[shape.length - 1] % x.normalize.scale.length !== 0 ? settle(x) : x;
    const y = push(shape.length === 1 ? { type: 'flatten', name: n.name } : { type: 'reshape', name: n.name, shape }, [from]);
    return from.normalize ? { ...y, normalize: from.normalize } : y;
  };
  // add / multiply of two tensors: equal shapes, or one a vector over the other's channels
  const binary = (n: GraphNode, type: 'add' | 'multiply', a: Tensor, b: Tensor): Tensor => {
    const vectorOver = (v: number[], of: number[]) => v.length <= of.length && v[v.length - 1] === of[of.length - 1] && v.slice(0, -1).every((d) => d === 1);
    if ((a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])) || vectorOver(b.shape, a.shape)) return push({ type, name: n.name, activation: 'none' }, [a, b]);
    if (vectorOver(a.shape, b.shape)) return push({ type, name: n.name, activation: 'none' }, [b, a]);
    throw new UnsupportedOpError('E_UNSUPPORTED_BROADCAST', `${where(n)}: shapes [${a.shape}] and [${b.shape}] broadcast in a way edgeq does not run (equal shapes, or one a vector over the other's channels)`);
  };

  const lower = (n: GraphNode): Value => {
    switch (n.op) {
      case 'Placeholder':
        return { layer: -1, shape: dims.slice(1) };
      case 'Const': {
        const t = weights[n.name];
        if (!t) throw new UnsupportedOpError('E_GRAPH_CONST', `${where(n)} has no values in the weights manifest`);
        return { constant: t };
      }
      case 'Identity': { // frozen TF 1 graphs read every weight through one ('kernel/read')
        const v = values.get(input(n, 0))!;
        return 'layer' in v ? alias(n, v) : v;
      }
      case 'Conv2D':
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative': {
        const x = image(n, pending(n, 0));
        if (ints(n, 'dilations').some((d) => d !== 1)) throw new UnsupportedOpError('E_UNSUPPORTED_DILATION', `${where(n)}: dilated convolutions are not supported`);
        const filter = constant(n, 1, 'filter');
        const [kh, kw, c, f] = filter.shape;
        if (c !== x.shape[2]) throw new ConvertError('E_GRAPH_INVALID', `${where(n)}: its filter [${filter.shape}] is for ${c} channels, its input [${x.shape}] has ${x.shape[2]}`);
        const s = ints(n, 'strides');
        const common = { name: n.name, kernel: [kh, kw] as [number, number], strides: [s[1] ?? 1, s[2] ?? 1] as [number, number], padding: padding(n), activation: 'none' as const };
        const hwio = filter.dataSync();
        let l: Weighted;
        if (n.op.includes('Depthwise')) {
          // [kh][kw][c][m] → [c·m][kh][kw]
          const oc = c * f;
          const dw = new Float32Array(oc * kh * kw);
          for (let t = 0; t < kh * kw; t++) for (let o = 0; o < oc; o++) dw[o * kh * kw + t] = hwio[t * oc + o];
          l = { type: 'depthwise_conv2d', multiplier: f, ...common, weights: dw, bias: new Float32Array(oc) };
        } else {
          const ohwi = new Float32Array(f * kh * kw * c);
          for (let yy = 0; yy < kh; yy++) for (let xx = 0; xx < kw; xx++) for (let ci = 0; ci < c; ci++) for (let o = 0; o < f; o++) ohwi[((o * kh + yy) * kw + xx) * c + ci] = hwio[((yy * kw + xx) * c + ci) * f + o];
          l = { type: 'conv2d', filters: f, ...common, weights: ohwi, bias: new Float32Array(f) };
        }
        return fusedOps(n, push(l, [foldInput(x, l)]));
      }
      case 'MatMul':
      case '_FusedMatMul': {
        const x = pending(n, 0);
        if (n.attr?.transpose_a?.b) throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)}: a transposed input is not supported`);
        if (x.shape.length !== 1) throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)}: its input has shape [${x.shape}]; edgeq multiplies vectors (reshape to a vector first)`);
        const w = constant(n, 1, 'weights');
        const transposed = n.attr?.transpose_b?.b === true;
        const [rows, cols] = w.shape;
        const units = transposed ? rows : cols, k = transposed ? cols : rows;
        const v = w.dataSync();
        const weights2 = transposed ? Float32Array.from(v) : Float32Array.from({ length: units * k }, (_, i) => v[(i % k) * units + Math.floor(i / k)]);
        const l: Weighted = { type: 'dense', name: n.name, units, activation: 'none', weights: weights2, bias: new Float32Array(units) };
        return fusedOps(n, push(l, [foldInput(x, l)]));
      }
      case 'BiasAdd':
      case 'Add':
      case 'AddV2':
      case 'Sub':
      case 'Mul':
      case 'RealDiv': {
        const [a, b] = [values.get(input(n, 0))!, values.get(input(n, 1))!];
        const scales = n.op === 'Mul' || n.op === 'RealDiv';
        if ('layer' in a && 'layer' in b) {
          if (n.op === 'Sub' || n.op === 'RealDiv') throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)}: ${n.op} of two tensors is not supported (of a tensor and a constant)`);
          return binary(n, scales ? 'multiply' : 'add', tensor(n, 0), tensor(n, 1));
        }
        const k = 'layer' in a ? 0 : 1; // the tensor's side
        if (n.op === 'RealDiv' && k === 1) throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)}: a constant divided by a tensor is not supported`);
        const x = pending(n, k);
        const what = scales ? 'scale' : 'addend';
        const c = perChannel(n, constant(n, 1 - k, what), x, what);
        // the op as x·scale + shift per channel; x / c as x · (1/c), which is the same
        // where 1/c is exact in float (c a power of two) and within a rounding otherwise
        const scale = n.op === 'Mul' ? c : n.op === 'RealDiv' ? c.map((v) => 1 / v) : c.map(() => (n.op === 'Sub' && k === 1 ? -1 : 1));
        const shift = scales ? c.map(() => 0) : n.op === 'Sub' && k === 0 ? c.map((v) => -v) : c;
        if (x.layer === -1) { // the input: composed with its normalization so far (see foldInput)
          const p = x.normalize ?? { scale: scale.map(() => 1), offset: scale.map(() => 0) };
          return { ...x, normalize: { name: n.name, scale: scale.map((s, i) => p.scale[i] * s), offset: shift.map((t, i) => p.offset[i] * scale[i] + t) } };
        }
        const zeros = new Float32Array(c.length), ones = zeros.map(() => 1);
        const affine = foldBatchNorm(into(n, k), n.name, { gamma: scale, beta: shift, mean: zeros, variance: ones, eps: 0 });
        return affine ? push(affine, [tensor(n, k)]) : tensor(n, k);
      }
      case 'FusedBatchNorm':
      case 'FusedBatchNormV2':
      case 'FusedBatchNormV3': {
        const x = tensor(n, 0);
        if (text(n.attr?.data_format?.s) && text(n.attr?.data_format?.s) !== 'NHWC') throw new UnsupportedOpError('E_UNSUPPORTED_LAYOUT', `${where(n)}: data format ${text(n.attr?.data_format?.s)}; edgeq converts NHWC`);
        const [gamma, beta, mean, variance] = ['scale', 'offset', 'mean', 'variance'].map((what, i) => perChannel(n, constant(n, i + 1, what), x, what));
        const affine = foldBatchNorm(into(n, 0), n.name, { gamma, beta, mean, variance, eps: n.attr?.epsilon?.f ?? 0.001 });
        return affine ? push(affine, [x]) : x;
      }
      case 'Relu':
      case 'Relu6':
      case 'LeakyRelu':
      case 'Elu':
      case 'Sigmoid':
      case 'Tanh':
        return activation(n, tensor(n, 0), n.op, into(n, 0));
      case 'MaxPool':
      case 'AvgPool': {
        const x = image(n, tensor(n, 0));
        const k = ints(n, 'ksize'), s = ints(n, 'strides');
        return push({ type: n.op === 'MaxPool' ? 'max_pool2d' : 'avg_pool2d', name: n.name, pool: [k[1], k[2]], strides: [s[1], s[2]], padding: padding(n) }, [x]);
      }
      case 'Mean': {
        const x = tensor(n, 0);
        const axes = numbers(n, 1, 'axes').map((a) => (a < 0 ? a + x.shape.length + 1 : a)).sort().join(',');
        if (x.shape.length !== 3 || axes !== '1,2') throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)}: a mean over axes [${axes}] of [${x.shape}] is not a global average pooling (axes 1, 2 of an image)`);
        const pooled = push({ type: 'global_avg_pool2d', name: n.name }, [x]);
        return n.attr?.keep_dims?.b ? push({ type: 'reshape', name: `${n.name}/keep_dims`, shape: [1, 1, x.shape[2]] }, [pooled]) : pooled;
      }
      case 'Reshape': {
        const x = pending(n, 0);
        const { dims: target } = dimsOf(n, 1, 'shape');
        const rest = target.slice(1).filter((d): d is number => typeof d === 'number');
        const known = size(rest.filter((d) => d !== -1));
        const shape = rest.map((d) => (d === -1 ? size(x.shape) / known : d));
        const first = target[0];
        // the batch first: −1, 1, or the batch size itself (Shape → StridedSlice)
        const batchFirst = first === -1 || first === 1 || (typeof first === 'object' && first.batch === 1);
        if (!batchFirst || rest.length !== target.length - 1 || rest.filter((d) => d === -1).length > (first === -1 ? 0 : 1) || rest.length === 0 || size(shape) !== size(x.shape) || !shape.every((d) => Number.isInteger(d) && d > 0)) {
          throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)}: a reshape of [${x.shape}] to ${showDims(target)} is not supported (the batch first, −1, 1 or the batch size, and as many values per example)`);
        }
        return reshape(n, x, shape);
      }
      case 'Squeeze': {
        const x = tensor(n, 0);
        const rank = x.shape.length + 1;
        const axes = (ints(n, 'squeeze_dims').length ? ints(n, 'squeeze_dims') : ints(n, 'axis')).map((a) => (a < 0 ? a + rank : a));
        const drop = (i: number) => (axes.length ? axes.includes(i + 1) : x.shape[i] === 1);
        if (axes.includes(0) || axes.some((a) => x.shape[a - 1] !== 1)) throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)}: squeezing axes [${axes}] of [${x.shape}] is not supported (axes of size 1 besides the batch)`);
        return reshape(n, x, x.shape.filter((_, i) => !drop(i)));
      }
      case 'ConcatV2':
      case 'Concat': {
        const k = ins(n).length - 1;
        if (k < 1) throw new ConvertError('E_GRAPH_INVALID', `${where(n)} has ${k + 1} inputs; it needs tensors and an axis`);
        // ConcatV2 (tensors…, axis), Concat (axis, tensors…)
        const at = (i: number) => (n.op === 'Concat' ? i + 1 : i), axisAt = n.op === 'Concat' ? 0 : k;
        const [axis] = numbers(n, axisAt, 'axis');
        if (Array.from({ length: k }, (_, i) => values.get(input(n, at(i)))!).every((v) => !('layer' in v))) { // shape vectors
          const vectors = Array.from({ length: k }, (_, i) => dimsOf(n, at(i), `input ${at(i)}`));
          if (vectors.some((v) => v.scalar) || (axis !== 0 && axis !== -1)) throw shapeError(n, 'edgeq concatenates shape vectors (rank 1) on axis 0');
          return { dims: vectors.flatMap((v) => v.dims), scalar: false };
        }
        const parts = Array.from({ length: k }, (_, i) => tensor(n, at(i)));
        const rank = parts[0].shape.length + 1;
        if ((axis < 0 ? axis + rank : axis) !== rank - 1) throw new UnsupportedOpError('E_CONCAT_AXIS', `${where(n)}: only concatenation on the last (channel) axis is supported, got axis ${axis} of a rank-${rank} tensor`);
        // more than two: pairwise, left to right
        return parts.slice(1).reduce((acc, b) => push({ type: 'concatenate', name: n.name }, [acc, b]), parts[0]);
      }
      case 'Pad':
      case 'PadV2': {
        const x = image(n, tensor(n, 0));
        const p = numbers(n, 1, 'paddings');
        const value = n.op === 'PadV2' ? numbers(n, 2, 'pad value')[0] : n.attr?.constant_value?.f ?? 0;
        if (p.length !== 8 || p[0] || p[1] || p[6] || p[7] || p.some((v) => v < 0) || value !== 0) {
          throw new UnsupportedOpError('E_UNSUPPORTED_PADDING', `${where(n)}: padding [${p}] with ${value} is not supported (zeros, around height and width only)`);
        }
        return p.every((v) => v === 0) ? alias(n, x) : push({ type: 'pad2d', name: n.name, pads: [p[2], p[3], p[4], p[5]] }, [x]);
      }
      case 'ResizeNearestNeighbor': {
        const x = image(n, tensor(n, 0));
        const out = numbers(n, 1, 'size');
        const align = n.attr?.align_corners?.b === true, half = n.attr?.half_pixel_centers?.b === true;
        const factors = [out[0] / x.shape[0], out[1] / x.shape[1]] as [number, number];
        // upsample2d reads row ⌊y / f⌋: the resize must read the same rows and columns
        const same = factors.every((f, axis) => Number.isInteger(f) && f >= 1 && Array.from({ length: out[axis] }, (_, o) => nearestSource(o, x.shape[axis], out[axis], align, half) === Math.floor(o / f)).every(Boolean));
        if (!same) throw new UnsupportedOpError('E_UNSUPPORTED_UPSAMPLING', `${where(n)}: resizing [${x.shape.slice(0, 2)}] to [${out}] (align_corners ${align}, half_pixel_centers ${half}) is not a whole-factor nearest upsampling`);
        return factors[0] === 1 && factors[1] === 1 ? alias(n, x) : push({ type: 'upsample2d', name: n.name, factors }, [x]);
      }
      case 'Shape': { // the batch size, then the shape
        const v = values.get(input(n, 0))!;
        return { dims: 'layer' in v ? [BATCH, ...v.shape] : 'constant' in v ? v.constant.shape : v.scalar ? [] : [v.dims.length], scalar: false };
      }
      case 'StridedSlice': { // of a shape vector, on its one axis
        const x = dimsOf(n, 0, 'input');
        const mask = (key: string) => Number(n.attr?.[key]?.i ?? 0);
        for (const key of ['ellipsis_mask', 'new_axis_mask']) {
          if (mask(key)) throw shapeError(n, `${key} ${mask(key)} is not supported (edgeq evaluates slices of shape vectors: begin, end and strides, begin_mask, end_mask and shrink_axis_mask)`);
        }
        const [begin, end, strides] = ['begin', 'end', 'strides'].map((what, i) => numbers(n, i + 1, what));
        if (x.scalar || begin.length !== 1 || end.length !== 1 || strides.length !== 1 || strides[0] === 0) {
          throw shapeError(n, `a slice [${begin}:${end}:${strides}] of ${x.scalar ? 'a scalar' : `a vector of ${x.dims.length}`} is not supported (one axis of a shape vector, a stride other than 0)`);
        }
        const len = x.dims.length, s = strides[0];
        if (mask('shrink_axis_mask') & 1) { // one value, at begin
          const i = begin[0] < 0 ? begin[0] + len : begin[0];
          if (!(i >= 0 && i < len)) throw shapeError(n, `index ${begin[0]} is outside the vector ${showDims(x.dims)}`);
          return { dims: [x.dims[i]], scalar: true };
        }
        // as TensorFlow: negative from the end, then clamped; a masked bound is the end of the axis
        const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + len : v, s > 0 ? 0 : -1), s > 0 ? len : len - 1);
        const from = mask('begin_mask') & 1 ? (s > 0 ? 0 : len - 1) : clamp(begin[0]);
        const to = mask('end_mask') & 1 ? (s > 0 ? len : -1) : clamp(end[0]);
        const dims: Dim[] = [];
        for (let i = from; s > 0 ? i < to : i > to; i += s) dims.push(x.dims[i]);
        return { dims, scalar: false };
      }
      case 'Pack': { // scalars into a shape vector
        const parts = ins(n).map((_, i) => dimsOf(n, i, `input ${i}`));
        const axis = Number(n.attr?.axis?.i ?? 0);
        if (parts.some((p) => !p.scalar) || (axis !== 0 && axis !== -1)) throw shapeError(n, 'edgeq evaluates a Pack of scalars into a shape vector (axis 0)');
        return { dims: parts.map((p) => p.dims[0]), scalar: false };
      }
      case 'Prod': { // of a shape vector: a number of values
        const x = dimsOf(n, 0, 'input');
        const axes = numbers(n, 1, 'axes');
        if (x.scalar || axes.length !== 1 || (axes[0] !== 0 && axes[0] !== -1)) throw shapeError(n, `a product over axes [${axes}] of ${x.scalar ? 'a scalar' : 'a vector'} is not supported (a shape vector's values, axis 0)`);
        return { dims: [x.dims.reduce((p: Dim, d) => times(n, p, d), 1)], scalar: n.attr?.keep_dims?.b !== true };
      }
      case 'Cast': { // shape vectors are whole numbers in any type
        const v = values.get(input(n, 0))!;
        if (!('dims' in v)) throw shapeError(n, `edgeq evaluates a Cast only of shape vectors; '${input(n, 0)}' is ${'layer' in v ? 'a tensor the model computes' : 'a constant'}`);
        return v;
      }
      case 'Softmax': {
        const x = tensor(n, 0);
        if (x.shape.length !== 1) throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)}: a softmax over [${x.shape}] is not supported (a vector only)`);
        return push({ type: 'softmax', name: n.name }, [x]);
      }
      default:
        throw new UnsupportedOpError('E_UNSUPPORTED_OP', `${where(n)}: op ${n.op} is not one edgeq converts from graph models (supported: ${SUPPORTED})`);
    }
  };
  for (const n of order) values.set(n.name, lower(n));
  const last = values.get(ends[0])!;
  const out = 'layer' in last ? settle(last) : undefined;
  if (!out || out.layer === -1) throw new UnsupportedOpError('E_GRAPH', 'the graph has no op edgeq can run: its output is its input, a constant or a shape');
  return foldZeroPadding({ inputShape: dims.slice(1), layers });
}

export async function loadGraphModelFile(path: string): Promise<LoadedGraphModel> {
  const { json, specs, weightData, floatBytes, files } = await readModelFiles(path);
  const topology = json.modelTopology as { node?: GraphNode[] };
  if (!Array.isArray(topology.node)) throw new ConvertError('E_MODEL_JSON', `${path} is not a TF.js Graph model: modelTopology has no "node" list`);
  const signature = json.signature as { outputs?: Record<string, { name?: string }> } | undefined;
  const outputs = Object.values(signature?.outputs ?? {}).flatMap((o) => (typeof o.name === 'string' ? [o.name] : []));
  const weights = tf.io.decodeWeights(weightData.buffer as ArrayBuffer, specs);
  try {
    const graph = lowerGraphModel(topology.node, weights, outputs);
    const model = await tf.loadGraphModel({ load: async () => ({ modelTopology: topology, weightSpecs: specs, weightData: weightData.buffer as ArrayBuffer, format: 'graph-model', signature: json.signature as object | undefined }) });
    return { model, graph, floatBytes, files };
  } finally {
    tf.dispose(Object.values(weights));
  }
}
