// multiply (op 11): x · x2, each int8 tensor with its own quantization, ReLU / ReLU6
// fused into the output range. x2 (field 20) has x's shape, or is a vector over x's
// last axis ([..., 1, C]): squeeze-and-excitation's channel gates.

import { E_OP, OK, R_QUANT, buf, elems, fail, finite, opActivation, opField20, opInput, opOutput, scaleOf, zeroOf } from "../model/context";
import { quant_multiplier } from "../quant";
import { multiply_s8_x16 } from "../kernels/multiply";
import { checkElementwise } from "./add";

export function check(o: i32): i32 {
  const s = checkElementwise(o, 0);
  if (s != OK) return s;
  if (!finite(quant_multiplier(scaleOf(opInput(o)), scaleOf(opField20(o)), scaleOf(opOutput(o))))) return fail(E_OP, o, R_QUANT);
  return OK;
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o), x2 = opField20(o), y = opOutput(o);
  multiply_s8_x16(buf(x, batch), buf(x2, batch), batch, elems(x), elems(x2), scaleOf(x), zeroOf(x), scaleOf(x2), zeroOf(x2),
    scaleOf(y), zeroOf(y), opActivation(o), buf(y, batch));
}
