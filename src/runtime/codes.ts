// The names of the .edgeq format's codes. The numbers live once, in assembly/format.ts
// (the engine, this runtime and the writer all import that file); this is the one place
// that names them. Every table here maps name → code.

import * as F from '../../assembly/format.js';

export const OP = {
  conv2d: F.OP_CONV2D, dense: F.OP_DENSE, maxPool2d: F.OP_MAX_POOL2D, avgPool2d: F.OP_AVG_POOL2D,
  globalAvgPool2d: F.OP_GLOBAL_AVG_POOL2D, lstm: F.OP_LSTM, reshape: F.OP_RESHAPE, softmax: F.OP_SOFTMAX,
  depthwiseConv2d: F.OP_DEPTHWISE_CONV2D, add: F.OP_ADD, multiply: F.OP_MULTIPLY, concatenate: F.OP_CONCATENATE,
  activation: F.OP_ACTIVATION, globalMaxPool2d: F.OP_GLOBAL_MAX_POOL2D, upsample2d: F.OP_UPSAMPLE2D, pad2d: F.OP_PAD2D,
  channelAffine: F.OP_CHANNEL_AFFINE,
} as const;
export type OpName = keyof typeof OP;

export const PADDING = { valid: F.PAD_VALID, same: F.PAD_SAME } as const;
export type Padding = keyof typeof PADDING;

// conv2d and dense: the activation fused into the int8 output range
export const FUSED_ACTIVATION = { none: F.ACT_NONE, relu: F.ACT_RELU, relu6: F.ACT_RELU6 } as const;
export type FusedActivation = keyof typeof FUSED_ACTIVATION;

// lstm gates, float kernels and the activation op (which also takes relu6 and the rest)
export const FLOAT_ACTIVATION = {
  linear: F.ACT_F_LINEAR, relu: F.ACT_F_RELU, tanh: F.ACT_F_TANH, sigmoid: F.ACT_F_SIGMOID, hardSigmoid: F.ACT_F_HARD_SIGMOID,
  relu6: F.ACT_F_RELU6, swish: F.ACT_F_SWISH, hardSwish: F.ACT_F_HARD_SWISH, leakyRelu: F.ACT_F_LEAKY_RELU, elu: F.ACT_F_ELU,
} as const;
export type FloatActivation = keyof typeof FLOAT_ACTIVATION;

// code → name
export function nameOf<T extends Record<string, number>>(table: T, code: number): keyof T | undefined {
  return (Object.keys(table) as (keyof T)[]).find((k) => table[k] === code);
}
