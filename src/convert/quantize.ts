// Float TF.js Layers model → EdgeqModel: lowers each layer to edgeq's ops, calibrates
// activation ranges on representative inputs, and quantizes weights per output channel
// (docs/QUANTIZATION.md). The converter builds on this; tests use it to make models.

import * as tf from '@tensorflow/tfjs';
import { ModelSpecError, UnsupportedOpError } from '../errors.js';
import type { FusedActivation, Quant } from '../kernels.js';
import type { EdgeqModel, Layer, ModelMetadata } from '../format/model.js';

export interface QuantizeOptions {
  metadata: ModelMetadata;
  // how raw input (e.g. pixels 0–255) maps to the float model's input
  normalization?: { mul: number; add: number };
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

// Symmetric per-row int8 codes of a [rows][cols] float matrix.
export function quantizeRows(w: Float32Array, rows: number, cols: number): { codes: Int8Array; scales: Float32Array } {
  const codes = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let i = 0; i < cols; i++) m = Math.max(m, Math.abs(w[r * cols + i]));
    const s = Math.fround(m / 127 || 1);
    scales[r] = s;
    for (let i = 0; i < cols; i++) codes[r * cols + i] = Math.max(-127, Math.min(127, Math.round(w[r * cols + i] / s)));
  }
  return { codes, scales };
}

function quantizeBias(b: Float32Array | undefined, inScale: number, scales: Float32Array): Int32Array | undefined {
  if (!b) return undefined;
  return Int32Array.from(b, (v, c) => Math.max(-2147483648, Math.min(2147483647, Math.round(v / (inScale * scales[c])))));
}

// [a][b] → [b][a]
function transpose(x: Float32Array, a: number, b: number): Float32Array {
  const t = new Float32Array(x.length);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) t[j * a + i] = x[i * b + j];
  return t;
}

type Config = Record<string, unknown>;
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v as number, v as number]);
const activationName = (v: unknown): string => (typeof v === 'string' ? v : 'linear');

function fused(name: string, where: string): FusedActivation {
  if (name === 'linear') return 'none';
  if (name === 'relu' || name === 'relu6') return name;
  throw new UnsupportedOpError('E_UNSUPPORTED_ACTIVATION', `${where}: activation '${name}' is not supported here (supported: linear, relu, relu6, and softmax on the last dense layer)`);
}

