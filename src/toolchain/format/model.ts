// The in-memory description of a model that the writer encodes: a sequence of layers
// with int8 weights and the quantization parameters of every activation.

import type { Conv1dPadding, FloatActivation, FusedActivation, Padding, RnnDirection } from '../../runtime/codes.js';
import type { Encoding } from '../../runtime/codes.js';

// real = scale × (q − zeroPoint)
export interface Quant { scale: number; zeroPoint: number }

export interface PixelRule { mul: number[]; add: number[] }

export type WeightEncoding = Encoding | 'auto';

export interface ModelMetadata {
  name: string;
  description?: string;
  labels?: string[];
  source?: { format: string; file?: string; bytes?: number };
  // anything else the converter wants to keep (training log, accuracy, ...)
  [key: string]: unknown;
}

export interface ModelInput {
  shape: number[]; // one item, without the batch axis: [h, w, c] or [steps, features] or [n]
  quant: Quant;
  // How pixels (0–255) become input values: pixel × mul[c] + add[c], c the channel (the
  // input's last axis), or one entry for every channel. Absent: the model takes float
  // inputs only. Float inputs are always the source model's own values.
  pixelRule?: PixelRule;
}

export interface Conv2dLayer {
  type: 'conv2d';
  filters: number;
  kernel: [number, number];
  strides: [number, number];
  padding: Padding;
  activation: FusedActivation;
  weights: Int8Array; // OHWI
  weightScales: Float32Array; // [filters], or [1]: one scale for the tensor (written per tensor)
  bias?: Int32Array; // [filters], scale input · weightScales
  output: Quant;
  encoding?: WeightEncoding;
}

// A convolution over the steps of a [steps, channels] sequence; 'causal' pads
// (kernel − 1) · dilation zeros before the first step (Keras).
export interface Conv1dLayer {
  type: 'conv1d';
  filters: number;
  kernel: number;
  stride: number;
  dilation: number;
  padding: Conv1dPadding;
  activation: FusedActivation;
  weights: Int8Array; // [filters][kernel][channels]
  weightScales: Float32Array; // [filters], or [1]: one scale for the tensor (written per tensor)
  bias?: Int32Array; // [filters], scale input · weightScales
  output: Quant;
  encoding?: WeightEncoding;
}

// Depthwise: each input channel convolved with its own `multiplier` filters; output
// channel o = c · multiplier + m reads input channel c.
export interface DepthwiseConv2dLayer extends Omit<Conv2dLayer, 'type' | 'filters'> {
  type: 'depthwise_conv2d';
  multiplier: number;
  // weights [c · multiplier][kh][kw]; weightScales and bias [c · multiplier]
}

export interface DenseLayer {
  type: 'dense';
  units: number;
  activation: FusedActivation;
  weights: Int8Array; // [units][inputs]: applied to the input vector, or to every step of a [steps, inputs] input
  weightScales: Float32Array;
  bias?: Int32Array;
  output: Quant;
  encoding?: WeightEncoding;
}

export interface Pool2dLayer {
  type: 'max_pool2d' | 'avg_pool2d';
  pool: [number, number];
  strides: [number, number];
  padding: Padding;
}

// over the steps of a [steps, channels] sequence
export interface Pool1dLayer {
  type: 'max_pool1d' | 'avg_pool1d';
  pool: number;
  stride: number;
  padding: Padding;
}

export interface GlobalAvgPool2dLayer { type: 'global_avg_pool2d' | 'global_max_pool2d' }
export interface GlobalPool1dLayer { type: 'global_avg_pool1d' | 'global_max_pool1d' }
// nearest-neighbour upsampling by whole factors [height, width]
export interface Upsample2dLayer { type: 'upsample2d'; factors: [number, number] }
// zero padding [top, bottom, left, right] (the real 0, the input's zero point)
export interface Pad2dLayer { type: 'pad2d'; pads: [number, number, number, number] }
export interface FlattenLayer { type: 'flatten' }
export interface ReshapeLayer { type: 'reshape'; shape: number[] }
export interface SoftmaxLayer { type: 'softmax' }

// lstm (gates i, f, c, o: G = 4) and gru (gates z, r, h: G = 3)
export interface LstmLayer {
  type: 'lstm';
  units: number;
  activation: 'relu' | 'tanh';
  recurrentActivation: 'sigmoid' | 'hardSigmoid';
  returnSequences: boolean;
  direction?: RnnDirection; // forward when absent
  kernel: Int8Array; // [G·units][features]
  kernelScales: Float32Array;
  recurrent: Int8Array; // [G·units][units]
  recurrentScales: Float32Array;
  bias: Float32Array; // [G·units]; a gru with resetAfter: [2][3·units], input bias then recurrent bias
  output: Quant;
  encoding?: WeightEncoding;
}
export interface GruLayer extends Omit<LstmLayer, 'type'> { type: 'gru'; resetAfter: boolean }

// Two inputs of the same shape (or b a vector over a's last axis, [C] or [1, …, 1, C]), each with its own
// quantization; add and multiply fuse an activation.
export interface AddLayer { type: 'add' | 'multiply'; activation: FusedActivation; average?: boolean; output: Quant } // average: add only, (a + b) / 2
// On the last (channel) axis.
export interface ConcatenateLayer { type: 'concatenate'; output: Quant }
// real y = scale[c] · real x + shift[c], c the last axis: a batch normalization that
// cannot be folded into the layer before it.
export interface ChannelAffineLayer { type: 'channel_affine'; scale: Float32Array; shift: Float32Array; output: Quant }
// A float function of each value (alpha: leaky ReLU's slope, ELU's scale).
export interface ActivationLayer { type: 'activation'; activation: FloatActivation; alpha?: number; output: Quant }

// `inputs`: the layers whose outputs this one reads, by index in `layers` (−1: the model
// input); absent: the layer before it (a chain). Two for add, multiply, concatenate.
export type Layer = (Conv2dLayer | Conv1dLayer | DepthwiseConv2dLayer | DenseLayer | Pool2dLayer | Pool1dLayer | GlobalAvgPool2dLayer | GlobalPool1dLayer | FlattenLayer | ReshapeLayer | SoftmaxLayer | LstmLayer | GruLayer | AddLayer | ConcatenateLayer | ActivationLayer | Upsample2dLayer | Pad2dLayer | ChannelAffineLayer) & { inputs?: number[] };

export interface EdgeqModel {
  metadata: ModelMetadata;
  input: ModelInput;
  layers: Layer[];
}
