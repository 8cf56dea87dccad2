// The converter's float graph: a TF.js Layers model lowered to edgeq's ops, still in
// float. Dropout is removed, BatchNormalization folded into the convolution or dense
// layer before it, Activation / ReLU layers fused into it, a softmax split off, a
// Rescaling at the input (Keras' pixels → values) folded into the first weighted layer,
// so the edgeq model takes what the source model takes (foldInputAffine; a Graph
// model's input normalization too), and zero padding folded into
// the convolution after it where that is exact (foldZeroPadding; Graph models too).
// runFloat evaluates the graph with TF.js so that every rewrite can be checked.

import * as tf from '@tensorflow/tfjs';
import { ConvertError, UnsupportedOpError } from '../../runtime/errors.js';
import type { Conv1dPadding, FloatActivation, FusedActivation, Padding, RnnDirection } from '../../runtime/codes.js';
import { cellActivation, gruStep } from './keras-gru.js';
import { windowOut } from '../format/shapes.js';

export type FloatLayer = FloatOp & {
  // the layers whose outputs it reads, by index (−1: the model input); absent: the one before
  inputs?: number[];
};
type FloatOp =
  | { type: 'activation'; name: string; activation: FloatActivation; alpha?: number }
  | { type: 'channel_affine'; name: string; scale: Float32Array; shift: Float32Array }
  | { type: 'add' | 'multiply'; name: string; activation: FusedActivation; average?: boolean } // average: add only, (a + b) / 2
  | { type: 'concatenate'; name: string }
  | { type: 'conv2d'; name: string; filters: number; kernel: [number, number]; strides: [number, number]; padding: Padding; activation: FusedActivation; weights: Float32Array; bias: Float32Array }
  | { type: 'conv1d'; name: string; filters: number; kernel: number; stride: number; dilation: number; padding: Conv1dPadding; activation: FusedActivation; weights: Float32Array; bias: Float32Array }
  | { type: 'depthwise_conv2d'; name: string; multiplier: number; kernel: [number, number]; strides: [number, number]; padding: Padding; activation: FusedActivation; weights: Float32Array; bias: Float32Array }
  | { type: 'dense'; name: string; units: number; activation: FusedActivation; weights: Float32Array; bias: Float32Array }
  | { type: 'max_pool2d' | 'avg_pool2d'; name: string; pool: [number, number]; strides: [number, number]; padding: Padding }
  | { type: 'max_pool1d' | 'avg_pool1d'; name: string; pool: number; stride: number; padding: Padding }
  | { type: 'global_avg_pool2d' | 'global_max_pool2d' | 'global_avg_pool1d' | 'global_max_pool1d' | 'flatten' | 'softmax'; name: string }
  | { type: 'upsample2d'; name: string; factors: [number, number] }
  | { type: 'pad2d'; name: string; pads: [number, number, number, number] }
  | { type: 'reshape'; name: string; shape: number[] }
  | Recurrent;
// lstm (G = 4 gates) and gru (G = 3; resetAfter: Keras' default cell, bias [2][3·units])
export interface Recurrent {
  type: 'lstm' | 'gru'; name: string; units: number; activation: 'relu' | 'tanh'; recurrentActivation: 'sigmoid' | 'hardSigmoid';
  returnSequences: boolean; direction: RnnDirection; resetAfter?: boolean; kernel: Float32Array; recurrent: Float32Array; bias: Float32Array;
}

// conv2d weights are OHWI, conv1d [f][k][c], depthwise [c·multiplier][kh][kw], dense [units][inputs], lstm / gru [G·units][features] and
// [G·units][units]: the engine's layouts.
export interface FloatGraph { inputShape: number[]; layers: FloatLayer[] }

// The input of layer i: its first `inputs` entry, or the layer before it.
export function inputOf(graph: FloatGraph, i: number): number {
  return graph.layers[i].inputs?.[0] ?? i - 1;
}

export type Weighted = Extract<FloatLayer, { type: 'conv2d' | 'conv1d' | 'depthwise_conv2d' | 'dense' }>;
export type Fusable = Weighted | Extract<FloatLayer, { type: 'add' | 'multiply' }>;

// A layer a ReLU / ReLU6 can be fused into (and, if it has weights, a per-channel affine
// folded into): the caller has checked that nothing else reads its output.
export function fusable(l: FloatLayer | undefined): Fusable | undefined {
  return l && (l.type === 'conv2d' || l.type === 'conv1d' || l.type === 'depthwise_conv2d' || l.type === 'dense' || l.type === 'add' || l.type === 'multiply') && l.activation === 'none' ? l : undefined;
}

// Inference batch normalization, y = (x − mean)·gamma / √(variance + eps) + beta per
// channel (any per-channel affine: mean 0, variance 1, eps 0), after `into` (see
// fusable): folded into its weights and bias, which is exact; with nothing to fold into
// (no weights, an activation between, or another reader of its output), the channel
// affine op to push instead.
export interface BatchNorm { gamma: ArrayLike<number>; beta: ArrayLike<number>; mean: ArrayLike<number>; variance: ArrayLike<number>; eps: number }
export function foldBatchNorm(into: Fusable | undefined, name: string, { gamma, beta, mean, variance, eps }: BatchNorm): FloatLayer | undefined {
  if (!into || !('bias' in into)) {
    const scale = Float32Array.from(gamma, (g, o) => g / Math.sqrt(variance[o] + eps));
    return { type: 'channel_affine', name, scale, shift: Float32Array.from(beta, (b, o) => b - mean[o] * scale[o]) };
  }
  const per = into.weights.length / gamma.length;
  for (let o = 0; o < gamma.length; o++) {
    const s = gamma[o] / Math.sqrt(variance[o] + eps);
    for (let q = 0; q < per; q++) into.weights[o * per + q] *= s;
    into.bias[o] = (into.bias[o] - mean[o]) * s + beta[o];
  }
  return undefined;
}

