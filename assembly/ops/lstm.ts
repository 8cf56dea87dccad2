// lstm (op 6): Keras' LSTM over a [steps, features] sequence, gates i, f, c, o.
// Weights: input kernel [4·units, features] (field 12) and recurrent kernel
// [4·units, units] (field 20), int8 with per-channel scales; bias f32 [4·units].
// Activation: ACT_F_TANH or ACT_F_RELU; params: return sequences (0 / 1), recurrent
// activation (ACT_F_SIGMOID, ACT_F_HARD_SIGMOID), direction (RNN_*: go_backwards and
// Bidirectional's backward half). The state stays in float.

import { ACT_F_HARD_SIGMOID, ACT_F_RELU, ACT_F_SIGMOID, ACT_F_TANH, DTYPE_FLOAT32, DTYPE_INT8, RNN_BACKWARD_ALIGNED } from "../format";
import { mem_alloc, mem_release } from "../memory";
import {
  E_MEMORY, E_OP, E_TENSOR, OK, R_FIELD, R_LIMIT, R_PARAM, R_QUANT, R_SHAPE, R_TENSOR_REF, U_ACTIVATION, U_BIAS, U_FIELD20,
  U_WEIGHTS, buf, channelScalesPtr, isChannelWeights, constData, decode, dim, elems, fail, finite, isConstant, opActivation, opBias, opField20,
  opInput, opOutput, opWeights, packedOf, param, rank, scaleOf, scratch, setMacs, setPacked, unused, zeroOf,
} from "../model/context";
import { lstm_pack, lstm_packed_size, lstm_s8_gemm, lstm_scratch_size } from "../kernels/lstm";

export function check(o: i32): i32 {
  const s = unused(o, U_WEIGHTS | U_BIAS | U_FIELD20 | U_ACTIVATION, 3);
  if (s != OK) return s;
  const x = opInput(o), w = opWeights(o), rw = opField20(o), b = opBias(o);
  if (rank(x) != 2 || !isConstant(w, DTYPE_INT8, 2) || !isConstant(rw, DTYPE_INT8, 2) || !isConstant(b, DTYPE_FLOAT32, 1)) return fail(E_OP, o, R_TENSOR_REF);
  if (!isChannelWeights(w, 2) || !isChannelWeights(rw, 2)) return fail(E_OP, o, R_QUANT);
  const feat = dim(x, 1), n = dim(w, 0);
  const units = n >> 2;
  if ((n & 3) != 0 || dim(w, 1) != feat || dim(rw, 0) != n || dim(rw, 1) != units || dim(b, 0) != n) return fail(E_OP, o, R_SHAPE);
  return checkRecurrent(o, units);
}

// lstm's and gru's common checks, after their weight shapes (n = gates · units rows):
// activations, return sequences, direction, the output's shape, a finite bias; the MACs.
export function checkRecurrent(o: i32, units: i32): i32 {
  const x = opInput(o), y = opOutput(o), b = opBias(o);
  const steps = dim(x, 0), feat = dim(x, 1), n = dim(opWeights(o), 0);
  const act = opActivation(o), seq = param(o, 0), rec = param(o, 1);
  if (act != ACT_F_RELU && act != ACT_F_TANH) return fail(E_OP, o, R_PARAM);
  if ((seq != 0 && seq != 1) || (rec != ACT_F_SIGMOID && rec != ACT_F_HARD_SIGMOID)) return fail(E_OP, o, R_PARAM);
  if (<u32>param(o, 2) > <u32>RNN_BACKWARD_ALIGNED) return fail(E_OP, o, R_PARAM);
  if (seq == 1 ? !(rank(y) == 2 && dim(y, 0) == steps && dim(y, 1) == units) : !(rank(y) == 1 && dim(y, 0) == units)) return fail(E_OP, o, R_SHAPE);
  const bp = constData(b);
  for (let i = 0; i < elems(b); i++) if (!finite(load<f32>(bp + (<usize>i << 2)))) return fail(E_TENSOR, b, R_FIELD);
  return setMacs(o, <u64>steps * <u64>n * <u64>(feat + units));
}

export function prepare(o: i32): i32 {
  const x = opInput(o), w = opWeights(o), rw = opField20(o);
  const n = dim(w, 0), k = dim(w, 1), units = n >> 2;
  const size = lstm_packed_size(k, units);
  const packed = mem_alloc(size);
  if (!packed) return fail(E_MEMORY, o, R_LIMIT);
  const tx = mem_alloc(<usize>elems(w)), th = mem_alloc(<usize>elems(rw));
  if (!tx || !th) return fail(E_MEMORY, o, R_LIMIT);
  let decoded = decode(w, tx);
  if (decoded == OK) decoded = decode(rw, th);
  if (decoded != OK) return decoded;
  lstm_pack(tx, channelScalesPtr(w), th, channelScalesPtr(rw), k, units, scaleOf(x), zeroOf(x), packed);
  mem_release(tx);
  setPacked(o, packed, size + (<usize>n << 2)); // and the f32 bias the kernel reads in place
  return OK;
}

export function scratchSize(o: i32, batch: i32): u64 {
  return <u64>lstm_scratch_size(batch, dim(opInput(o), 0), dim(opWeights(o), 0) >> 2);
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o), y = opOutput(o);
  lstm_s8_gemm(buf(x, batch), batch, dim(x, 0), dim(x, 1), dim(opWeights(o), 0) >> 2, packedOf(o), constData(opBias(o)),
    scaleOf(y), zeroOf(y), opActivation(o), param(o, 1), param(o, 0), param(o, 2), buf(y, batch), scratch);
}
