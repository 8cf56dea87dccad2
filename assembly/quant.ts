// The quantization contract's one requantization rule (docs/QUANTIZATION.md).
//
//   q = clamp(round_half_even(x), qmin - zp, qmax - zp) + zp,   x = f32(acc) * multiplier
//
// All arithmetic is IEEE f32, which WebAssembly defines exactly (no fused multiply-add,
// no extended precision), so the scalar form and the f32x4 form below agree bit for bit
// in every engine. This is XNNPACK's "fp32" requantization.

import { ACT_NONE, ACT_RELU6 } from "./format";

// f32(in_scale * weight_scale / out_scale), rounded once from f64. The multiplier
// is computed here only, so every kernel variant and every host agrees on it.
export function quant_multiplier(inScale: f32, weightScale: f32, outScale: f32): f32 {
  return <f32>((<f64>inScale * <f64>weightScale) / <f64>outScale);
}

// Lower end of the int8 output range once a fused activation is applied.
export function quant_act_min(act: i32, scale: f32, zp: i32): i32 {
  if (act == ACT_NONE) return -128;
  return max(-128, zp);
}

// Upper end of the int8 output range once a fused activation is applied.
export function quant_act_max(act: i32, scale: f32, zp: i32): i32 {
  if (act != ACT_RELU6) return 127;
  return min(127, zp + <i32>nearest(<f32>6.0 / scale));
}

// Real value `x` already divided by the output scale → int8 code.
// @ts-ignore: decorator
@inline export function quantize(x: f32, zp: i32, qmin: i32, qmax: i32): i32 {
  x = min(max(x, <f32>(qmin - zp)), <f32>(qmax - zp));
  return <i32>nearest(x) + zp;
}

// int32 accumulator → int8 code.
// @ts-ignore: decorator
@inline export function requantize(acc: i32, multiplier: f32, zp: i32, qmin: i32, qmax: i32): i32 {
  return quantize(<f32>acc * multiplier, zp, qmin, qmax);
}

// f32x4 form of `quantize`: lo = f32x4(qmin - zp), hi = f32x4(qmax - zp),
// magic = i32x4(MAGIC_BITS - zp). Bit-exact with the scalar form, with cheaper steps:
// - pmin/pmax instead of min/max: they differ only on NaN and on the sign of zero,
//   neither of which changes the integer result (x is finite; ±0 both round to 0);
// - adding 1.5·2^23 rounds an f32 with |x| < 2^22 to an integer, half to even (the
//   IEEE default), which then sits in the low mantissa bits: nearest() and the
//   conversion in two instructions, zero point folded into the subtraction.
// @ts-ignore: decorator
@inline export function quantize4(x: v128, magic: v128, lo: v128, hi: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, lo), hi);
  return i32x4.sub(f32x4.add(x, f32x4.splat(MAGIC)), magic);
}

export const MAGIC: f32 = 12582912.0; // 1.5 · 2^23
export const MAGIC_BITS: i32 = 0x4b400000;

// i32x4 form of `requantize`.
// @ts-ignore: decorator
@inline export function requantize4(acc: v128, multiplier: v128, magic: v128, lo: v128, hi: v128): v128 {
  return quantize4(f32x4.mul(f32x4.convert_i32x4_s(acc), multiplier), magic, lo, hi);
}

// Average of `count` int8 codes whose sum is `sum`, rounded half away from zero
// (TFLite's average pooling rule).
// @ts-ignore: decorator
@inline export function roundedAverage(sum: i32, count: i32): i32 {
  const half = count >> 1;
  return (sum >= 0 ? sum + half : sum - half) / count;
}
