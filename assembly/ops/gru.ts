// gru (op 23): Keras' GRU over a [steps, features] sequence, gates z, r, h.
// Weights: input kernel [3·units, features] (field 12) and recurrent kernel
// [3·units, units] (field 20), int8 with per-channel scales; bias f32 [3·units]
// (reset_after 0) or [2, 3·units] (reset_after 1: input bias, then recurrent bias).
// Activation: ACT_F_TANH or ACT_F_RELU; params: return sequences (0 / 1), recurrent
// activation (ACT_F_SIGMOID, ACT_F_HARD_SIGMOID), direction (RNN_*), reset_after (0 / 1:
// Keras' default; TF.js's GRU is 0). The state stays in float.

import { DTYPE_FLOAT32, DTYPE_INT8 } from "../format";
import { mem_alloc, mem_release } from "../memory";
import {
  E_MEMORY, E_OP, OK, R_LIMIT, R_PARAM, R_QUANT, R_SHAPE, R_TENSOR_REF, U_ACTIVATION, U_BIAS, U_FIELD20, U_WEIGHTS,
  buf, channelScalesPtr, isChannelWeights, constData, decode, dim, elems, fail, isConstant, opActivation, opBias,
  opField20, opInput, opOutput, opWeights, packedOf, param, rank, scaleOf, scratch, setPacked, unused, zeroOf,
} from "../model/context";
import { gru_pack, gru_packed_size, gru_s8_gemm, gru_scratch_size } from "../kernels/gru";
import { checkRecurrent } from "./lstm";

export function check(o: i32): i32 {
  const s = unused(o, U_WEIGHTS | U_BIAS | U_FIELD20 | U_ACTIVATION, 4);
  if (s != OK) return s;
  const x = opInput(o), w = opWeights(o), rw = opField20(o), b = opBias(o);
  const resetAfter = param(o, 3);
  if (resetAfter != 0 && resetAfter != 1) return fail(E_OP, o, R_PARAM);
  if (rank(x) != 2 || !isConstant(w, DTYPE_INT8, 2) || !isConstant(rw, DTYPE_INT8, 2) || !isConstant(b, DTYPE_FLOAT32, 1 + resetAfter)) return fail(E_OP, o, R_TENSOR_REF);
  if (!isChannelWeights(w, 2) || !isChannelWeights(rw, 2)) return fail(E_OP, o, R_QUANT);
  const feat = dim(x, 1), n = dim(w, 0);
  const units = n / 3;
  if (n % 3 != 0 || dim(w, 1) != feat || dim(rw, 0) != n || dim(rw, 1) != units) return fail(E_OP, o, R_SHAPE);
  if (resetAfter ? !(dim(b, 0) == 2 && dim(b, 1) == n) : dim(b, 0) != n) return fail(E_OP, o, R_SHAPE);
  return checkRecurrent(o, units);
}

export function prepare(o: i32): i32 {
  const x = opInput(o), w = opWeights(o), rw = opField20(o);
  const n = dim(w, 0), k = dim(w, 1), units = n / 3, resetAfter = param(o, 3);
  const size = gru_packed_size(k, units, resetAfter);
  const packed = mem_alloc(size);
  if (!packed) return fail(E_MEMORY, o, R_LIMIT);
  const tx = mem_alloc(<usize>elems(w)), th = mem_alloc(<usize>elems(rw));
  if (!tx || !th) return fail(E_MEMORY, o, R_LIMIT);
  let decoded = decode(w, tx);
  if (decoded == OK) decoded = decode(rw, th);
  if (decoded != OK) return decoded;
  gru_pack(tx, channelScalesPtr(w), th, channelScalesPtr(rw), k, units, resetAfter, scaleOf(x), zeroOf(x), packed);
  mem_release(tx);
  setPacked(o, packed, size + (<usize>elems(opBias(o)) << 2)); // and the f32 bias the kernel reads in place
  return OK;
}

export function scratchSize(o: i32, batch: i32): u64 {
  return <u64>gru_scratch_size(batch, dim(opInput(o), 0), dim(opWeights(o), 0) / 3);
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o), y = opOutput(o);
  gru_s8_gemm(buf(x, batch), batch, dim(x, 0), dim(x, 1), dim(opWeights(o), 0) / 3, packedOf(o), constData(opBias(o)), param(o, 3),
    scaleOf(y), zeroOf(y), opActivation(o), param(o, 1), param(o, 0), param(o, 2), buf(y, batch), scratch);
}
