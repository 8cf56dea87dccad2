// global_max_pool1d (op 22): the largest value over the steps of each channel,
// [steps, c] → [c]; the output keeps the input's quantization. Runs the 2-D kernel on a
// height-1 image.

import { buf, dim, opInput, opOutput } from "../model/context";
import { global_max_pool2d_s8_c16 } from "../kernels/pool2d";
import { checkGlobalPool1d } from "./global_avg_pool1d";

export function check(o: i32): i32 {
  return checkGlobalPool1d(o);
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o);
  global_max_pool2d_s8_c16(buf(x, batch), batch, 1, dim(x, 0), dim(x, 1), buf(opOutput(o), batch));
}
