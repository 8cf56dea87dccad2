// TF.js Graph models (format "graph-model", as tensorflowjs_converter writes a
// SavedModel or a frozen graph): the conv / pool / dense subset whose layer structure
// can be read back from the op graph, lowered to the same float graph as Layers
// models. Recognized chains from the input placeholder: Conv2D or _FusedConv2D
// (+ BiasAdd, Relu, Relu6), MaxPool, AvgPool, Mean over H and W, Reshape to a vector,
// MatMul or _FusedMatMul (+ BiasAdd, Relu, Relu6), Softmax; Identity is skipped.

import * as tf from '@tensorflow/tfjs';
import { ConvertError, UnsupportedOpError } from '../../runtime/errors.js';
import type { FloatGraph, FloatLayer } from './graph.js';
import { readModelFiles } from './load.js';

interface GraphNode { name: string; op: string; input?: string[]; attr?: Record<string, { list?: { i?: string[]; s?: string[] }; s?: string; b?: boolean; i?: string; shape?: { dim?: { size: string }[] } }> }

export interface LoadedGraphModel { model: tf.GraphModel; graph: FloatGraph; floatBytes: number; files: string[] }

const SUPPORTED = 'Placeholder, Identity, Conv2D, _FusedConv2D, BiasAdd, Relu, Relu6, MaxPool, AvgPool, Mean (over H, W), Reshape (to a vector), MatMul, _FusedMatMul, Softmax';

const text = (b64: string | undefined) => (b64 === undefined ? '' : Buffer.from(b64, 'base64').toString('latin1'));
const ints = (n: GraphNode, key: string) => (n.attr?.[key]?.list?.i ?? []).map(Number);
const strings = (n: GraphNode, key: string) => (n.attr?.[key]?.list?.s ?? []).map(text);
const source = (input: string) => input.replace(/^\^/, '').replace(/:\d+$/, '');

