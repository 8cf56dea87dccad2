// upsample2d (op 15): nearest-neighbour upsampling by whole factors, [h, w, c] →
// [h·fh, w·fw, c]; the output keeps the input's quantization. params: fh, fw.

import { E_OP, OK, R_PARAM, R_QUANT, R_SHAPE, buf, dim, fail, opInput, opOutput, param, rank, sameQuant, shapeIs3, unused } from "../model/context";
import { upsample2d_s8_rows } from "../kernels/upsample2d";

export function check(o: i32): i32 {
  const s = unused(o, 0, 2);
  if (s != OK) return s;
  const x = opInput(o), fh = param(o, 0), fw = param(o, 1);
  if (fh < 1 || fw < 1 || fh > 64 || fw > 64) return fail(E_OP, o, R_PARAM);
  if (rank(x) != 3 || !shapeIs3(opOutput(o), dim(x, 0) * fh, dim(x, 1) * fw, dim(x, 2))) return fail(E_OP, o, R_SHAPE);
  if (!sameQuant(x, opOutput(o))) return fail(E_OP, o, R_QUANT);
  return OK;
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o);
  upsample2d_s8_rows(buf(x, batch), batch, dim(x, 0), dim(x, 1), dim(x, 2), param(o, 0), param(o, 1), buf(opOutput(o), batch));
}
