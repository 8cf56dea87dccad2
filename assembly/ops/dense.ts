// dense (op 2): y = W·x + b on a vector, weights [units, inputs] with per-channel
// scales, int32 bias, ReLU / ReLU6 fused into the output range.

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
  if (rank(x) != 1 || !isChannelWeights(w, 2)) return fail(E_OP, o, R_TENSOR_REF);
  const n = dim(w, 0), k = elems(x);
  if (dim(w, 1) != k) return fail(E_OP, o, R_SHAPE);
  if (!isBiasOrNone(opBias(o), n)) return fail(E_OP, o, R_TENSOR_REF);
  if (!fusedActivationValid(opActivation(o))) return fail(E_OP, o, R_PARAM);
  if (rank(y) != 1 || dim(y, 0) != n) return fail(E_OP, o, R_SHAPE);
  if (!multipliersFinite(x, w, y)) return fail(E_OP, o, R_QUANT);
  return setMacs(o, <u64>n * <u64>k);
}

export function prepare(o: i32): i32 {
  const x = opInput(o), y = opOutput(o), w = opWeights(o), b = opBias(o);
  const n = dim(w, 0), k = elems(w) / n;
  const size = gemm_packed_size(n, k);
  const packed = mem_alloc(size);
  const tw = mem_alloc(<usize>elems(w));
  if (!packed || !tw) return fail(E_MEMORY, o, R_LIMIT);
  decode(w, tw);
  gemm_pack(tw, n, k, b == F.NONE ? 0 : constData(b), channelScalesPtr(w), scaleOf(x), zeroOf(x), scaleOf(y), packed);
  mem_release(tw);
  setPacked(o, packed, size);
  return OK;
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o), y = opOutput(o);
  dense_s8_gemm(buf(x, batch), batch, elems(x), packedOf(o), elems(y), scaleOf(y), zeroOf(y), opActivation(o), buf(y, batch));
}
