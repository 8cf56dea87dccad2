// A per-channel affine map of an int8 tensor (a batch normalization that cannot be
// folded into the layer before it): real y = a[c] · real x + b[c], c the last axis.
//
//   x = f32(q − zp_in) · m[c] + k[c],   m[c] = f32(scale_in · a[c] / scale_out),
//                                        k[c] = f32(b[c] / scale_out)
//   y = quantize(x, zp_out, −128, 127)
//
//   channel_affine_s8_ref    the definition: m and k computed for each value.
//   channel_affine_prepare   m[C] then k[C] into `table` (8·C bytes), once.
//   channel_affine_s8_table  the same f32 operations on the prepared m and k. Bit-exact.

import { quant_multiplier, quantize } from "../quant";

// m and k come from the one requantization rule (quant.ts): a takes the weight scale's
// place in m, and k is b in output units, quant_multiplier(b, 1, scale_out).

// ab: f32 [2][c], the a row then the b row.
export function channel_affine_s8_ref(x: usize, n: i32, c: i32, ab: usize, inScale: f32, inZp: i32, outScale: f32, outZp: i32, y: usize): void {
  for (let i = 0; i < n; i++) {
    const ch = i % c;
    const m = quant_multiplier(inScale, load<f32>(ab + (<usize>ch << 2)), outScale), k = quant_multiplier(load<f32>(ab + (<usize>(c + ch) << 2)), 1, outScale);
    store<i8>(y + <usize>i, quantize(<f32>(<i32>load<i8>(x + <usize>i) - inZp) * m + k, outZp, -128, 127));
  }
}

export function channel_affine_prepare(c: i32, ab: usize, inScale: f32, outScale: f32, table: usize): void {
  for (let ch = 0; ch < c; ch++) {
    store<f32>(table + (<usize>ch << 2), quant_multiplier(inScale, load<f32>(ab + (<usize>ch << 2)), outScale));
    store<f32>(table + (<usize>(c + ch) << 2), quant_multiplier(load<f32>(ab + (<usize>(c + ch) << 2)), 1, outScale));
  }
}

// n values, rows of c.
export function channel_affine_s8_table(x: usize, n: i32, c: i32, table: usize, inZp: i32, outZp: i32, y: usize): void {
  for (let r = 0; r < n; r += c) {
    for (let ch = 0; ch < c; ch++) {
      const v = <f32>(<i32>load<i8>(x + <usize>(r + ch)) - inZp) * load<f32>(table + (<usize>ch << 2)) + load<f32>(table + (<usize>(c + ch) << 2));
      store<i8>(y + <usize>(r + ch), quantize(v, outZp, -128, 127));
    }
  }
}
