// avg_pool2d (op 4): the mean of each window, rounded half away from zero, int8 NHWC;
// the output keeps the input's quantization. params and padding as max_pool2d's (the
// mean is over the window's positions inside the input: TensorFlow's 'same' rule).

import { buf, dim, opInput, opOutput, opPadding, param } from "../model/context";
import { avg_pool2d_s8_c16 } from "../kernels/pool2d";
import { checkWindowPool } from "./max_pool2d";

export function check(o: i32): i32 {
  return checkWindowPool(o);
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o);
  avg_pool2d_s8_c16(buf(x, batch), batch, dim(x, 0), dim(x, 1), dim(x, 2), param(o, 0), param(o, 1), param(o, 2), param(o, 3),
    opPadding(o), buf(opOutput(o), batch));
}