// An affine map of the model's input, value = x·scale + offset per channel of the input
// (arrays of one: the same for every channel): Keras' Rescaling, or a graph model's
// Sub / Mul / RealDiv / Add of constants at its input.
export interface InputAffine { scale: ArrayLike<number>; offset: ArrayLike<number> }

// Folds it into the conv, depthwise conv or dense layer reading the input (directly, or
// through flattens and reshapes that keep its C channels repeating along the last axis:
// value q of the layer's input window is of channel q mod C, a depthwise output o reads
// channel ⌊o / multiplier⌋ mod C): w·(x·scale + offset) + b = (w·scale)·x + (b + Σ w·offset)
// per output. Exact where every value the layer reads is the input's: a dense layer, a
// 'valid' conv, or a conv with offset 0 (zero padding would stand for the offset).
// False, with nothing changed, where it is not.
export function foldInputAffine(l: Weighted, { scale, offset }: InputAffine): boolean {
  if (l.type !== 'dense' && l.padding !== 'valid' && Array.from(offset).some((o) => o !== 0)) return false;
  const c = scale.length, n = l.bias.length, per = l.weights.length / n;
  for (let o = 0; o < n; o++) {
    let shift = 0;
    for (let q = 0; q < per; q++) {
      const ch = (l.type === 'depthwise_conv2d' ? Math.floor(o / l.multiplier) : q) % c;
      shift += l.weights[o * per + q] * offset[ch];
      l.weights[o * per + q] *= scale[ch];
    }
    l.bias[o] += shift;
  }
  return true;
}


// A dilated kernel's span.
const span = (l: { kernel: number; dilation: number }) => (l.kernel - 1) * l.dilation + 1;

// A layer's output shape (without the batch) for its inputs' shapes.
export function outputShape(l: FloatLayer, a: number[], b?: number[]): number[] {
  switch (l.type) {
    case 'conv2d':
    case 'depthwise_conv2d':
      return [windowOut(a[0], l.kernel[0], l.strides[0], l.padding), windowOut(a[1], l.kernel[1], l.strides[1], l.padding), l.bias.length];
    case 'max_pool2d':
    case 'avg_pool2d':
      return [windowOut(a[0], l.pool[0], l.strides[0], l.padding), windowOut(a[1], l.pool[1], l.strides[1], l.padding), a[2]];
    case 'conv1d': return [windowOut(a[0], span(l), l.stride, l.padding), l.bias.length];
    case 'max_pool1d':
    case 'avg_pool1d': return [windowOut(a[0], l.pool, l.stride, l.padding), a[1]];
    case 'dense': return [...a.slice(0, -1), l.units]; // a vector, or every step of a sequence
    case 'global_avg_pool2d':
    case 'global_max_pool2d':
    case 'global_avg_pool1d':
    case 'global_max_pool1d': return [a[a.length - 1]];
    case 'flatten': return [a.reduce((x, y) => x * y, 1)];
    case 'reshape': return l.shape;
    case 'concatenate': return [...a.slice(0, -1), a[a.length - 1] + b![b!.length - 1]];
    case 'upsample2d': return [a[0] * l.factors[0], a[1] * l.factors[1], a[2]];
    case 'pad2d': return [a[0] + l.pads[0] + l.pads[1], a[1] + l.pads[2] + l.pads[3], a[2]];
    case 'lstm':
    case 'gru': return l.returnSequences ? [a[0], l.units] : [l.units];
    default: return a; // elementwise: activation, channel affine, add and multiply (a the full operand), softmax
  }
}

// The output shape of every layer of a float graph (the last one's is the model's output).
export function layerShapes(graph: FloatGraph): number[][] {
  const shapes: number[][] = [];
  const shapeOf = (j: number) => (j === -1 ? graph.inputShape : shapes[j]);
  graph.layers.forEach((l, i) => {
    const src = l.inputs ?? [i - 1];
    shapes.push(outputShape(l, shapeOf(src[0]), src[1] === undefined ? undefined : shapeOf(src[1])));
  });
  return shapes;
}

// A zero pad2d read only by a 'valid' conv2d / depthwise conv whose pads are exactly those
// 'same' would add to its input (MobileNet's [[0, 1], [0, 1]] before a stride-2 3×3 conv
// on even sizes) is removed and the conv made 'same': the engine pads 'same' with the
// input's zero point, as pad2d does, so this is exact and saves a copy of the
// activation. Any other pad stays its own op.
export function foldZeroPadding(graph: FloatGraph): FloatGraph {
  const { layers } = graph;
  const src = layers.map((l, i) => l.inputs ?? [i - 1]);
  const shapes = layerShapes(graph);
  const shapeOf = (j: number) => (j === -1 ? graph.inputShape : shapes[j]);
  const removed = new Set<number>();
  layers.forEach((p, i) => {
    if (p.type !== 'pad2d') return;
    const readers = src.flatMap((s, r) => s.filter((j) => j === i).map(() => r));
    const conv = layers[readers[0]];
    if (readers.length !== 1 || (conv.type !== 'conv2d' && conv.type !== 'depthwise_conv2d') || conv.padding !== 'valid') return;
    const from = src[i][0], [h, w] = shapeOf(from);
    const same = [h, w].flatMap((size, axis) => {
      const total = Math.max((Math.ceil(size / conv.strides[axis]) - 1) * conv.strides[axis] + conv.kernel[axis] - size, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
    const out = shapes[readers[0]];
    if (same.some((v, k) => v !== p.pads[k]) || windowOut(h, conv.kernel[0], conv.strides[0], 'same') !== out[0] || windowOut(w, conv.kernel[1], conv.strides[1], 'same') !== out[1]) return;
    conv.padding = 'same';
    src[readers[0]] = [from];
    removed.add(i);
  });
  if (removed.size === 0) return graph;
  // renumber what every layer reads; `inputs` stays absent where it is the layer before
  const index: number[] = [];
  let kept = 0;
  layers.forEach((_, i) => { index[i] = removed.has(i) ? -2 : kept++; });
  const out: FloatLayer[] = [];
  layers.forEach((l, i) => {
    if (removed.has(i)) return;
    const reads = src[i].map((j) => (j === -1 ? -1 : index[j]));
    const m: FloatLayer = { ...l };
    delete m.inputs;
    if (reads.length > 1 || reads[0] !== out.length - 1) m.inputs = reads;
    out.push(m);
  });
  return { inputShape: graph.inputShape, layers: out };
}

export const SUPPORTED_LAYERS = 'InputLayer, Add, Multiply, Concatenate (last axis), Conv2D, DepthwiseConv2D, SeparableConv2D (depthwise + 1×1), Conv1D (valid / same / causal, strides, dilation), MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D, UpSampling2D (nearest), ZeroPadding2D, Flatten, Reshape, Dense (on a vector, or on every step of a sequence), TimeDistributed(Dense), LSTM and GRU (relu / tanh; go_backwards; GRU reset_after true or false), Bidirectional(LSTM / GRU) (merge concat, sum, mul, ave), Average (two inputs), Dropout (removed), BatchNormalization (folded, or a per-channel affine op), Activation / ReLU (fused), Rescaling before the first Conv2D / Conv1D / Dense (folded)';

type Config = Record<string, unknown>;
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v as number, v as number]);
const one = (v: unknown): number => (Array.isArray(v) ? v[0] : v as number);
const actName = (v: unknown): string => (typeof v === 'string' ? v : 'linear');
// Keras / TF.js activation names the activation op runs
const FLOAT_ACTIVATIONS: Record<string, FloatActivation> = {
  relu: 'relu', relu6: 'relu6', sigmoid: 'sigmoid', tanh: 'tanh', hardSigmoid: 'hardSigmoid', hard_sigmoid: 'hardSigmoid',
  swish: 'swish', silu: 'swish', elu: 'elu',
};
const ACTIVATIONS = 'linear, relu, relu6, sigmoid, tanh, hard_sigmoid, swish / silu, elu, LeakyReLU, ELU';

function transpose(x: Float32Array, a: number, b: number): Float32Array {
  const t = new Float32Array(x.length);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) t[j * a + i] = x[i * b + j];
  return t;
}

