// channel_affine (op 17): y = a[c] · x + b[c] per channel c (the last axis): a batch
// normalization that cannot be folded into the layer before it. Weights (field 12):
// f32 [2·C], the a row then the b row; prepare turns them into the kernel's m and k.

import { DTYPE_FLOAT32 } from "../format";
import { mem_alloc } from "../memory";
import { quant_multiplier } from "../quant";
import { E_MEMORY, E_OP, E_TENSOR, OK, R_FIELD, R_LIMIT, R_SHAPE, R_TENSOR_REF, U_WEIGHTS, buf, constData, dim, elems, fail,
  finite, isConstant, lastDim, opInput, opOutput, opWeights, packedOf, sameShape, scaleOf, setPacked, unused, zeroOf } from "../model/context";
import { channel_affine_prepare, channel_affine_s8_table } from "../kernels/channel_affine";

export function check(o: i32): i32 {
  const s = unused(o, U_WEIGHTS, 0);
  if (s != OK) return s;
  const x = opInput(o), y = opOutput(o), w = opWeights(o);
  if (!sameShape(x, y)) return fail(E_OP, o, R_SHAPE);
  const c = lastDim(x);
  if (!isConstant(w, DTYPE_FLOAT32, 1) || dim(w, 0) != 2 * c) return fail(E_OP, o, R_TENSOR_REF);
  const pa = constData(w);
  const sx = scaleOf(x), sy = scaleOf(y);
  for (let i = 0; i < c; i++) {
    const a = load<f32>(pa + (<usize>i << 2)), b = load<f32>(pa + (<usize>(c + i) << 2));
    if (!finite(a) || !finite(b) || !finite(quant_multiplier(sx, a, sy)) || !finite(quant_multiplier(b, 1, sy))) return fail(E_TENSOR, w, R_FIELD);
  }
  return OK;
}

export function prepare(o: i32): i32 {
  const x = opInput(o), c = lastDim(x);
  const table = mem_alloc(<usize>c << 3);
  if (!table) return fail(E_MEMORY, o, R_LIMIT);
  channel_affine_prepare(c, constData(opWeights(o)), scaleOf(x), scaleOf(opOutput(o)), table);
  setPacked(o, table, <usize>c << 3);
  return OK;
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o), y = opOutput(o);
  channel_affine_s8_table(buf(x, batch), batch * elems(x), lastDim(x), packedOf(o), zeroOf(x), zeroOf(y), buf(y, batch));
}
