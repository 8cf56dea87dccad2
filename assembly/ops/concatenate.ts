// concatenate (op 12): x and x2 (field 20) joined on the last (channel) axis, each
// requantized to the output's quantization; every other dimension alike.

import { E_OP, OK, R_QUANT, R_SHAPE, U_FIELD20, buf, dim, elems, fail, finite, lastDim, opField20, opInput, opOutput, rank,
  scaleOf, unused, zeroOf } from "../model/context";
import { quant_multiplier } from "../quant";
import { concatenate_s8_x16 } from "../kernels/concatenate";

export function check(o: i32): i32 {
  const s = unused(o, U_FIELD20, 0);
  if (s != OK) return s;
  const x = opInput(o), x2 = opField20(o), y = opOutput(o);
  const rk = rank(x);
  if (rank(x2) != rk || rank(y) != rk || lastDim(y) != lastDim(x) + lastDim(x2)) return fail(E_OP, o, R_SHAPE);
  for (let d = 0; d < rk - 1; d++) if (dim(x, d) != dim(y, d) || dim(x2, d) != dim(y, d)) return fail(E_OP, o, R_SHAPE);
  const sy = scaleOf(y);
  if (!finite(quant_multiplier(scaleOf(x), 1, sy)) || !finite(quant_multiplier(scaleOf(x2), 1, sy))) return fail(E_OP, o, R_QUANT);
  return OK;
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o), x2 = opField20(o), y = opOutput(o);
  const ca = lastDim(x);
  concatenate_s8_x16(buf(x, batch), buf(x2, batch), batch * (elems(x) / ca), ca, lastDim(x2), scaleOf(x), zeroOf(x),
    scaleOf(x2), zeroOf(x2), scaleOf(y), zeroOf(y), buf(y, batch));
}