export function lowerGraphModel(nodes: GraphNode[], weights: tf.NamedTensorMap): FloatGraph {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const consumers = new Map<string, GraphNode[]>();
  for (const n of nodes) for (const i of n.input ?? []) if (!i.startsWith('^')) {
    const s = source(i);
    consumers.set(s, [...(consumers.get(s) ?? []), n]);
  }
  const inputs = nodes.filter((n) => n.op === 'Placeholder');
  if (inputs.length !== 1) throw new UnsupportedOpError('E_GRAPH', `the graph has ${inputs.length} input placeholders; edgeq converts graphs with one input`);
  const dims = (inputs[0].attr?.shape?.shape?.dim ?? []).map((d) => Number(d.size));
  if (dims.length < 2 || dims.slice(1).some((d) => !(d > 0))) throw new UnsupportedOpError('E_INPUT_SHAPE', `the input placeholder's shape [${dims}] must be known besides the batch`);
  const constant = (n: GraphNode, k: number, what: string): tf.Tensor => {
    const name = source(n.input?.[k] ?? '');
    let t = weights[name];
    const producer = byName.get(name);
    if (!t && producer?.op === 'Identity') t = weights[source(producer.input?.[0] ?? '')];
    if (!t) throw new UnsupportedOpError('E_GRAPH_CONST', `node '${n.name}' (${n.op}): its ${what} '${name}' is not a constant in the weights`);
    return t;
  };
  const layers: FloatLayer[] = [];
  const last = () => layers[layers.length - 1];
  const fuse = (act: string, n: GraphNode) => {
    const l = last();
    if (!l || (l.type !== 'conv2d' && l.type !== 'dense') || l.activation !== 'none') throw new UnsupportedOpError('E_ACTIVATION_FUSE', `node '${n.name}' (${n.op}) follows no convolution or matrix product it can be fused into`);
    l.activation = act === 'Relu6' ? 'relu6' : 'relu';
  };
  const addBias = (bias: tf.Tensor, n: GraphNode) => {
    const l = last();
    if (!l || (l.type !== 'conv2d' && l.type !== 'dense')) throw new UnsupportedOpError('E_GRAPH', `node '${n.name}' (BiasAdd) follows no convolution or matrix product`);
    const b = bias.dataSync();
    l.bias = Float32Array.from(l.bias, (v, i) => v + b[i]);
  };
  const fusedOps = (n: GraphNode, biasIndex: number) => {
    for (const op of strings(n, 'fused_ops')) {
      if (op === 'BiasAdd') addBias(constant(n, biasIndex, 'bias'), n);
      else if (op === 'Relu' || op === 'Relu6') fuse(op, n);
      else throw new UnsupportedOpError('E_UNSUPPORTED_OP', `node '${n.name}' (${n.op}) fuses ${op}, which is not supported (BiasAdd, Relu, Relu6)`);
    }
  };
  let cur = inputs[0];
  const seen = new Set<string>();
  for (;;) {
    const next = (consumers.get(cur.name) ?? []).filter((n) => n.op !== 'Const');
    if (next.length === 0) break;
    if (next.length > 1) throw new UnsupportedOpError('E_GRAPH', `node '${cur.name}' feeds ${next.length} nodes (${next.map((n) => n.name).join(', ')}); edgeq converts linear graphs`);
    const n = next[0];
    if (seen.has(n.name)) throw new UnsupportedOpError('E_GRAPH', `the graph loops at '${n.name}'`);
    seen.add(n.name);
    switch (n.op) {
      case 'Identity':
        break;
      case 'Conv2D':
      case '_FusedConv2D': {
        if (text(n.attr?.data_format?.s) && text(n.attr?.data_format?.s) !== 'NHWC') throw new UnsupportedOpError('E_UNSUPPORTED_LAYOUT', `node '${n.name}': only NHWC convolutions are supported`);
        if (ints(n, 'dilations').some((d) => d !== 1)) throw new UnsupportedOpError('E_UNSUPPORTED_DILATION', `node '${n.name}': dilated convolutions are not supported`);
        const pad = text(n.attr?.padding?.s);
        if (pad !== 'VALID' && pad !== 'SAME') throw new UnsupportedOpError('E_UNSUPPORTED_PADDING', `node '${n.name}': padding ${pad || '(explicit)'} is not supported (VALID, SAME)`);
        const filter = constant(n, 1, 'filter');
        const [kh, kw, c, f] = filter.shape;
        const hwio = filter.dataSync();
        const ohwi = new Float32Array(f * kh * kw * c);
        for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let ci = 0; ci < c; ci++) for (let o = 0; o < f; o++) ohwi[((o * kh + y) * kw + x) * c + ci] = hwio[((y * kw + x) * c + ci) * f + o];
        const s = ints(n, 'strides');
        layers.push({ type: 'conv2d', name: n.name, filters: f, kernel: [kh, kw], strides: [s[1] ?? 1, s[2] ?? 1], padding: pad === 'SAME' ? 'same' : 'valid', activation: 'none', weights: ohwi, bias: new Float32Array(f) });
        if (n.op === '_FusedConv2D') fusedOps(n, 2);
        break;
      }
      case 'MatMul':
      case '_FusedMatMul': {
        if (n.attr?.transpose_a?.b) throw new UnsupportedOpError('E_UNSUPPORTED_OP', `node '${n.name}': transposed inputs are not supported`);
        const w = constant(n, 1, 'weights');
        const transposed = n.attr?.transpose_b?.b === true;
        const [rows, cols] = w.shape;
        const units = transposed ? rows : cols, k = transposed ? cols : rows;
        const v = w.dataSync();
        const weights2 = transposed ? Float32Array.from(v) : Float32Array.from({ length: units * k }, (_, i) => v[(i % k) * units + Math.floor(i / k)]);
        layers.push({ type: 'dense', name: n.name, units, activation: 'none', weights: weights2, bias: new Float32Array(units) });
        if (n.op === '_FusedMatMul') fusedOps(n, 2);
        break;
      }
      case 'BiasAdd':
      case 'Add':
      case 'AddV2':
        addBias(constant(n, 1, 'bias'), n);
        break;
      case 'Relu':
      case 'Relu6':
        fuse(n.op, n);
        break;
      case 'MaxPool':
      case 'AvgPool': {
        const k = ints(n, 'ksize'), s = ints(n, 'strides');
        const pad = text(n.attr?.padding?.s);
        layers.push({ type: n.op === 'MaxPool' ? 'maxPool2d' : 'avgPool2d', name: n.name, pool: [k[1], k[2]], strides: [s[1], s[2]], padding: pad === 'SAME' ? 'same' : 'valid' });
        break;
      }
      case 'Mean': {
        const axes = Array.from(constant(n, 1, 'axes').dataSync()).sort().join(',');
        if (axes !== '1,2' || n.attr?.keep_dims?.b) throw new UnsupportedOpError('E_UNSUPPORTED_OP', `node '${n.name}': Mean over axes [${axes}] is not a global average pooling`);
        layers.push({ type: 'globalAvgPool2d', name: n.name });
        break;
      }
      case 'Reshape': {
        const shape = Array.from(constant(n, 1, 'shape').dataSync());
        if (shape.length !== 2) throw new UnsupportedOpError('E_UNSUPPORTED_OP', `node '${n.name}': Reshape to [${shape}] is not supported (to a vector only)`);
        layers.push({ type: 'flatten', name: n.name });
        break;
      }
      case 'Softmax':
        layers.push({ type: 'softmax', name: n.name });
        break;
      default:
        throw new UnsupportedOpError('E_UNSUPPORTED_OP', `node '${n.name}' has op ${n.op}, which edgeq does not convert from graph models (supported: ${SUPPORTED})`);
    }
    cur = n;
  }
  if (layers.length === 0) throw new UnsupportedOpError('E_GRAPH', 'the graph has no op edgeq can run');
  return { inputShape: dims.slice(1), layers };
}

export async function loadGraphModelFile(path: string): Promise<LoadedGraphModel> {
  const { json, specs, weightData, floatBytes, files } = await readModelFiles(path);
  const topology = json.modelTopology as { node?: GraphNode[] };
  if (!Array.isArray(topology.node)) throw new ConvertError('E_MODEL_JSON', `${path} is not a TF.js Graph model: modelTopology has no "node" list`);
  const weights = tf.io.decodeWeights(weightData.buffer as ArrayBuffer, specs);
  try {
    const graph = lowerGraphModel(topology.node, weights);
    const model = await tf.loadGraphModel({ load: async () => ({ modelTopology: topology, weightSpecs: specs, weightData: weightData.buffer as ArrayBuffer, format: 'graph-model' }) });
    return { model, graph, floatBytes, files };
  } finally {
    tf.dispose(Object.values(weights));
  }
}
