// Float graph + calibration → EdgeqModel: activation ranges from representative
// inputs, int8 weights per output channel, int32 biases (docs/QUANTIZATION.md).

import * as tf from '@tensorflow/tfjs';
import type { EdgeqModel, Layer, ModelMetadata, WeightEncoding } from '../format/model.js';
import type { PixelRule, Quant } from '../format/model.js';
import { inputOf, runFloat, type FloatGraph } from './graph.js';

export type CalibrationMethod = 'minmax' | 'percentile';

export interface QuantizeOptions {
  metadata: ModelMetadata;
  // how pixels (0–255) map to the float model's input, where the source takes images
  pixelRule?: PixelRule;
  // 'minmax' (default) or 'percentile': clip the range to the [p, 100 − p] percentiles
  calibration?: CalibrationMethod;
  percentile?: number; // default 0.01 (%)
  encoding?: WeightEncoding;
  // one scale per weight tensor of conv, dense and recurrent layers (clustered models)
  sharedScales?: boolean;
}

// Asymmetric int8 parameters covering [lo, hi] and 0 (so that ReLU's 0 and padding
// are exact).
export function activationQuant(lo: number, hi: number): Quant {
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  const scale = Math.fround((hi - lo) / 255 || 1e-8);
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale, zeroPoint };
}

// Symmetric per-row int8 codes of a [rows][cols] float matrix. shared: one scale for
// every row (the whole matrix's largest magnitude), so that weights sharing a value
// (clustered: cluster.ts) share a code; the file still records one scale per row.
export function quantizeRows(w: Float32Array, rows: number, cols: number, shared = false): { codes: Int8Array; scales: Float32Array } {
  const codes = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  let all = 0;
  if (shared) for (const v of w) all = Math.max(all, Math.abs(v));
  for (let r = 0; r < rows; r++) {
    let m = all;
    if (!shared) for (let i = 0; i < cols; i++) m = Math.max(m, Math.abs(w[r * cols + i]));
    const s = Math.fround(m / 127 || 1);
    scales[r] = s;
    for (let i = 0; i < cols; i++) codes[r * cols + i] = Math.max(-127, Math.min(127, Math.round(w[r * cols + i] / s)));
  }
  return { codes, scales };
}

function quantizeBias(b: Float32Array, inScale: number, scales: Float32Array): Int32Array {
  return Int32Array.from(b, (v, c) => Math.max(-2147483648, Math.min(2147483647, Math.round(v / (inScale * scales[c])))));
}

function range(values: Float32Array, method: CalibrationMethod, percentile: number): [number, number] {
  if (method === 'minmax' || values.length < 2) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return [lo, hi];
  }
  const sorted = Float32Array.from(values).sort();
  const k = Math.min(sorted.length - 1, Math.floor((percentile / 100) * sorted.length));
  return [sorted[k], sorted[sorted.length - 1 - k]];
}

// Activation ranges of the input and of every layer's output on the calibration set.
export function calibrate(graph: FloatGraph, x: tf.Tensor, method: CalibrationMethod = 'minmax', percentile = 0.01): { input: Quant; outputs: Quant[] } {
  const outs = runFloat(graph, x);
  try {
    return {
      input: activationQuant(...range(x.dataSync() as Float32Array, method, percentile)),
      outputs: outs.map((t) => activationQuant(...range(t.dataSync() as Float32Array, method, percentile))),
    };
  } finally {
    outs.forEach((t) => t.dispose());
  }
}

