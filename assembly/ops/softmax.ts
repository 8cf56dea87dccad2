// softmax (op 8): int8 vector → float32 probabilities (the registry marks its output
// F32): the model's last op, where a classifier has one.

import { E_OP, OK, R_SHAPE, buf, dim, elems, fail, opInput, opOutput, rank, scaleOf, unused } from "../model/context";
import { softmax_s8_f32 } from "../kernels/activation";

export function check(o: i32): i32 {
  const s = unused(o, 0, 0);
  if (s != OK) return s;
  const x = opInput(o), y = opOutput(o);
  if (rank(x) != 1 || rank(y) != 1 || dim(y, 0) != dim(x, 0)) return fail(E_OP, o, R_SHAPE);
  return OK;
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o);
  softmax_s8_f32(buf(x, batch), batch, elems(x), scaleOf(x), buf(opOutput(o), batch));
}
