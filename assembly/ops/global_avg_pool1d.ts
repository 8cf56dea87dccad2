// global_avg_pool1d (op 21): the mean over the steps of each channel, [steps, c] → [c];
// the output keeps the input's quantization. Runs the 2-D kernel on a height-1 image.

import { E_OP, OK, R_QUANT, R_SHAPE, buf, dim, fail, opInput, opOutput, rank, sameQuant, unused } from "../model/context";
import { global_avg_pool2d_s8_c16 } from "../kernels/pool2d";

// global_avg_pool1d's and global_max_pool1d's checks: the same fields and shapes.
export function checkGlobalPool1d(o: i32): i32 {
  const s = unused(o, 0, 0);
  if (s != OK) return s;
  const x = opInput(o), y = opOutput(o);
  if (rank(x) != 2 || rank(y) != 1 || dim(y, 0) != dim(x, 1)) return fail(E_OP, o, R_SHAPE);
  if (!sameQuant(x, y)) return fail(E_OP, o, R_QUANT);
  return OK;
}

export function check(o: i32): i32 {
  return checkGlobalPool1d(o);
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o);
  global_avg_pool2d_s8_c16(buf(x, batch), batch, 1, dim(x, 0), dim(x, 1), buf(opOutput(o), batch));
}
