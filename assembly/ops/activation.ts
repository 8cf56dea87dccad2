// activation (op 13): a float function of an int8 tensor (ACT_F_* in field 24: relu,
// relu6, sigmoid, tanh, hard sigmoid, swish, hard swish, leaky relu, elu), for the
// activations conv2d / dense cannot fuse. params: alpha (f32 bits; leaky ReLU's slope,
// ELU's scale). An int8 input has 256 values: prepare tabulates them once.

import { ACT_F_LAST } from "../format";
import { mem_alloc } from "../memory";
import { E_MEMORY, E_OP, OK, R_LIMIT, R_PARAM, R_SHAPE, U_ACTIVATION, buf, elems, fail, finite, opActivation, opInput, opOutput,
  packedOf, param, sameShape, scaleOf, setPacked, unused, zeroOf } from "../model/context";
import { activation_s8_lut, activation_s8_table } from "../kernels/activation_s8";

export function check(o: i32): i32 {
  const s = unused(o, U_ACTIVATION, 1);
  if (s != OK) return s;
  const act = opActivation(o);
  if (act < 0 || act > ACT_F_LAST || !finite(reinterpret<f32>(param(o, 0)))) return fail(E_OP, o, R_PARAM);
  if (!sameShape(opInput(o), opOutput(o))) return fail(E_OP, o, R_SHAPE);
  return OK;
}

export function prepare(o: i32): i32 {
  const x = opInput(o), y = opOutput(o);
  const table = mem_alloc(256);
  if (!table) return fail(E_MEMORY, o, R_LIMIT);
  activation_s8_table(opActivation(o), reinterpret<f32>(param(o, 0)), scaleOf(x), zeroOf(x), scaleOf(y), zeroOf(y), table);
  setPacked(o, table, 256);
  return OK;
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o);
  activation_s8_lut(buf(x, batch), batch * elems(x), packedOf(o), buf(opOutput(o), batch));
}
