// Elementwise multiply of two int8 tensors with their own (scale, zero point), into a
// third; b is as long as a (per batch item) or a vector broadcast over a's last axis
// (nb values), e.g. squeeze-and-excitation's per-channel gate. Fused ReLU / ReLU6.
//
//   x = f32((a − za) · (b − zb)) · m,   m = sa · sb / sy   (quant_multiplier; the integer
//   product is at most 255², exact in f32)
//   y = quantize(x, zy, qmin, qmax)
//
//   multiply_s8_ref   the definition, value by value.
//   multiply_s8_x16   16 values per step in f32x4 lanes (the same operations); the rest as
//                     the reference. No over-read. Bit-exact with the reference.

import { MAGIC_BITS, quant_act_max, quant_act_min, quant_multiplier, quantize, quantize4 } from "../quant";

export function multiply_s8_ref(
  a: usize, b: usize, batch: i32, n: i32, nb: i32,
  aScale: f32, aZp: i32, bScale: f32, bZp: i32, outScale: f32, outZp: i32, act: i32, y: usize,
): void {
  const m = quant_multiplier(aScale, bScale, outScale);
  const qmin = quant_act_min(act, outScale, outZp), qmax = quant_act_max(act, outScale, outZp);
  for (let i = 0; i < batch; i++) {
    for (let j = 0; j < n; j++) {
      const av = <i32>load<i8>(a + <usize>(i * n + j)), bv = <i32>load<i8>(b + <usize>(i * nb + j % nb));
      store<i8>(y + <usize>(i * n + j), quantize(<f32>((av - aZp) * (bv - bZp)) * m, outZp, qmin, qmax));
    }
  }
}

export function multiply_s8_x16(
  a: usize, b: usize, batch: i32, n: i32, nb: i32,
  aScale: f32, aZp: i32, bScale: f32, bZp: i32, outScale: f32, outZp: i32, act: i32, y: usize,
): void {
  const m = quant_multiplier(aScale, bScale, outScale);
  const qmin = quant_act_min(act, outScale, outZp), qmax = quant_act_max(act, outScale, outZp);
  for (let i = 0; i < batch; i++) {
    for (let r = 0; r < n; r += nb) {
      const pa = a + <usize>(i * n + r), pb = b + <usize>(i * nb), py = y + <usize>(i * n + r);
      let j = 0;
      if (ASC_FEATURE_SIMD) j = multiply16(pa, pb, py, nb, m, aZp, bZp, outZp, qmin, qmax);
      for (; j < nb; j++) {
        const x = <f32>((<i32>load<i8>(pa + j) - aZp) * (<i32>load<i8>(pb + j) - bZp)) * m;
        store<i8>(py + j, quantize(x, outZp, qmin, qmax));
      }
    }
  }
}

// @ts-ignore: decorator
@inline function multiply16(pa: usize, pb: usize, py: usize, n: i32, m: f32, aZp: i32, bZp: i32, outZp: i32, qmin: i32, qmax: i32): i32 {
  const vm = f32x4.splat(m);
  const za = i16x8.splat(<i16>aZp), zb = i16x8.splat(<i16>bZp);
  const magic = i32x4.splat(MAGIC_BITS - outZp);
  const lo = f32x4.splat(<f32>(qmin - outZp)), hi = f32x4.splat(<f32>(qmax - outZp));
  let j = 0;
  for (; j + 16 <= n; j += 16) {
    const x = v128.load(pa + j), z = v128.load(pb + j);
    const a0 = i16x8.sub(i16x8.extend_low_i8x16_s(x), za), a1 = i16x8.sub(i16x8.extend_high_i8x16_s(x), za);
    const b0 = i16x8.sub(i16x8.extend_low_i8x16_s(z), zb), b1 = i16x8.sub(i16x8.extend_high_i8x16_s(z), zb);
    const q0 = quantize4(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extmul_low_i16x8_s(a0, b0)), vm), magic, lo, hi);
    const q1 = quantize4(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extmul_high_i16x8_s(a0, b0)), vm), magic, lo, hi);
    const q2 = quantize4(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extmul_low_i16x8_s(a1, b1)), vm), magic, lo, hi);
    const q3 = quantize4(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extmul_high_i16x8_s(a1, b1)), vm), magic, lo, hi);
    v128.store(py + j, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
  }
  return j;
}
