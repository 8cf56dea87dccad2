// global_avg_pool2d (op 5): the mean over H and W of each channel, [h, w, c] → [c]; the
// output keeps the input's quantization.

import { E_OP, OK, R_QUANT, R_SHAPE, buf, dim, fail, opInput, opOutput, rank, sameQuant, unused } from "../model/context";
import { global_avg_pool2d_s8_c16 } from "../kernels/pool2d";

// global_avg_pool2d's and global_max_pool2d's checks: the same fields and shapes.
export function checkGlobalPool(o: i32): i32 {
  const s = unused(o, 0, 0);
  if (s != OK) return s;
  const x = opInput(o), y = opOutput(o);
  if (rank(x) != 3 || rank(y) != 1 || dim(y, 0) != dim(x, 2)) return fail(E_OP, o, R_SHAPE);
  if (!sameQuant(x, y)) return fail(E_OP, o, R_QUANT);
  return OK;
}

export function check(o: i32): i32 {
  return checkGlobalPool(o);
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o);
  global_avg_pool2d_s8_c16(buf(x, batch), batch, dim(x, 0), dim(x, 1), dim(x, 2), buf(opOutput(o), batch));
}
