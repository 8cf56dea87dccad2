// Fully connected layer: int8 [batch][k] input, weights [n][k] with per-output-channel
// scales, int32 bias, fused ReLU / ReLU6 through the output clamp.
//
//   dense_s8_ref      the definition.
//   dense_s8_gemm    gemm_s8 on weights packed by gemm_pack. Over-read: up to
//                     7 bytes past the end of x when k is not a multiple of 8.

import { quant_act_max, quant_act_min, quant_multiplier, requantize } from "../quant";
import { GEMM_OUT_S8, gemm_s8 } from "./gemm";

export function dense_s8_ref(
  x: usize, batch: i32, k: i32, weights: usize, bias: usize, wscale: usize, n: i32,
  inScale: f32, inZp: i32, outScale: f32, outZp: i32, act: i32, y: usize,
): void {
  const qmin = quant_act_min(act, outScale, outZp);
  const qmax = quant_act_max(act, outScale, outZp);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < n; o++) {
      let acc: i32 = load<i32>(bias + (<usize>o << 2));
      for (let i = 0; i < k; i++) {
        acc += (<i32>load<i8>(x + <usize>(b * k + i)) - inZp) * <i32>load<i8>(weights + <usize>(o * k + i));
      }
      const m = quant_multiplier(inScale, load<f32>(wscale + (<usize>o << 2)), outScale);
      store<i8>(y + <usize>(b * n + o), requantize(acc, m, outZp, qmin, qmax));
    }
  }
}

export function dense_s8_gemm(
  x: usize, batch: i32, k: i32, packed: usize, n: i32,
  outScale: f32, outZp: i32, act: i32, y: usize,
): void {
  gemm_s8(batch, n, k, x, k, packed, y, n, GEMM_OUT_S8, outZp,
    quant_act_min(act, outScale, outZp), quant_act_max(act, outScale, outZp));
}
