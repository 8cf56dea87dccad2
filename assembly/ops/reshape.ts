// reshape (op 7): the same values under another shape (flatten included). The output
// shares the input's buffer (the registry marks it ALIAS), so it runs nothing.

import { E_OP, OK, R_QUANT, R_SHAPE, elems, fail, opInput, opOutput, sameQuant, unused } from "../model/context";

export function check(o: i32): i32 {
  const s = unused(o, 0, 0);
  if (s != OK) return s;
  const x = opInput(o), y = opOutput(o);
  if (elems(y) != elems(x)) return fail(E_OP, o, R_SHAPE);
  if (!sameQuant(x, y)) return fail(E_OP, o, R_QUANT);
  return OK;
}

export function run(o: i32, batch: i32): void {}
