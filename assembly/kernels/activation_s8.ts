// The activation op: a float function of an int8 tensor into another int8 tensor,
//
//   v = f32(x − zp_in) · scale_in,   y = quantize(f(v) · f32(1 / scale_out), zp_out, −128, 127)
//
// with f one of ACT_F_* (sigmoid, tanh, hard sigmoid, swish, hard swish, leaky ReLU,
// ELU, ReLU, ReLU6, linear); alpha is leaky ReLU's slope or ELU's scale.
//
//   activation_s8_ref     the definition, value by value.
//   activation_s8_lut     a lookup in the op's 256 possible outputs, which
//                         activation_s8_table computes once with the same f32 function:
//                         bit-exact with the reference by construction, in every build.

import {
  ACT_F_ELU, ACT_F_HARD_SWISH, ACT_F_LEAKY_RELU, ACT_F_RELU6, ACT_F_SWISH,
} from "../format";
import { quantize } from "../quant";
import { activate_f32, exp_f32, sigmoid_f32 } from "./activation";

export function activation_value(act: i32, v: f32, alpha: f32): f32 {
  if (act == ACT_F_RELU6) return min(max(v, <f32>0.0), <f32>6.0);
  if (act == ACT_F_SWISH) return v * sigmoid_f32(v);
  if (act == ACT_F_HARD_SWISH) return v * min(max(v + <f32>3.0, <f32>0.0), <f32>6.0) * (<f32>1.0 / <f32>6.0);
  if (act == ACT_F_LEAKY_RELU) return v >= 0 ? v : alpha * v;
  if (act == ACT_F_ELU) return v > 0 ? v : alpha * (exp_f32(v) - <f32>1.0);
  return activate_f32(act, v); // linear, ReLU, tanh, sigmoid, hard sigmoid
}

// @ts-ignore: decorator
@inline function one(q: i32, act: i32, alpha: f32, inScale: f32, inZp: i32, inv: f32, outZp: i32): i32 {
  return quantize(activation_value(act, <f32>(q - inZp) * inScale, alpha) * inv, outZp, -128, 127);
}

export function activation_s8_ref(
  x: usize, n: i32, act: i32, alpha: f32, inScale: f32, inZp: i32, outScale: f32, outZp: i32, y: usize,
): void {
  const inv = <f32>1.0 / outScale;
  for (let i = 0; i < n; i++) store<i8>(y + <usize>i, one(<i32>load<i8>(x + <usize>i), act, alpha, inScale, inZp, inv, outZp));
}

// table: 256 bytes, the output for input code q at q + 128.
export function activation_s8_table(act: i32, alpha: f32, inScale: f32, inZp: i32, outScale: f32, outZp: i32, table: usize): void {
  const inv = <f32>1.0 / outScale;
  for (let q = -128; q < 128; q++) store<i8>(table + <usize>(q + 128), one(q, act, alpha, inScale, inZp, inv, outZp));
}

export function activation_s8_lut(x: usize, n: i32, table: usize, y: usize): void {
  for (let i = 0; i < n; i++) store<i8>(y + <usize>i, load<i8>(table + <usize>(<i32>load<i8>(x + <usize>i) + 128)));
}
