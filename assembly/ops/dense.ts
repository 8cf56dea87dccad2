// dense (op 2): y = W·x + b on a vector [k], or on every step of a sequence [steps, k]
// (Keras' Dense on a 3-D input, TimeDistributed(Dense)): weights [units, k] with
// per-channel scales, int32 bias, ReLU / ReLU6 fused into the output range.

import * as F from "../format";
import { mem_alloc, mem_release } from "../memory";
import {
  E_MEMORY, E_OP, OK, R_LIMIT, R_PARAM, R_QUANT, R_SHAPE, R_TENSOR_REF, U_ACTIVATION, U_BIAS, U_WEIGHTS,
  buf, channelScalesPtr, constData, decode, dim, elems, fail, fusedActivationValid, isBiasOrNone, isChannelWeights,
  multipliersFinite, opActivation, opBias, opInput, opOutput, opWeights, packedOf, rank, scaleOf, setMacs, setPacked,
  unused, zeroOf,
} from "../model/context";
import { dense_s8_gemm } from "../kernels/dense";
import { gemm_pack, gemm_packed_size } from "../kernels/gemm";

export function check(o: i32): i32 {
  const s = unused(o, U_WEIGHTS | U_BIAS | U_ACTIVATION, 0);
  if (s != OK) return s;
  const x = opInput(o), y = opOutput(o), w = opWeights(o);
  const r = rank(x);
  if ((r != 1 && r != 2) || !isChannelWeights(w, 2)) return fail(E_OP, o, R_TENSOR_REF);
  const n = dim(w, 0), k = dim(x, r - 1), steps = r == 2 ? dim(x, 0) : 1;
  if (dim(w, 1) != k) return fail(E_OP, o, R_SHAPE);
  if (!isBiasOrNone(opBias(o), n)) return fail(E_OP, o, R_TENSOR_REF);
  if (!fusedActivationValid(opActivation(o))) return fail(E_OP, o, R_PARAM);
  if (rank(y) != r || dim(y, r - 1) != n || (r == 2 && dim(y, 0) != steps)) return fail(E_OP, o, R_SHAPE);
  if (!multipliersFinite(x, w, y)) return fail(E_OP, o, R_QUANT);
  return setMacs(o, <u64>steps * <u64>n * <u64>k);
}

export function prepare(o: i32): i32 {
  const x = opInput(o), y = opOutput(o), w = opWeights(o), b = opBias(o);
  const n = dim(w, 0), k = elems(w) / n;
  const size = gemm_packed_size(n, k);
  const packed = mem_alloc(size);
  const tw = mem_alloc(<usize>elems(w));
  if (!packed || !tw) return fail(E_MEMORY, o, R_LIMIT);
  const decoded = decode(w, tw);
  if (decoded != OK) return decoded;
  gemm_pack(tw, n, k, b == F.NONE ? 0 : constData(b), channelScalesPtr(w), scaleOf(x), zeroOf(x), scaleOf(y), packed);
  mem_release(tw);
  setPacked(o, packed, size);
  return OK;
}

// The steps of every batch item are contiguous rows: one gemm with M = batch · steps.
export function run(o: i32, batch: i32): void {
  const x = opInput(o), y = opOutput(o), k = dim(opWeights(o), 1), n = dim(opWeights(o), 0);
  dense_s8_gemm(buf(x, batch), batch * (elems(x) / k), k, packedOf(o), n, scaleOf(y), zeroOf(y), opActivation(o), buf(y, batch));
}
