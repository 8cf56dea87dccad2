// Elementwise add of two int8 tensors with their own (scale, zero point), into a third;
// b is either as long as a (per batch item) or a vector broadcast over a's last axis
// (nb values: a holds rows of nb). Fused ReLU / ReLU6 through the output clamp.
//
//   x = f32(a − za) · ma + f32(b − zb) · mb,   ma = sa / sy, mb = sb / sy   (quant_multiplier)
//   y = quantize(x, zy, qmin, qmax)
//
//   add_s8_ref   the definition, value by value.
//   add_s8_x16   16 values per step: the same f32 operations in f32x4 lanes (WebAssembly
//                has no fused multiply-add, so lanes round as the scalar does); the rest
//                as the reference. No over-read. Bit-exact with the reference.

import { MAGIC_BITS, quant_act_max, quant_act_min, quant_multiplier, quantize, quantize4 } from "../quant";

export function add_s8_ref(
  a: usize, b: usize, batch: i32, n: i32, nb: i32,
  aScale: f32, aZp: i32, bScale: f32, bZp: i32, outScale: f32, outZp: i32, act: i32, y: usize,
): void {
  const ma = quant_multiplier(aScale, 1, outScale), mb = quant_multiplier(bScale, 1, outScale);
  const qmin = quant_act_min(act, outScale, outZp), qmax = quant_act_max(act, outScale, outZp);
  for (let i = 0; i < batch; i++) {
    for (let j = 0; j < n; j++) {
      const av = <i32>load<i8>(a + <usize>(i * n + j)), bv = <i32>load<i8>(b + <usize>(i * nb + j % nb));
      const x = <f32>(av - aZp) * ma + <f32>(bv - bZp) * mb;
      store<i8>(y + <usize>(i * n + j), quantize(x, outZp, qmin, qmax));
    }
  }
}

export function add_s8_x16(
  a: usize, b: usize, batch: i32, n: i32, nb: i32,
  aScale: f32, aZp: i32, bScale: f32, bZp: i32, outScale: f32, outZp: i32, act: i32, y: usize,
): void {
  const ma = quant_multiplier(aScale, 1, outScale), mb = quant_multiplier(bScale, 1, outScale);
  const qmin = quant_act_min(act, outScale, outZp), qmax = quant_act_max(act, outScale, outZp);
  for (let i = 0; i < batch; i++) {
    for (let r = 0; r < n; r += nb) { // a row of nb values against b
      const pa = a + <usize>(i * n + r), pb = b + <usize>(i * nb), py = y + <usize>(i * n + r);
      let j = 0;
      if (ASC_FEATURE_SIMD) j = add16(pa, pb, py, nb, ma, mb, aZp, bZp, outZp, qmin, qmax);
      for (; j < nb; j++) {
        const x = <f32>(<i32>load<i8>(pa + j) - aZp) * ma + <f32>(<i32>load<i8>(pb + j) - bZp) * mb;
        store<i8>(py + j, quantize(x, outZp, qmin, qmax));
      }
    }
  }
}

// Values [0, n & ~15) of one row; returns how many it did. SIMD builds only.
// @ts-ignore: decorator
@inline function add16(pa: usize, pb: usize, py: usize, n: i32, ma: f32, mb: f32, aZp: i32, bZp: i32, outZp: i32, qmin: i32, qmax: i32): i32 {
  const va = f32x4.splat(ma), vb = f32x4.splat(mb);
  const za = i16x8.splat(<i16>aZp), zb = i16x8.splat(<i16>bZp);
  const magic = i32x4.splat(MAGIC_BITS - outZp);
  const lo = f32x4.splat(<f32>(qmin - outZp)), hi = f32x4.splat(<f32>(qmax - outZp));
  let j = 0;
  for (; j + 16 <= n; j += 16) {
    const x = v128.load(pa + j), z = v128.load(pb + j);
    // int8 − zero point fits int16: [−255, 255]
    const a0 = i16x8.sub(i16x8.extend_low_i8x16_s(x), za), a1 = i16x8.sub(i16x8.extend_high_i8x16_s(x), za);
    const b0 = i16x8.sub(i16x8.extend_low_i8x16_s(z), zb), b1 = i16x8.sub(i16x8.extend_high_i8x16_s(z), zb);
    const q0 = quantize4(f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(a0)), va), f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(b0)), vb)), magic, lo, hi);
    const q1 = quantize4(f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(a0)), va), f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(b0)), vb)), magic, lo, hi);
    const q2 = quantize4(f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(a1)), va), f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(b1)), vb)), magic, lo, hi);
    const q3 = quantize4(f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(a1)), va), f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(b1)), vb)), magic, lo, hi);
    v128.store(py + j, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
  }
  return j;
}
