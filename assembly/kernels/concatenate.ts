// Concatenation of two int8 tensors on the last (channel) axis: rows of ca and cb values
// into rows of ca + cb, each input requantized to the output's (scale, zero point):
//
//   x = f32(q − z) · m,   m = s_in / s_out   (quant_multiplier)
//   y = quantize(x, zy, −128, 127)
//
// An input with the output's quantization is copied exactly (m = 1, x = q − zy).
//
//   concatenate_s8_ref   the definition, value by value.
//   concatenate_s8_x16   16 values per step in f32x4 lanes; the rest as the reference. No
//                   over-read. Bit-exact with the reference.

import { MAGIC_BITS, quant_multiplier, quantize, quantize4 } from "../quant";

export function concatenate_s8_ref(
  a: usize, b: usize, rows: i32, ca: i32, cb: i32,
  aScale: f32, aZp: i32, bScale: f32, bZp: i32, outScale: f32, outZp: i32, y: usize,
): void {
  const ma = quant_multiplier(aScale, 1, outScale), mb = quant_multiplier(bScale, 1, outScale);
  const c = ca + cb;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < ca; j++) {
      store<i8>(y + <usize>(r * c + j), quantize(<f32>(<i32>load<i8>(a + <usize>(r * ca + j)) - aZp) * ma, outZp, -128, 127));
    }
    for (let j = 0; j < cb; j++) {
      store<i8>(y + <usize>(r * c + ca + j), quantize(<f32>(<i32>load<i8>(b + <usize>(r * cb + j)) - bZp) * mb, outZp, -128, 127));
    }
  }
}

export function concatenate_s8_x16(
  a: usize, b: usize, rows: i32, ca: i32, cb: i32,
  aScale: f32, aZp: i32, bScale: f32, bZp: i32, outScale: f32, outZp: i32, y: usize,
): void {
  const ma = quant_multiplier(aScale, 1, outScale), mb = quant_multiplier(bScale, 1, outScale);
  const c = ca + cb;
  for (let r = 0; r < rows; r++) {
    segment(a + <usize>(r * ca), y + <usize>(r * c), ca, aZp, ma, outZp);
    segment(b + <usize>(r * cb), y + <usize>(r * c + ca), cb, bZp, mb, outZp);
  }
}

// n values requantized from zero point z by multiplier m.
// @ts-ignore: decorator
@inline function segment(src: usize, dst: usize, n: i32, z: i32, m: f32, outZp: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f32x4.splat(m), vz = i16x8.splat(<i16>z);
    const magic = i32x4.splat(MAGIC_BITS - outZp);
    const lo = f32x4.splat(<f32>(<i32>-128 - outZp)), hi = f32x4.splat(<f32>(<i32>127 - outZp));
    for (; j + 16 <= n; j += 16) {
      const x = v128.load(src + j);
      const x0 = i16x8.sub(i16x8.extend_low_i8x16_s(x), vz), x1 = i16x8.sub(i16x8.extend_high_i8x16_s(x), vz);
      const q0 = quantize4(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(x0)), vm), magic, lo, hi);
      const q1 = quantize4(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(x0)), vm), magic, lo, hi);
      const q2 = quantize4(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(x1)), vm), magic, lo, hi);
      const q3 = quantize4(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(x1)), vm), magic, lo, hi);
      v128.store(dst + j, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
    }
  }
  for (; j < n; j++) store<i8>(dst + j, quantize(<f32>(<i32>load<i8>(src + j) - z) * m, outZp, -128, 127));
}