// An LSTM, GRU or KerasGRU layer (or a Bidirectional's half) as the lstm / gru op reading
// layer `from`. Keras' kernels [F][G·U] and [U][G·U] become [G·U][F] and [G·U][U].
function recurrentOf(layer: tf.layers.Layer, where: string, from: number, direction: RnnDirection, name = layer.name): Recurrent & { inputs: number[] } {
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as Config;
  if (cls !== 'LSTM' && cls !== 'GRU' && cls !== 'KerasGRU') {
    throw new UnsupportedOpError('E_UNSUPPORTED_LAYER', `${where} wraps a ${cls}: only LSTM and GRU layers are supported in a Bidirectional`);
  }
  const kind = cls === 'LSTM' ? 'LSTM' : 'GRU';
  if (cfg.stateful || cfg.returnState) throw new UnsupportedOpError('E_UNSUPPORTED_RNN', `${where}: stateful and return_state ${kind}s are not supported`);
  const units = cfg.units as number, gates = cls === 'LSTM' ? 4 : 3;
  const act = actName(cfg.activation), rec = actName(cfg.recurrentActivation);
  if (act !== 'tanh' && act !== 'relu') throw new UnsupportedOpError('E_UNSUPPORTED_ACTIVATION', `${where}: ${kind} activation '${act}' is not supported (tanh, relu)`);
  if (rec !== 'sigmoid' && rec !== 'hardSigmoid') throw new UnsupportedOpError('E_UNSUPPORTED_ACTIVATION', `${where}: ${kind} recurrent activation '${rec}' is not supported (sigmoid, hardSigmoid)`);
  const w = layer.getWeights().map((t) => t.dataSync() as Float32Array);
  const feat = w[0].length / (gates * units);
  const resetAfter = cls === 'KerasGRU';
  return {
    type: cls === 'LSTM' ? 'lstm' : 'gru', name, units, activation: act, recurrentActivation: rec, returnSequences: cfg.returnSequences === true, direction,
    ...(cls === 'LSTM' ? {} : { resetAfter }),
    kernel: transpose(w[0], feat, gates * units), recurrent: transpose(w[1], units, gates * units),
    bias: w[2] ? Float32Array.from(w[2]) : new Float32Array(gates * units * (resetAfter ? 2 : 1)),
    inputs: [from],
  };
}

// A model input's shape, batch first, as Keras prints it: [None, None, 9].
export const showInputShape = (shape: readonly (number | null | undefined)[]) => `[${shape.map((d) => d ?? 'None').join(', ')}]`;

// The input shape (batch first) with its time dimension, the first axis after the batch
// (the steps of a sequence [batch, steps, features]), fixed to `steps`: --sequence-length.
// Refused where the input has no such axis or fixes it to another length.
export function withSequenceLength(shape: readonly (number | null | undefined)[], steps: number, source: string): (number | null)[] {
  if (!Number.isInteger(steps) || steps < 1) throw new ConvertError('E_SEQUENCE_LENGTH', `the sequence length must be a positive integer, got ${steps}`);
  if (shape.length < 3) {
    throw new ConvertError('E_SEQUENCE_LENGTH', `${source} takes inputs of shape ${showInputShape(shape)}, which have no time dimension: --sequence-length fixes the steps of a sequence input [batch, steps, features]; convert without it`);
  }
  const known = shape[1];
  if (known !== null && known !== undefined && known !== steps) {
    throw new ConvertError('E_SEQUENCE_LENGTH', `${source} takes inputs of shape ${showInputShape(shape)}: its sequences are fixed at ${known} steps, so --sequence-length ${steps} cannot apply; drop --sequence-length, or pass --sequence-length ${known}`);
  }
  return shape.map((d, i) => (i === 1 ? steps : d ?? null));
}

