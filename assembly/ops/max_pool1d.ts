// max_pool1d (op 19): the largest value of each window along the steps of an int8
// [steps, channels] sequence; the output keeps the input's quantization. params:
// window, stride; padding 'same' / 'valid' (padded positions are ignored). Runs the 2-D
// pooling kernel on a height-1 image (docs/ENGINE.md says why it has its own code).

import {
  E_OP, OK, R_PARAM, R_QUANT, R_SHAPE, U_PADDING, buf, dim, fail, opInput, opOutput, opPadding, param, rank, sameQuant,
  shapeIs2, unused, validOrSame,
} from "../model/context";
import { max_pool2d_s8_c16 } from "../kernels/pool2d";
import { window_out_size } from "../kernels/window";

// max_pool1d's and avg_pool1d's checks: the same fields and shapes.
export function checkWindowPool1d(o: i32): i32 {
  const s = unused(o, U_PADDING, 2);
  if (s != OK) return s;
  const x = opInput(o), y = opOutput(o);
  if (rank(x) != 2) return fail(E_OP, o, R_SHAPE);
  for (let i = 0; i < 2; i++) if (param(o, i) < 1 || param(o, i) > 4096) return fail(E_OP, o, R_PARAM);
  if (!validOrSame(opPadding(o))) return fail(E_OP, o, R_PARAM);
  const out = window_out_size(dim(x, 0), param(o, 0), param(o, 1), opPadding(o));
  if (out < 1 || !shapeIs2(y, out, dim(x, 1))) return fail(E_OP, o, R_SHAPE);
  if (!sameQuant(x, y)) return fail(E_OP, o, R_QUANT);
  return OK;
}

export function check(o: i32): i32 {
  return checkWindowPool1d(o);
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o);
  max_pool2d_s8_c16(buf(x, batch), batch, 1, dim(x, 0), dim(x, 1), 1, param(o, 0), 1, param(o, 1), opPadding(o), buf(opOutput(o), batch));
}
