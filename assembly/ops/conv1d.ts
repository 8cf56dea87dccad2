// conv1d (op 18): int8 1-D convolution over [steps, channels], weights [f, k, c] with
// per-filter scales, int32 bias, stride, dilation, padding 'valid' / 'same' / 'causal'
// (Keras: (k − 1) · dilation zeros before the first step), ReLU / ReLU6 fused into the
// output range. params: stride, dilation. Kernel: im2col + gemm (conv1d_s8_im2col).

import * as F from "../format";
import {
  E_OP, OK, R_PARAM, R_QUANT, R_SHAPE, R_TENSOR_REF, U_ACTIVATION, U_BIAS, U_PADDING, U_WEIGHTS, buf, dim, fail,
  fusedActivationValid, isBiasOrNone, isChannelWeights, multipliersFinite, opActivation, opBias, opInput, opOutput,
  opPadding, opWeights, packedOf, param, rank, scaleOf, scratch, setMacs, shapeIs2, unused, zeroOf,
} from "../model/context";
import { conv1d_s8_im2col, conv1d_scratch_size } from "../kernels/conv1d";
import { window_out_size } from "../kernels/window";

export function check(o: i32): i32 {
  const s = unused(o, U_WEIGHTS | U_BIAS | U_ACTIVATION | U_PADDING, 2);
  if (s != OK) return s;
  const x = opInput(o), y = opOutput(o), w = opWeights(o);
  if (rank(x) != 2 || !isChannelWeights(w, 3)) return fail(E_OP, o, R_TENSOR_REF);
  const steps = dim(x, 0), c = dim(x, 1), f = dim(w, 0), k = dim(w, 1);
  if (dim(w, 2) != c) return fail(E_OP, o, R_SHAPE);
  if (!isBiasOrNone(opBias(o), f)) return fail(E_OP, o, R_TENSOR_REF);
  const stride = param(o, 0), dilation = param(o, 1), pad = opPadding(o);
  if (stride < 1 || stride > 64 || dilation < 1 || dilation > 4096 || pad < F.PAD_VALID || pad > F.PAD_CAUSAL) return fail(E_OP, o, R_PARAM);
  if (!fusedActivationValid(opActivation(o))) return fail(E_OP, o, R_PARAM);
  // the dilated window's span, kept within a dimension so the kernels' i32 steps are exact
  const span = (<u64>k - 1) * <u64>dilation + 1;
  if (span > <u64>F.MAX_DIM) return fail(E_OP, o, R_SHAPE);
  const out = window_out_size(steps, <i32>span, stride, pad);
  if (out < 1 || !shapeIs2(y, out, f)) return fail(E_OP, o, R_SHAPE);
  if (!multipliersFinite(x, w, y)) return fail(E_OP, o, R_QUANT);
  return setMacs(o, <u64>out * <u64>f * <u64>k * <u64>c);
}

// The weights [f, k, c] are the gemm's [f, k·c] matrix, packed as dense's are.
export { prepare } from "./dense";

export function scratchSize(o: i32, batch: i32): u64 {
  const x = opInput(o), w = opWeights(o);
  return <u64>conv1d_scratch_size(dim(x, 0), dim(x, 1), dim(w, 1), param(o, 0), param(o, 1), opPadding(o));
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o), y = opOutput(o), w = opWeights(o);
  conv1d_s8_im2col(buf(x, batch), batch, dim(x, 0), dim(x, 1), packedOf(o), dim(w, 0), dim(w, 1), param(o, 0), param(o, 1),
    opPadding(o), zeroOf(x), scaleOf(y), zeroOf(y), opActivation(o), buf(y, batch), scratch);
}
