// depthwise_conv2d (op 9): each input channel convolved with its own m filters (depth
// multiplier m ≥ 1). Weights [c·m, kh, kw, 1] with per-channel scales: output channel
// j reads input channel j / m. params: stride h, stride w, m. Padding and fused
// activation as conv2d's.

import * as F from "../format";
import { mem_alloc, mem_release } from "../memory";
import {
  E_MEMORY, E_OP, OK, R_LIMIT, R_PARAM, R_QUANT, R_SHAPE, R_TENSOR_REF, U_ACTIVATION, U_BIAS, U_PADDING, U_WEIGHTS,
  buf, channelScalesPtr, constData, decode, dim, elems, fail, fusedActivationValid, isBiasOrNone, isChannelWeights,
  multipliersFinite, opActivation, opBias, opInput, opOutput, opPadding, opWeights, packedOf, param, rank, scaleOf,
  setMacs, setPacked, shapeIs3, unused, validOrSame, zeroOf,
} from "../model/context";
import { depthwise_conv2d_pack, depthwise_conv2d_packed_size, depthwise_conv2d_s8_c8 } from "../kernels/depthwise_conv2d";
import { window_out_size } from "../kernels/window";

export function check(o: i32): i32 {
  const s = unused(o, U_WEIGHTS | U_BIAS | U_ACTIVATION | U_PADDING, 3);
  if (s != OK) return s;
  const x = opInput(o), y = opOutput(o), w = opWeights(o);
  if (rank(x) != 3 || !isChannelWeights(w, 4)) return fail(E_OP, o, R_TENSOR_REF);
  const h = dim(x, 0), wd = dim(x, 1), c = dim(x, 2);
  const oc = dim(w, 0), kh = dim(w, 1), kw = dim(w, 2);
  const sh = param(o, 0), sw = param(o, 1), m = param(o, 2), pad = opPadding(o);
  if (m < 1 || m > 64 || dim(w, 3) != 1 || oc != c * m) return fail(E_OP, o, R_SHAPE);
  if (!isBiasOrNone(opBias(o), oc)) return fail(E_OP, o, R_TENSOR_REF);
  if (sh < 1 || sw < 1 || sh > 64 || sw > 64 || !validOrSame(pad) || !fusedActivationValid(opActivation(o))) return fail(E_OP, o, R_PARAM);
  const oh = window_out_size(h, kh, sh, pad), ow = window_out_size(wd, kw, sw, pad);
  if (oh < 1 || ow < 1 || !shapeIs3(y, oh, ow, oc)) return fail(E_OP, o, R_SHAPE);
  if (!multipliersFinite(x, w, y)) return fail(E_OP, o, R_QUANT);
  return setMacs(o, <u64>oh * <u64>ow * <u64>oc * <u64>kh * <u64>kw);
}

export function prepare(o: i32): i32 {
  const x = opInput(o), y = opOutput(o), w = opWeights(o), b = opBias(o);
  const n = dim(w, 0), kh = dim(w, 1), kw = dim(w, 2);
  const size = depthwise_conv2d_packed_size(n, kh, kw);
  const packed = mem_alloc(size);
  const tw = mem_alloc(<usize>elems(w));
  if (!packed || !tw) return fail(E_MEMORY, o, R_LIMIT);
  const decoded = decode(w, tw);
  if (decoded != OK) return decoded;
  depthwise_conv2d_pack(tw, n, kh, kw, b == F.NONE ? 0 : constData(b), channelScalesPtr(w), scaleOf(x), zeroOf(x), scaleOf(y), packed);
  mem_release(tw);
  setPacked(o, packed, size);
  return OK;
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o), y = opOutput(o), w = opWeights(o);
  depthwise_conv2d_s8_c8(buf(x, batch), batch, dim(x, 0), dim(x, 1), dim(x, 2), packedOf(o), param(o, 2), dim(w, 1), dim(w, 2),
    param(o, 0), param(o, 1), opPadding(o), zeroOf(x), scaleOf(y), zeroOf(y), opActivation(o), buf(y, batch));
}
