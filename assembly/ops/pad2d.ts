// pad2d (op 16): zero padding of H and W (filled with the zero point, real 0); the
// output keeps the input's quantization. params: top, bottom, left, right. The
// converter folds it into the next convolution's 'same' padding where that is exact.

import { E_OP, OK, R_PARAM, R_QUANT, R_SHAPE, buf, dim, fail, opInput, opOutput, param, rank, sameQuant, shapeIs3, unused,
  zeroOf } from "../model/context";
import { pad2d_s8_rows } from "../kernels/pad2d";

export function check(o: i32): i32 {
  const s = unused(o, 0, 4);
  if (s != OK) return s;
  for (let i = 0; i < 4; i++) if (param(o, i) < 0 || param(o, i) > 4096) return fail(E_OP, o, R_PARAM);
  const x = opInput(o);
  if (rank(x) != 3 || !shapeIs3(opOutput(o), dim(x, 0) + param(o, 0) + param(o, 1), dim(x, 1) + param(o, 2) + param(o, 3), dim(x, 2))) return fail(E_OP, o, R_SHAPE);
  if (!sameQuant(x, opOutput(o))) return fail(E_OP, o, R_QUANT);
  return OK;
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o);
  pad2d_s8_rows(buf(x, batch), batch, dim(x, 0), dim(x, 1), dim(x, 2), param(o, 0), param(o, 1), param(o, 2), param(o, 3),
    zeroOf(x), buf(opOutput(o), batch));
}
