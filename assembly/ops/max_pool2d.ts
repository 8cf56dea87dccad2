// max_pool2d (op 3): the largest value of each window, int8 NHWC; the output keeps the
// input's quantization. params: window h, w, stride h, w; padding 'same' / 'valid'
// (padded positions are ignored). Runs inside the conv2d before it where conv2d's
// fuseNext says so.

import {
  E_OP, OK, R_PARAM, R_QUANT, R_SHAPE, U_PADDING, buf, dim, fail, opInput, opOutput, opPadding, param, rank, sameQuant,
  shapeIs3, unused, validOrSame,
} from "../model/context";
import { max_pool2d_s8_c16 } from "../kernels/pool2d";
import { window_out_size } from "../kernels/window";

// max_pool2d's and avg_pool2d's checks: the same fields and shapes.
export function checkWindowPool(o: i32): i32 {
  const s = unused(o, U_PADDING, 4);
  if (s != OK) return s;
  const x = opInput(o), y = opOutput(o);
  if (rank(x) != 3) return fail(E_OP, o, R_SHAPE);
  for (let i = 0; i < 4; i++) if (param(o, i) < 1 || param(o, i) > 4096) return fail(E_OP, o, R_PARAM);
  if (!validOrSame(opPadding(o))) return fail(E_OP, o, R_PARAM);
  const oh = window_out_size(dim(x, 0), param(o, 0), param(o, 2), opPadding(o));
  const ow = window_out_size(dim(x, 1), param(o, 1), param(o, 3), opPadding(o));
  if (oh < 1 || ow < 1 || !shapeIs3(y, oh, ow, dim(x, 2))) return fail(E_OP, o, R_SHAPE);
  if (!sameQuant(x, y)) return fail(E_OP, o, R_QUANT);
  return OK;
}

export function check(o: i32): i32 {
  return checkWindowPool(o);
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o);
  max_pool2d_s8_c16(buf(x, batch), batch, dim(x, 0), dim(x, 1), dim(x, 2), param(o, 0), param(o, 1), param(o, 2), param(o, 3),
    opPadding(o), buf(opOutput(o), batch));
}