// The input shape without the batch, every dimension known: an .edgeq model has fixed
// shapes. A variable dimension (None) is refused, saying how to fix it.
export function requireFixedInput(shape: readonly (number | null | undefined)[] | undefined, source: string): number[] {
  const open = (shape ?? []).map((d, i) => (i > 0 && !(typeof d === 'number' && d > 0) ? i : 0)).filter((i) => i > 0);
  if (!shape || shape.length < 2) throw new ConvertError('E_INPUT_SHAPE', `${source} declares no input shape: edgeq needs the input's shape (every dimension but the batch); re-export the model with an input shape`);
  if (open.length === 0) return shape.slice(1) as number[];
  const shown = `${source} takes inputs of shape ${showInputShape(shape)}`;
  if (open.length === 1 && open[0] === 1 && shape.length >= 3) {
    const rest = shape.slice(2).join(', ');
    throw new ConvertError('E_INPUT_SHAPE', `${shown}: its time dimension (axis 1, the steps of a sequence) is variable, and an .edgeq model has fixed shapes: pass --sequence-length N (the convert API's sequenceLength option) to convert it for sequences of N steps, inputs [N, ${rest}]`);
  }
  const axes = open.length === 1 ? `axis ${open[0]} is` : `axes ${open.join(', ')} are`;
  throw new ConvertError('E_INPUT_SHAPE', `${shown}: ${axes} variable, and an .edgeq model has fixed shapes: re-export the model with a fixed input shape${open[0] === 1 && shape.length >= 3 ? ' (--sequence-length N fixes only axis 1, the steps of a sequence)' : ''}`);
}

