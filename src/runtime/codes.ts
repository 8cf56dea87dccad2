// The names of the .edgeq format's codes. The numbers live once, in assembly/format.ts
// (the engine, this runtime and the writer all import that file); this is the one place
// that names them. Every table here maps name → code.

import * as F from '../../assembly/format.js';

// The ops, one row each under the one name the op has everywhere: the file's op code
// (docs/FORMAT.md), the engine's module (assembly/ops/<name>.ts, registered by code in
// assembly/ops/registry.ts), its section in docs/ENGINE.md, the converter's float graph,
// and what `edgeq inspect` prints. test/docs.test.ts holds the docs and the modules to
// this table. The other columns say how to read an op record back (Model.layers()):
//   activation  what field 24 holds: 'fused' (FUSED_ACTIVATION) or 'float' (FLOAT_ACTIVATION)
//   padding     field 28 is the padding (PADDING: 'valid' / 'same', conv1d also 'causal')
//   input2      field 20 is a second input
//   params      name → the params it is read from, as one number, a list (`as: 'list'`
//               for one param read as a list of one, as the 2-D ops' lists), or `as` says
//               (a name from FLOAT_ACTIVATION or RNN_DIRECTION, a boolean, a float)
export interface OpSpec {
  code: number;
  activation?: 'fused' | 'float';
  padding?: true;
  input2?: true;
  params?: Record<string, { at: number[]; as?: 'bool' | 'floatActivation' | 'alpha' | 'list' | 'direction' }>;
}

const STRIDES = { strides: { at: [0, 1] } };
const WINDOW = { window: { at: [0, 1] }, strides: { at: [2, 3] } };
const RECURRENT = {
  returnSequences: { at: [0], as: 'bool' as const }, recurrentActivation: { at: [1], as: 'floatActivation' as const },
  direction: { at: [2], as: 'direction' as const },
};
const WINDOW1D = { window: { at: [0], as: 'list' as const }, strides: { at: [1], as: 'list' as const } };

export const OPS = {
  conv2d: { code: F.OP_CONV2D, activation: 'fused', padding: true, params: STRIDES },
  dense: { code: F.OP_DENSE, activation: 'fused' },
  max_pool2d: { code: F.OP_MAX_POOL2D, padding: true, params: WINDOW },
  avg_pool2d: { code: F.OP_AVG_POOL2D, padding: true, params: WINDOW },
  global_avg_pool2d: { code: F.OP_GLOBAL_AVG_POOL2D },
  lstm: { code: F.OP_LSTM, activation: 'float', params: RECURRENT },
  reshape: { code: F.OP_RESHAPE },
  softmax: { code: F.OP_SOFTMAX },
  depthwise_conv2d: { code: F.OP_DEPTHWISE_CONV2D, activation: 'fused', padding: true, params: { ...STRIDES, depthMultiplier: { at: [2] } } },
  add: { code: F.OP_ADD, activation: 'fused', input2: true, params: { average: { at: [0], as: 'bool' } } },
  multiply: { code: F.OP_MULTIPLY, activation: 'fused', input2: true },
  concatenate: { code: F.OP_CONCATENATE, input2: true },
  activation: { code: F.OP_ACTIVATION, activation: 'float', params: { alpha: { at: [0], as: 'alpha' } } },
  global_max_pool2d: { code: F.OP_GLOBAL_MAX_POOL2D },
  upsample2d: { code: F.OP_UPSAMPLE2D, params: { factors: { at: [0, 1] } } },
  pad2d: { code: F.OP_PAD2D, params: { pads: { at: [0, 1, 2, 3] } } },
  channel_affine: { code: F.OP_CHANNEL_AFFINE },
  conv1d: { code: F.OP_CONV1D, activation: 'fused', padding: true, params: { strides: { at: [0], as: 'list' }, dilation: { at: [1] } } },
  max_pool1d: { code: F.OP_MAX_POOL1D, padding: true, params: WINDOW1D },
  avg_pool1d: { code: F.OP_AVG_POOL1D, padding: true, params: WINDOW1D },
  global_avg_pool1d: { code: F.OP_GLOBAL_AVG_POOL1D },
  global_max_pool1d: { code: F.OP_GLOBAL_MAX_POOL1D },
  gru: { code: F.OP_GRU, activation: 'float', params: { ...RECURRENT, resetAfter: { at: [3], as: 'bool' } } },
} as const satisfies Record<string, OpSpec>;
export type OpName = keyof typeof OPS;

// name → code
export const OP = Object.fromEntries(Object.entries(OPS).map(([name, spec]) => [name, spec.code])) as { [K in OpName]: (typeof OPS)[K]['code'] };

// lstm and gru param 2: the step order (docs/FORMAT.md): forward; backward, outputs in
// the order computed (Keras' go_backwards); backward with each output at its own step
// (the backward half of a Bidirectional wrapper)
export const RNN_DIRECTION = { forward: F.RNN_FORWARD, backward: F.RNN_BACKWARD, backwardAligned: F.RNN_BACKWARD_ALIGNED } as const;
export type RnnDirection = keyof typeof RNN_DIRECTION;

export const PADDING = { valid: F.PAD_VALID, same: F.PAD_SAME, causal: F.PAD_CAUSAL } as const;
// the 2-D ops' and pooling's padding; conv1d also takes 'causal'
export type Padding = 'valid' | 'same';
export type Conv1dPadding = keyof typeof PADDING;

// tensor records: the element type, and how a constant's data is stored
export const DTYPE = { int8: F.DTYPE_INT8, int32: F.DTYPE_INT32, float32: F.DTYPE_FLOAT32 } as const;
export const ENCODING = { raw: F.ENCODING_RAW, bitmask: F.ENCODING_BITMASK, huffman: F.ENCODING_RLE_HUFFMAN, codebook: F.ENCODING_CODEBOOK } as const;
export type Dtype = keyof typeof DTYPE;
export type Encoding = keyof typeof ENCODING;

// conv2d and dense: the activation fused into the int8 output range
export const FUSED_ACTIVATION = { none: F.ACT_NONE, relu: F.ACT_RELU, relu6: F.ACT_RELU6 } as const;
export type FusedActivation = keyof typeof FUSED_ACTIVATION;

// lstm gates, float kernels and the activation op (which also takes relu6 and the rest)
export const FLOAT_ACTIVATION = {
  linear: F.ACT_F_LINEAR, relu: F.ACT_F_RELU, tanh: F.ACT_F_TANH, sigmoid: F.ACT_F_SIGMOID, hardSigmoid: F.ACT_F_HARD_SIGMOID,
  relu6: F.ACT_F_RELU6, swish: F.ACT_F_SWISH, hardSwish: F.ACT_F_HARD_SWISH, leakyRelu: F.ACT_F_LEAKY_RELU, elu: F.ACT_F_ELU,
} as const;
export type FloatActivation = keyof typeof FLOAT_ACTIVATION;
// the float activations that read alpha (the activation op's param 0)
export const ALPHA_ACTIVATIONS: readonly FloatActivation[] = ['leakyRelu', 'elu'];

// code → name
export function nameOf<T extends Record<string, number>>(table: T, code: number): keyof T | undefined {
  return (Object.keys(table) as (keyof T)[]).find((k) => table[k] === code);
}
