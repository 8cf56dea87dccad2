// global_max_pool2d (op 14): the largest value over H and W of each channel,
// [h, w, c] → [c]; the output keeps the input's quantization.

import { buf, dim, opInput, opOutput } from "../model/context";
import { global_max_pool2d_s8_c16 } from "../kernels/pool2d";
import { checkGlobalPool } from "./global_avg_pool2d";

export function check(o: i32): i32 {
  return checkGlobalPool(o);
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o);
  global_max_pool2d_s8_c16(buf(x, batch), batch, dim(x, 0), dim(x, 1), dim(x, 2), buf(opOutput(o), batch));
}