export function quantizeGraph(graph: FloatGraph, calibration: tf.Tensor, options: QuantizeOptions): EdgeqModel {
  const { input, outputs } = calibrate(graph, calibration, options.calibration, options.percentile);
  const layers: Layer[] = [];
  // the quantization each layer's output has in the engine: calibrated for layers that
  // compute, their input's for pooling, flatten and reshape
  const held: Quant[] = [];
  const shared = options.sharedScales === true;
  // what the file stores: one scale for a tensor that shares one
  const stored = (scales: Float32Array) => (shared ? scales.subarray(0, 1) : scales);
  graph.layers.forEach((l, i) => {
    const j = inputOf(graph, i);
    const inQuant = j === -1 ? input : held[j];
    let output = outputs[i];
    const encoding = options.encoding;
    switch (l.type) {
      case 'conv2d': {
        const k = l.weights.length / l.filters;
        const { codes, scales } = quantizeRows(l.weights, l.filters, k, shared);
        layers.push({ type: 'conv2d', filters: l.filters, kernel: l.kernel, strides: l.strides, padding: l.padding, activation: l.activation, weights: codes, weightScales: stored(scales), bias: quantizeBias(l.bias, inQuant.scale, scales), output, encoding });
        break;
      }
      case 'conv1d': {
        const { codes, scales } = quantizeRows(l.weights, l.filters, l.weights.length / l.filters, shared);
        layers.push({ type: 'conv1d', filters: l.filters, kernel: l.kernel, stride: l.stride, dilation: l.dilation, padding: l.padding, activation: l.activation, weights: codes, weightScales: stored(scales), bias: quantizeBias(l.bias, inQuant.scale, scales), output, encoding });
        break;
      }
      case 'depthwise_conv2d': {
        const oc = l.bias.length;
        const { codes, scales } = quantizeRows(l.weights, oc, l.weights.length / oc);
        layers.push({ type: 'depthwise_conv2d', multiplier: l.multiplier, kernel: l.kernel, strides: l.strides, padding: l.padding, activation: l.activation, weights: codes, weightScales: scales, bias: quantizeBias(l.bias, inQuant.scale, scales), output, encoding });
        break;
      }
      case 'dense': {
        const { codes, scales } = quantizeRows(l.weights, l.units, l.weights.length / l.units, shared);
        layers.push({ type: 'dense', units: l.units, activation: l.activation, weights: codes, weightScales: stored(scales), bias: quantizeBias(l.bias, inQuant.scale, scales), output, encoding });
        break;
      }
      case 'lstm':
      case 'gru': {
        const n = (l.type === 'lstm' ? 4 : 3) * l.units;
        const kx = quantizeRows(l.kernel, n, l.kernel.length / n, shared);
        const kh = quantizeRows(l.recurrent, n, l.units, shared);
        const common = { units: l.units, activation: l.activation, recurrentActivation: l.recurrentActivation, returnSequences: l.returnSequences, direction: l.direction, kernel: kx.codes, kernelScales: stored(kx.scales), recurrent: kh.codes, recurrentScales: stored(kh.scales), bias: l.bias, output, encoding };
        layers.push(l.type === 'lstm' ? { type: 'lstm', ...common } : { type: 'gru', resetAfter: l.resetAfter === true, ...common });
        break;
      }
      case 'add':
      case 'multiply':
        layers.push({ type: l.type, activation: l.activation, ...(l.average ? { average: true } : {}), output });
        break;
      case 'concatenate':
        layers.push({ type: 'concatenate', output });
        break;
      case 'channel_affine':
        layers.push({ type: 'channel_affine', scale: l.scale, shift: l.shift, output });
        break;
      case 'activation':
        layers.push({ type: 'activation', activation: l.activation, ...(l.alpha !== undefined ? { alpha: l.alpha } : {}), output });
        break;
      case 'max_pool2d':
      case 'avg_pool2d':
        layers.push({ type: l.type, pool: l.pool, strides: l.strides, padding: l.padding });
        break;
      case 'max_pool1d':
      case 'avg_pool1d':
        layers.push({ type: l.type, pool: l.pool, stride: l.stride, padding: l.padding });
        break;
      case 'reshape':
        layers.push({ type: 'reshape', shape: l.shape });
        break;
      case 'upsample2d':
        layers.push({ type: 'upsample2d', factors: l.factors });
        break;
      case 'pad2d':
        layers.push({ type: 'pad2d', pads: l.pads });
        break;
      default:
        layers.push({ type: l.type });
    }
    if (l.type === 'max_pool2d' || l.type === 'avg_pool2d' || l.type === 'global_avg_pool2d' || l.type === 'global_max_pool2d'
      || l.type === 'max_pool1d' || l.type === 'avg_pool1d' || l.type === 'global_avg_pool1d' || l.type === 'global_max_pool1d' || l.type === 'upsample2d' || l.type === 'pad2d' || l.type === 'flatten' || l.type === 'reshape') output = inQuant;
    held.push(output);
    if (l.inputs) layers[layers.length - 1].inputs = l.inputs;
  });
  return {
    metadata: options.metadata,
    input: { shape: graph.inputShape, quant: input, ...(options.pixelRule ? { pixelRule: options.pixelRule } : {}) },
    layers,
  };
}