export async function quantizeLayersModel(model: tf.LayersModel, calibration: tf.Tensor, options: QuantizeOptions): Promise<EdgeqModel> {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  // every layer's float output on the calibration set
  const probe = tf.model({ inputs: model.inputs, outputs: layers.map((l) => l.output as tf.SymbolicTensor) });
  const outs = probe.predict(calibration) as tf.Tensor | tf.Tensor[];
  const outputs = Array.isArray(outs) ? outs : [outs];
  const range = (t: tf.Tensor): [number, number] => [t.min().dataSync()[0], t.max().dataSync()[0]];
  const inputQuant = activationQuant(...range(calibration));
  const result: Layer[] = [];
  let prevOut = calibration;
  let inQuant = inputQuant;
  try {
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i];
      const cls = layer.getClassName();
      const cfg = layer.getConfig() as Config;
      const where = `layer ${i} '${layer.name}' (${cls})`;
      const out = outputs[i];
      const weights = layer.getWeights().map((w) => w.dataSync() as Float32Array);
      const shapes = layer.getWeights().map((w) => w.shape);
      switch (cls) {
        case 'Dropout':
          break;
        case 'Flatten':
          result.push({ type: 'flatten' });
          break;
        case 'Conv2D': {
          if (cfg.dataFormat !== 'channelsLast') throw new UnsupportedOpError('E_UNSUPPORTED_LAYOUT', `${where}: only channelsLast is supported`);
          if (pair(cfg.dilationRate).some((d) => d !== 1)) throw new UnsupportedOpError('E_UNSUPPORTED_DILATION', `${where}: dilated convolution is not supported`);
          const [kh, kw, c, f] = shapes[0];
          const w = new Float32Array(f * kh * kw * c); // HWIO → OHWI
          for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let ci = 0; ci < c; ci++) for (let o = 0; o < f; o++) {
            w[((o * kh + y) * kw + x) * c + ci] = weights[0][((y * kw + x) * c + ci) * f + o];
          }
          const { codes, scales } = quantizeRows(w, f, kh * kw * c);
          const output = activationQuant(...range(out));
          result.push({
            type: 'conv2d', filters: f, kernel: [kh, kw], strides: pair(cfg.strides), padding: cfg.padding === 'same' ? 'same' : 'valid',
            activation: fused(activationName(cfg.activation), where), weights: codes, weightScales: scales,
            bias: quantizeBias(weights[1], inQuant.scale, scales), output,
          });
          inQuant = output;
          break;
        }
        case 'Dense': {
          const [k, n] = shapes[0];
          const { codes, scales } = quantizeRows(transpose(weights[0], k, n), n, k);
          const act = activationName(cfg.activation);
          // softmax is an op of its own: calibrate the logits before it
          const pre = act === 'softmax'
            ? tf.tidy(() => { let z = tf.matMul(prevOut.reshape([prevOut.shape[0], -1]), tf.tensor2d(weights[0], [k, n])); if (weights[1]) z = z.add(tf.tensor1d(weights[1])); return z; })
            : out;
          const output = activationQuant(...range(pre));
          if (pre !== out) pre.dispose();
          result.push({
            type: 'dense', units: n, activation: act === 'softmax' ? 'none' : fused(act, where), weights: codes, weightScales: scales,
            bias: quantizeBias(weights[1], inQuant.scale, scales), output,
          });
          if (act === 'softmax') result.push({ type: 'softmax' });
          inQuant = output;
          break;
        }
        case 'MaxPooling2D':
        case 'AveragePooling2D': {
          const pool = pair(cfg.poolSize);
          result.push({ type: cls === 'MaxPooling2D' ? 'maxPool2d' : 'avgPool2d', pool, strides: cfg.strides ? pair(cfg.strides) : pool, padding: cfg.padding === 'same' ? 'same' : 'valid' });
          break;
        }
        case 'GlobalAveragePooling2D':
          result.push({ type: 'globalAvgPool2d' });
          break;
        case 'LSTM': {
          const units = cfg.units as number;
          const [feat] = shapes[0];
          const act = activationName(cfg.activation), rec = activationName(cfg.recurrentActivation);
          if (act !== 'tanh' && act !== 'relu') throw new UnsupportedOpError('E_UNSUPPORTED_ACTIVATION', `${where}: LSTM activation '${act}' is not supported (tanh, relu)`);
          if (rec !== 'sigmoid' && rec !== 'hardSigmoid') throw new UnsupportedOpError('E_UNSUPPORTED_ACTIVATION', `${where}: LSTM recurrent activation '${rec}' is not supported (sigmoid, hardSigmoid)`);
          const kx = quantizeRows(transpose(weights[0], feat, 4 * units), 4 * units, feat);
          const kh = quantizeRows(transpose(weights[1], units, 4 * units), 4 * units, units);
          const output = activationQuant(...range(out));
          result.push({
            type: 'lstm', units, activation: act, recurrentActivation: rec, returnSequences: cfg.returnSequences === true,
            kernel: kx.codes, kernelScales: kx.scales, recurrent: kh.codes, recurrentScales: kh.scales,
            bias: weights[2] ? Float32Array.from(weights[2]) : new Float32Array(4 * units), output,
          });
          inQuant = output;
          break;
        }
        default:
          throw new UnsupportedOpError('E_UNSUPPORTED_LAYER', `${where}: this layer type is not supported (supported: Conv2D, Dense, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Dropout, LSTM)`);
      }
      prevOut = out;
    }
  } finally {
    outputs.forEach((t) => t.dispose());
  }
  const inputShape = model.inputs[0].shape.slice(1);
  if (inputShape.some((d) => d === null)) throw new ModelSpecError('E_INPUT_SHAPE', `the model's input shape [${inputShape}] must be fully known (besides the batch)`);
  return {
    metadata: options.metadata,
    input: { shape: inputShape as number[], quant: inputQuant, normalization: options.normalization },
    layers: result,
  };
}
