// avg_pool1d (op 20): the mean of each window along the steps, rounded half away from
// zero; the output keeps the input's quantization. params and padding as max_pool1d's
// (the mean is over the window's steps inside the input: TensorFlow's 'same' rule).

import { buf, dim, opInput, opOutput, opPadding, param } from "../model/context";
import { avg_pool2d_s8_c16 } from "../kernels/pool2d";
import { checkWindowPool1d } from "./max_pool1d";

export function check(o: i32): i32 {
  return checkWindowPool1d(o);
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o);
  avg_pool2d_s8_c16(buf(x, batch), batch, 1, dim(x, 0), dim(x, 1), 1, param(o, 0), 1, param(o, 1), opPadding(o), buf(opOutput(o), batch));
}