export function lowerLayersModel(model: tf.LayersModel): FloatGraph {
  const inputShape = requireFixedInput(model.inputs[0]?.shape, 'the model');
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new UnsupportedOpError('E_GRAPH', `the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; edgeq converts models with one of each`);
  }
  const out: FloatLayer[] = [];
  // a Rescaling waiting for the first weighted layer: value = input × scale + offset
  let rescale: { scale: number; offset: number; where: string } | undefined;
  const weighted = () => out.some((l) => l.type !== 'flatten' && l.type !== 'reshape');
  // folded into the first weighted layer (foldInputAffine, as for Graph models)
  const foldRescale = (l: Weighted) => {
    if (!rescale) return;
    if (!foldInputAffine(l, { scale: [rescale.scale], offset: [rescale.offset] })) {
      const conv = l as Exclude<Weighted, { type: 'dense' }>;
      throw new UnsupportedOpError('E_RESCALING_FOLD', `${rescale.where}: an offset before a '${conv.padding}'-padded ${conv.type === 'conv1d' ? 'Conv1D' : 'Conv2D'} cannot be folded (its zero padding would shift); use offset 0 or 'valid' padding`);
    }
    rescale = undefined;
  };
  const layers = model.layers;
  type Node = { inboundLayers: tf.layers.Layer[] };
  const inboundOf = (layer: tf.layers.Layer) => (layer as unknown as { inboundNodes: Node[] }).inboundNodes;
  // how many layers read each layer's output: a layer read by more than one (a skip
  // connection) cannot have a BatchNormalization or an activation folded into it
  const readers = new Map<string, number>();
  for (const layer of layers) for (const l of inboundOf(layer)[0]?.inboundLayers ?? []) readers.set(l.name, (readers.get(l.name) ?? 0) + 1);
  // Keras layer name → index of the float layer that holds its output (−1: the input)
  const producer = new Map<string, number>();
  layers.forEach((layer, i) => {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Config;
    const where = `layer ${i} '${layer.name}' (${cls})`;
    const inbound = inboundOf(layer);
    if (inbound.length > 1) throw new UnsupportedOpError('E_GRAPH', `${where} is shared (called on several inputs); edgeq converts graphs whose layers are each called once`);
    const from = inbound[0]?.inboundLayers ?? [];
    const src = from.map((l) => {
      const p = producer.get(l.name);
      if (p !== undefined) return p;
      if (l.getClassName() === 'InputLayer') return -1;
      throw new UnsupportedOpError('E_GRAPH', `${where} reads '${l.name}', which comes later in the model's layer order`);
    });
    if (cls === 'InputLayer') { producer.set(layer.name, -1); return; }
    const before = out.length;
    const w = layer.getWeights().map((t) => t.dataSync() as Float32Array);
    const shapes = layer.getWeights().map((t) => t.shape);
    const prev = out[out.length - 1];
    // the layer before it in the graph, and nothing else reads that one
    const chained = src.length === 1 && src[0] === out.length - 1 && (readers.get(from[0].name) ?? 0) === 1;
    const into = chained ? fusable(prev) : undefined;
    const unsupportedActivation = (name: string) => new UnsupportedOpError('E_UNSUPPORTED_ACTIVATION',
      `${where}: activation '${name}' is not supported (${ACTIVATIONS}, and softmax at the end)`);
    const standalone = (name: string): FloatActivation => FLOAT_ACTIVATIONS[name] ?? (() => { throw unsupportedActivation(name); })();
    // relu and relu6 fuse into the output range; the others run as an activation op after
    const fusedOf = (name: string): FusedActivation => {
      if (name === 'relu' || name === 'relu6') return name;
      if (name !== 'linear') standalone(name);
      return 'none';
    };
    const activationAfter = (name: string) => {
      if (name === 'linear' || name === 'relu' || name === 'relu6' || name === 'softmax') return;
      const a = standalone(name);
      out.push({ type: 'activation', name: `${layer.name}/${name}`, activation: a, ...(a === 'elu' ? { alpha: 1 } : {}) });
    };
    if (rescale && !['InputLayer', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'Flatten', 'Reshape', 'Conv2D', 'Conv1D', 'DepthwiseConv2D', 'Dense', 'TimeDistributed'].includes(cls)) {
      throw new UnsupportedOpError('E_RESCALING', `${rescale.where}: a Rescaling is folded into the Conv2D or Dense layer after it, and ${where} comes first`);
    }
    switch (cls) {
      case 'Rescaling': {
        const scale = cfg.scale, offset = cfg.offset ?? 0;
        if (typeof scale !== 'number' || typeof offset !== 'number' || !Number.isFinite(scale) || !Number.isFinite(offset)) {
          throw new UnsupportedOpError('E_RESCALING', `${where}: only one scale and offset for every value can be folded`);
        }
        if (weighted() || rescale || src[0] !== -1 || (readers.get(layer.name) ?? 0) !== 1) throw new UnsupportedOpError('E_RESCALING', `${where}: a Rescaling is supported only before the first Conv2D or Dense layer (with nothing but Flatten / Reshape / Dropout between)`);
        rescale = { scale, offset, where };
        producer.set(layer.name, -1);
        break;
      }
      case 'Dropout':
      case 'SpatialDropout1D':
      case 'SpatialDropout2D':
        break;
      case 'Average':
        if (src.length !== 2) throw new UnsupportedOpError('E_GRAPH', `${where}: only an Average of two inputs is supported, got ${src.length}`);
        out.push({ type: 'add', name: layer.name, activation: 'none', average: true, inputs: [src[0], src[1]] });
        break;
      case 'Add':
      case 'Multiply':
      case 'Concatenate': {
        if (src.length < 2) throw new UnsupportedOpError('E_GRAPH', `${where} needs at least two inputs`);
        if (cls === 'Concatenate') {
          const rank = (layer.outputShape as number[]).length;
          if (cfg.axis !== -1 && cfg.axis !== rank - 1) throw new UnsupportedOpError('E_CONCAT_AXIS', `${where}: only concatenation on the last (channel) axis is supported, got axis ${cfg.axis}`);
        }
        // more than two inputs: pairwise, left to right
        let acc = src[0];
        for (const b of src.slice(1)) {
          out.push(cls === 'Concatenate' ? { type: 'concatenate', name: layer.name, inputs: [acc, b] } : { type: cls === 'Add' ? 'add' : 'multiply', name: layer.name, activation: 'none', inputs: [acc, b] });
          acc = out.length - 1;
        }
        break;
      }
      case 'Flatten':
        out.push({ type: 'flatten', name: layer.name });
        break;
      case 'Reshape':
        out.push({ type: 'reshape', name: layer.name, shape: (layer.outputShape as number[]).slice(1) });
        break;
      case 'Conv2D': {
        if (cfg.dataFormat !== 'channelsLast') throw new UnsupportedOpError('E_UNSUPPORTED_LAYOUT', `${where}: only channels-last convolutions are supported`);
        if (pair(cfg.dilationRate).some((d) => d !== 1)) throw new UnsupportedOpError('E_UNSUPPORTED_DILATION', `${where}: dilated convolutions are not supported`);
        if ((cfg.groups as number | undefined) !== undefined && cfg.groups !== 1) throw new UnsupportedOpError('E_UNSUPPORTED_GROUPS', `${where}: grouped convolutions are not supported`);
        const [kh, kw, c, f] = shapes[0];
        const ohwi = new Float32Array(f * kh * kw * c);
        for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let ci = 0; ci < c; ci++) for (let o = 0; o < f; o++) {
          ohwi[((o * kh + y) * kw + x) * c + ci] = w[0][((y * kw + x) * c + ci) * f + o];
        }
        const act = actName(cfg.activation);
        out.push({
          type: 'conv2d', name: layer.name, filters: f, kernel: [kh, kw], strides: pair(cfg.strides), padding: cfg.padding === 'same' ? 'same' : 'valid',
          activation: act === 'softmax' ? (() => { throw unsupportedActivation(act); })() : fusedOf(act), weights: ohwi, bias: w[1] ? Float32Array.from(w[1]) : new Float32Array(f),
        });
        foldRescale(out[out.length - 1] as Extract<FloatLayer, { type: 'conv2d' }>);
        activationAfter(act);
        break;
      }
      case 'Conv1D': {
        // Keras' kernel [k][c][f] → [f][k][c]; causal padding is read from the config
        // (TF.js cannot run it; the float graph pads as Keras does)
        const [k, c, f] = shapes[0];
        const act = actName(cfg.activation);
        const padding = cfg.padding === 'same' || cfg.padding === 'causal' ? cfg.padding : 'valid';
        out.push({
          type: 'conv1d', name: layer.name, filters: f, kernel: k, stride: one(cfg.strides), dilation: one(cfg.dilationRate ?? 1), padding,
          activation: act === 'softmax' ? (() => { throw unsupportedActivation(act); })() : fusedOf(act), weights: transpose(w[0], k * c, f), bias: w[1] ? Float32Array.from(w[1]) : new Float32Array(f),
        });
        foldRescale(out[out.length - 1] as Weighted);
        activationAfter(act);
        break;
      }
      case 'DepthwiseConv2D':
      case 'SeparableConv2D': {
        if (cfg.dataFormat !== 'channelsLast') throw new UnsupportedOpError('E_UNSUPPORTED_LAYOUT', `${where}: only channels-last convolutions are supported`);
        if (pair(cfg.dilationRate).some((d) => d !== 1)) throw new UnsupportedOpError('E_UNSUPPORTED_DILATION', `${where}: dilated convolutions are not supported`);
        const [kh, kw, c, m] = shapes[0];
        const oc = c * m;
        // [kh][kw][c][m] → [c·m][kh][kw]
        const dw = new Float32Array(oc * kh * kw);
        for (let t = 0; t < kh * kw; t++) for (let o = 0; o < oc; o++) dw[o * kh * kw + t] = w[0][t * oc + o];
        const act = actName(cfg.activation);
        const padding = cfg.padding === 'same' ? 'same' : 'valid';
        if (cls === 'DepthwiseConv2D') {
          out.push({
            type: 'depthwise_conv2d', name: layer.name, multiplier: m, kernel: [kh, kw], strides: pair(cfg.strides), padding,
            activation: act === 'softmax' ? (() => { throw unsupportedActivation(act); })() : fusedOf(act), weights: dw, bias: w[1] ? Float32Array.from(w[1]) : new Float32Array(oc),
          });
          foldRescale(out[out.length - 1] as Extract<FloatLayer, { type: 'depthwise_conv2d' }>);
          activationAfter(act);
          break;
        }
        // separable: the depthwise step (no bias, no activation), then a 1×1 conv2d
        out.push({ type: 'depthwise_conv2d', name: `${layer.name}/depthwise`, multiplier: m, kernel: [kh, kw], strides: pair(cfg.strides), padding, activation: 'none', weights: dw, bias: new Float32Array(oc) });
        foldRescale(out[out.length - 1] as Extract<FloatLayer, { type: 'depthwise_conv2d' }>);
        const f = shapes[1][3] as number;
        out.push({
          type: 'conv2d', name: `${layer.name}/pointwise`, filters: f, kernel: [1, 1], strides: [1, 1], padding: 'valid',
          activation: act === 'softmax' ? (() => { throw unsupportedActivation(act); })() : fusedOf(act), weights: transpose(w[1], oc, f), bias: w[2] ? Float32Array.from(w[2]) : new Float32Array(f),
        });
        activationAfter(act);
        break;
      }
      case 'Dense':
      case 'TimeDistributed': {
        // TimeDistributed(Dense) applies the Dense to every step, as Keras' Dense on a
        // sequence does: the dense op on a [steps, k] input. Its weights are the inner
        // Dense's; its config says the activation.
        let dense = cfg;
        if (cls === 'TimeDistributed') {
          const inner = (layer as unknown as { layer: tf.layers.Layer }).layer;
          if (inner.getClassName() !== 'Dense') {
            throw new UnsupportedOpError('E_UNSUPPORTED_LAYER', `${where} wraps a ${inner.getClassName()}: only TimeDistributed(Dense) is supported; supported layers: ${SUPPORTED_LAYERS}`);
          }
          dense = inner.getConfig() as Config;
        }
        const rank = (layer.input as tf.SymbolicTensor).shape.length - 1;
        if (rank > 2) throw new UnsupportedOpError('E_DENSE_RANK', `${where}: a Dense layer on a ${rank}-D input is not supported (a vector, or a sequence [steps, features]): add a Flatten before it`);
        const [k, n] = shapes[0];
        const act = actName(dense.activation);
        if (act === 'softmax' && rank === 2) throw new UnsupportedOpError('E_UNSUPPORTED_ACTIVATION', `${where}: a softmax over every step of a sequence is not supported (softmax at the end, on a vector)`);
        out.push({ type: 'dense', name: layer.name, units: n, activation: act === 'softmax' ? 'none' : fusedOf(act), weights: transpose(w[0], k, n), bias: w[1] ? Float32Array.from(w[1]) : new Float32Array(n) });
        foldRescale(out[out.length - 1] as Extract<FloatLayer, { type: 'dense' }>);
        if (act === 'softmax') out.push({ type: 'softmax', name: `${layer.name}/softmax` });
        activationAfter(act);
        break;
      }
      case 'BatchNormalization': {
        const axis = cfg.axis as number;
        if (axis !== -1 && axis !== (layer.inputSpec?.[0]?.ndim ?? 0) - 1 && axis !== (model.layers[i].input as tf.SymbolicTensor).shape.length - 1) {
          throw new UnsupportedOpError('E_BATCHNORM_AXIS', `${where}: only batch normalization over the last (channel) axis can be folded`);
        }
        // weights in order: gamma (if scale), beta (if center), moving mean, moving variance
        let j = 0;
        const channels = shapes[shapes.length - 1][0] as number;
        const gamma = cfg.scale !== false ? w[j++] : new Float32Array(channels).fill(1);
        const beta = cfg.center !== false ? w[j++] : new Float32Array(channels);
        const mean = w[j++], variance = w[j++];
        const eps = (cfg.epsilon as number) ?? 1e-3;
        const affine = foldBatchNorm(into, layer.name, { gamma, beta, mean, variance, eps });
        if (affine) out.push(affine);
        break;
      }
      case 'LeakyReLU':
      case 'ELU': {
        const alpha = (cfg.alpha as number | undefined) ?? (cls === 'ELU' ? 1 : 0.3);
        out.push({ type: 'activation', name: layer.name, activation: cls === 'ELU' ? 'elu' : 'leakyRelu', alpha });
        break;
      }
      case 'Activation':
      case 'ReLU': {
        let act = cls === 'ReLU' ? 'relu' : actName(cfg.activation);
        if (cls === 'ReLU') {
          if (cfg.threshold as number) throw new UnsupportedOpError('E_UNSUPPORTED_ACTIVATION', `${where}: thresholded ReLU is not supported`);
          const slope = (cfg.negativeSlope as number | undefined) ?? 0;
          if (slope && cfg.maxValue != null) throw new UnsupportedOpError('E_UNSUPPORTED_ACTIVATION', `${where}: a leaky ReLU with a max value is not supported`);
          if (slope) { out.push({ type: 'activation', name: layer.name, activation: 'leakyRelu', alpha: slope }); break; }
          if (cfg.maxValue === 6) act = 'relu6';
          else if (cfg.maxValue != null) throw new UnsupportedOpError('E_UNSUPPORTED_ACTIVATION', `${where}: ReLU with max value ${cfg.maxValue} is not supported (6 or none)`);
        }
        if (act === 'linear') break;
        if (act === 'softmax') {
          out.push({ type: 'softmax', name: layer.name });
          break;
        }
        // relu / relu6 right after a layer that can clamp its output: fused; otherwise an op
        if (into && (act === 'relu' || act === 'relu6')) into.activation = act;
        else out.push({ type: 'activation', name: layer.name, activation: standalone(act), ...(act === 'elu' ? { alpha: 1 } : {}) });
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const pool = pair(cfg.poolSize);
        out.push({ type: cls === 'MaxPooling2D' ? 'max_pool2d' : 'avg_pool2d', name: layer.name, pool, strides: cfg.strides ? pair(cfg.strides) : pool, padding: cfg.padding === 'same' ? 'same' : 'valid' });
        break;
      }
      case 'MaxPooling1D':
      case 'AveragePooling1D': {
        const pool = one(cfg.poolSize);
        out.push({ type: cls === 'MaxPooling1D' ? 'max_pool1d' : 'avg_pool1d', name: layer.name, pool, stride: cfg.strides ? one(cfg.strides) : pool, padding: cfg.padding === 'same' ? 'same' : 'valid' });
        break;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D':
      case 'GlobalAveragePooling1D':
      case 'GlobalMaxPooling1D': {
        if (cfg.keepdims) throw new UnsupportedOpError('E_UNSUPPORTED_KEEPDIMS', `${where}: keepdims is not supported`);
        const types = { GlobalAveragePooling2D: 'global_avg_pool2d', GlobalMaxPooling2D: 'global_max_pool2d', GlobalAveragePooling1D: 'global_avg_pool1d', GlobalMaxPooling1D: 'global_max_pool1d' } as const;
        out.push({ type: types[cls], name: layer.name });
        break;
      }
      case 'UpSampling2D': {
        if ((cfg.interpolation ?? 'nearest') !== 'nearest') throw new UnsupportedOpError('E_UNSUPPORTED_UPSAMPLING', `${where}: only 'nearest' upsampling is supported, got '${cfg.interpolation}'`);
        out.push({ type: 'upsample2d', name: layer.name, factors: pair(cfg.size) });
        break;
      }
      case 'ZeroPadding2D': {
        // padding: n, [h, w] or [[top, bottom], [left, right]]
        const p = cfg.padding;
        const side = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v as number, v as number]);
        const [[t, b2], [l, r]] = Array.isArray(p) ? [side(p[0]), side(p[1] ?? p[0])] : [side(p), side(p)];
        out.push({ type: 'pad2d', name: layer.name, pads: [t, b2, l, r] });
        break;
      }
      case 'LSTM':
      case 'GRU':
      case 'KerasGRU': {
        out.push(recurrentOf(layer, where, src[0], (layer as unknown as { goBackwards: boolean }).goBackwards ? 'backward' : 'forward'));
        break;
      }
      case 'Bidirectional': {
        // the forward half, the backward half (outputs back in input order, as Keras
        // reverses them), and the merge op reading both
        const bi = layer as unknown as { forwardLayer: tf.layers.Layer; backwardLayer: tf.layers.Layer };
        const mode = cfg.mergeMode;
        if (mode !== 'concat' && mode !== 'sum' && mode !== 'mul' && mode !== 'ave') {
          throw new UnsupportedOpError('E_UNSUPPORTED_MERGE', `${where}: merge mode ${JSON.stringify(mode)} is not supported (concat, sum, mul, ave; null returns two outputs)`);
        }
        if ((bi.forwardLayer as unknown as { goBackwards: boolean }).goBackwards) {
          throw new UnsupportedOpError('E_UNSUPPORTED_RNN', `${where}: a Bidirectional around a go_backwards layer is not supported`);
        }
        const fwd = out.length;
        out.push(recurrentOf(bi.forwardLayer, `${where} forward`, src[0], 'forward', `${layer.name}/forward`));
        out.push(recurrentOf(bi.backwardLayer, `${where} backward`, src[0], 'backwardAligned', `${layer.name}/backward`));
        const inputs = [fwd, fwd + 1];
        out.push(mode === 'concat' ? { type: 'concatenate', name: layer.name, inputs }
          : { type: mode === 'mul' ? 'multiply' : 'add', name: layer.name, activation: 'none', ...(mode === 'ave' ? { average: true } : {}), inputs });
        break;
      }
      default:
        throw new UnsupportedOpError('E_UNSUPPORTED_LAYER', `${where} is not supported; supported layers: ${SUPPORTED_LAYERS}`);
    }
    if (out.length === before) {
      producer.set(layer.name, src[0]); // removed, or folded into the layer it reads
      return;
    }
    // the first layer it became reads src[0] (say so where that is not the layer before)
    if (src.length === 1 && src[0] !== before - 1) out[before].inputs = [src[0]];
    producer.set(layer.name, out.length - 1);
  });
  const last = producer.get((model.outputs[0] as unknown as { sourceLayer: tf.layers.Layer }).sourceLayer.name);
  if (last !== out.length - 1) throw new UnsupportedOpError('E_GRAPH', `the model's output is not its last layer: edgeq needs the output layer last in the model's layer order`);
  if (!weighted()) throw new UnsupportedOpError('E_GRAPH', 'the model has no layer edgeq can run');
  if (rescale) throw new UnsupportedOpError('E_RESCALING', `${rescale.where}: a Rescaling must be followed by a Conv2D or Dense layer to fold into`);
  return foldZeroPadding({ inputShape, layers: out });
}

