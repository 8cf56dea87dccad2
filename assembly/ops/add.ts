// add (op 10): x + x2, each int8 tensor with its own quantization, ReLU / ReLU6 fused
// into the output range. x2 (field 20) has x's shape, or is a vector over x's last
// axis ([..., 1, C]). The residual connection of ResNets and MobileNetV2. Param 0:
// 1 = the mean (x + x2) / 2 (Keras' Average, Bidirectional's merge 'ave'): the input
// scales halved, which is exact.

import { OK, E_OP, R_PARAM, R_QUANT, R_SHAPE, U_ACTIVATION, U_FIELD20, buf, dim, elems, fail, finite, fusedActivationValid,
  opActivation, opField20, opInput, opOutput, param, rank, sameShape, scaleOf, unused, zeroOf } from "../model/context";
import { quant_multiplier } from "../quant";
import { add_s8_x16 } from "../kernels/add";

// add's and multiply's checks: y like x; x2 like x, or a vector over x's last axis.
export function checkElementwise(o: i32, params: i32): i32 {
  const s = unused(o, U_FIELD20 | U_ACTIVATION, params);
  if (s != OK) return s;
  const x = opInput(o), x2 = opField20(o), y = opOutput(o);
  if (!fusedActivationValid(opActivation(o))) return fail(E_OP, o, R_PARAM);
  if (!sameShape(x, y)) return fail(E_OP, o, R_SHAPE);
  if (!sameShape(x, x2) && !(elems(x2) == dim(x, rank(x) - 1) && dim(x2, rank(x2) - 1) == elems(x2))) return fail(E_OP, o, R_SHAPE);
  return OK;
}

export function check(o: i32): i32 {
  const s = checkElementwise(o, 1);
  if (s != OK) return s;
  if (param(o, 0) != 0 && param(o, 0) != 1) return fail(E_OP, o, R_PARAM);
  const sy = scaleOf(opOutput(o));
  if (!finite(quant_multiplier(scaleOf(opInput(o)), 1, sy)) || !finite(quant_multiplier(scaleOf(opField20(o)), 1, sy))) return fail(E_OP, o, R_QUANT);
  return OK;
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o), x2 = opField20(o), y = opOutput(o);
  const k: f32 = param(o, 0) ? 0.5 : 1.0;
  add_s8_x16(buf(x, batch), buf(x2, batch), batch, elems(x), elems(x2), scaleOf(x) * k, zeroOf(x), scaleOf(x2) * k, zeroOf(x2),
    scaleOf(y), zeroOf(y), opActivation(o), buf(y, batch));
}