function fusedActivation(x: tf.Tensor, a: FusedActivation): tf.Tensor {
  return a === 'relu' ? tf.relu(x) : a === 'relu6' ? tf.relu6(x) : x;
}

// The activation op's functions, as TF.js computes them.
function floatActivation(x: tf.Tensor, a: FloatActivation, alpha: number): tf.Tensor {
  switch (a) {
    case 'relu6': return tf.relu6(x);
    case 'swish': return tf.mul(x, tf.sigmoid(x));
    case 'hardSwish': return tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));
    case 'leakyRelu': return tf.leakyRelu(x, alpha);
    case 'elu': return tf.where(tf.greater(x, 0), x, tf.mul(alpha, tf.sub(tf.exp(x), 1)));
    case 'linear': return x;
    default: return cellActivation(x, a);
  }
}

// Every layer's output for input x (batch first). The caller disposes them.
export function runFloat(graph: FloatGraph, x: tf.Tensor): tf.Tensor[] {
  const outs: tf.Tensor[] = [];
  const at = (j: number) => (j === -1 ? x : outs[j]);
  graph.layers.forEach((l, i) => {
    const h = at(inputOf(graph, i));
    const h2 = l.inputs?.[1] === undefined ? undefined : at(l.inputs[1]);
    outs.push(tf.tidy(() => {
      switch (l.type) {
        case 'activation':
          return floatActivation(h, l.activation, l.alpha ?? 0);
        case 'channel_affine':
          return tf.add(tf.mul(h, tf.tensor1d(l.scale)), tf.tensor1d(l.shift));
        case 'add':
          return fusedActivation(l.average ? tf.div(tf.add(h, h2!), 2) : tf.add(h, h2!), l.activation);
        case 'multiply':
          return fusedActivation(tf.mul(h, h2!), l.activation);
        case 'concatenate':
          return tf.concat([h, h2!], -1);
        case 'conv2d': {
          const [kh, kw] = l.kernel;
          const c = l.weights.length / (l.filters * kh * kw);
          const filter = tf.tensor4d(l.weights, [l.filters, kh, kw, c]).transpose([1, 2, 3, 0]) as tf.Tensor4D;
          return fusedActivation(tf.conv2d(h as tf.Tensor4D, filter, l.strides, l.padding).add(tf.tensor1d(l.bias)), l.activation);
        }
        case 'conv1d': {
          const c = l.weights.length / (l.filters * l.kernel);
          const filter = tf.tensor3d(l.weights, [l.filters, l.kernel, c]).transpose([1, 2, 0]) as tf.Tensor3D;
          // causal: Keras' (k − 1) · dilation zeros before, then 'valid'
          const x = l.padding === 'causal' ? tf.pad(h, [[0, 0], [span(l) - 1, 0], [0, 0]]) : h;
          const y = tf.conv1d(x as tf.Tensor3D, filter, l.stride, l.padding === 'same' ? 'same' : 'valid', 'NWC', l.dilation);
          return fusedActivation(y.add(tf.tensor1d(l.bias)), l.activation);
        }
        case 'depthwise_conv2d': {
          const [kh, kw] = l.kernel;
          const oc = l.bias.length, c = oc / l.multiplier;
          const filter = new Float32Array(kh * kw * oc); // [kh][kw][c][m]
          for (let o = 0; o < oc; o++) for (let t = 0; t < kh * kw; t++) filter[t * oc + o] = l.weights[o * kh * kw + t];
          const y = tf.depthwiseConv2d(h as tf.Tensor4D, tf.tensor4d(filter, [kh, kw, c, l.multiplier]), l.strides, l.padding);
          return fusedActivation(y.add(tf.tensor1d(l.bias)), l.activation);
        }
        case 'dense': {
          // on the last axis: a sequence's steps are rows of the same matrix product
          const k = l.weights.length / l.units;
          const y = tf.matMul(h.reshape([-1, k]) as tf.Tensor2D, tf.tensor2d(l.weights, [l.units, k]), false, true).add(tf.tensor1d(l.bias));
          return fusedActivation(y.reshape([...h.shape.slice(0, -1), l.units]), l.activation);
        }
        case 'max_pool2d':
          return tf.maxPool(h as tf.Tensor4D, l.pool, l.strides, l.padding);
        case 'avg_pool2d':
          return tf.avgPool(h as tf.Tensor4D, l.pool, l.strides, l.padding);
        case 'max_pool1d':
        case 'avg_pool1d': {
          // as Keras: the 2-D pool of a height-1 image
          const [b, steps, c] = h.shape as number[];
          const pool = l.type === 'max_pool1d' ? tf.maxPool : tf.avgPool;
          const y = pool(h.reshape([b, 1, steps, c]) as tf.Tensor4D, [1, l.pool], [1, l.stride], l.padding);
          return y.reshape([b, y.shape[2], c]);
        }
        case 'global_avg_pool2d':
          return tf.mean(h, [1, 2]);
        case 'global_max_pool2d':
          return tf.max(h, [1, 2]);
        case 'global_avg_pool1d':
          return tf.mean(h, 1);
        case 'global_max_pool1d':
          return tf.max(h, 1);
        case 'upsample2d':
          return tf.image.resizeNearestNeighbor(h as tf.Tensor4D, [h.shape[1]! * l.factors[0], h.shape[2]! * l.factors[1]]);
        case 'pad2d':
          return tf.pad(h, [[0, 0], [l.pads[0], l.pads[1]], [l.pads[2], l.pads[3]], [0, 0]]);
        case 'flatten':
          return h.reshape([h.shape[0], -1]);
        case 'reshape':
          return h.reshape([h.shape[0], ...l.shape]);
        case 'softmax':
          return tf.softmax(h);
        case 'lstm':
        case 'gru': {
          // steps in the layer's direction; outputs in the order computed, or (the
          // backward half of a Bidirectional) back in input order
          const [batch, steps] = h.shape as number[];
          const u = l.units, g = l.type === 'lstm' ? 4 : 3;
          const wx = tf.tensor2d(l.kernel, [g * u, l.kernel.length / (g * u)]);
          const wh = tf.tensor2d(l.recurrent, [g * u, u]);
          const b = tf.tensor1d(l.bias);
          let hs: tf.Tensor = tf.zeros([batch, u]);
          let cs: tf.Tensor = tf.zeros([batch, u]);
          const seq: tf.Tensor[] = [];
          for (let t = 0; t < steps; t++) {
            const s = l.direction === 'forward' ? t : steps - 1 - t;
            const xt = h.slice([0, s, 0], [batch, 1, -1]).reshape([batch, -1]);
            if (l.type === 'gru') {
              hs = gruStep(xt as tf.Tensor2D, hs as tf.Tensor2D, wx.transpose() as tf.Tensor2D, wh.transpose() as tf.Tensor2D, b, l.resetAfter === true, l.activation, l.recurrentActivation);
            } else {
              const z = tf.matMul(xt, wx, false, true).add(tf.matMul(hs, wh, false, true)).add(b);
              const [zi, zf, zc, zo] = tf.split(z, 4, 1);
              cs = cellActivation(zf, l.recurrentActivation).mul(cs).add(cellActivation(zi, l.recurrentActivation).mul(cellActivation(zc, l.activation)));
              hs = cellActivation(zo, l.recurrentActivation).mul(cellActivation(cs, l.activation));
            }
            seq.push(hs);
          }
          if (l.direction === 'backwardAligned') seq.reverse();
          return l.returnSequences ? tf.stack(seq, 1) : hs;
        }
      }
    }) as tf.Tensor);
  });
  return outs;
}
