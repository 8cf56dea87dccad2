// 1-D convolution over a sequence, int8 [steps][channels] input, weights
// [filters][k][channels] with per-filter scales, int32 bias, stride, dilation, padding
// 'valid' / 'same' / 'causal' (window.ts; the window is the dilated span
// (k − 1) · dilation + 1), fused ReLU / ReLU6 through the output clamp.
//
//   conv1d_s8_ref     the definition: direct loops, unpacked weights.
//   conv1d_s8_im2col  copies the (dilated) patch of each output step, k taps of c bytes,
//                     into one row of `scratch` (padding filled with zp_in, i.e. real 0),
//                     CHUNK rows at a time, and runs gemm_s8 on them; a 1-tap stride-1
//                     conv needs no patches: one gemm_s8 over the input's steps.
//                     Weights come packed by gemm_pack with K = k·c.
//                     scratch: conv1d_scratch_size bytes. Over-read: up to 7 bytes past
//                     the end of x (MEM_SLACK). Bit-exact with the reference.

import { quant_act_max, quant_act_min, quant_multiplier, requantize } from "../quant";
import { GEMM_OUT_S8, gemm_s8 } from "./gemm";
import { copySmall, fillSmall } from "./conv2d";
import { window_out_size, window_pad_before } from "./window";

// Output steps per gemm call: bounds the scratch for long sequences (audio) while
// keeping the gemm's calls few.
const CHUNK: i32 = 64;

// @ts-ignore: decorator
@inline function span(k: i32, dilation: i32): i32 { return (k - 1) * dilation + 1; }

export function conv1d_s8_ref(
  x: usize, batch: i32, steps: i32, c: i32,
  weights: usize, bias: usize, wscale: usize, f: i32, k: i32,
  stride: i32, dilation: i32, pad: i32,
  inScale: f32, inZp: i32, outScale: f32, outZp: i32, act: i32, y: usize,
): void {
  const out = window_out_size(steps, span(k, dilation), stride, pad);
  const before = window_pad_before(steps, span(k, dilation), stride, pad);
  const qmin = quant_act_min(act, outScale, outZp);
  const qmax = quant_act_max(act, outScale, outZp);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < out; t++) {
      for (let o = 0; o < f; o++) {
        let acc: i32 = bias ? load<i32>(bias + (<usize>o << 2)) : 0;
        for (let j = 0; j < k; j++) {
          const i = t * stride - before + j * dilation;
          if (i < 0 || i >= steps) continue;
          const px = x + <usize>((b * steps + i) * c);
          const pw = weights + <usize>((o * k + j) * c);
          for (let ci = 0; ci < c; ci++) acc += (<i32>load<i8>(px + ci) - inZp) * <i32>load<i8>(pw + ci);
        }
        const m = quant_multiplier(inScale, load<f32>(wscale + (<usize>o << 2)), outScale);
        store<i8>(y + <usize>((b * out + t) * f + o), requantize(acc, m, outZp, qmin, qmax));
      }
    }
  }
}

export function conv1d_scratch_size(steps: i32, c: i32, k: i32, stride: i32, dilation: i32, pad: i32): usize {
  const out = window_out_size(steps, span(k, dilation), stride, pad);
  return <usize>min(out, CHUNK) * <usize>((k * c + 7) & ~7);
}

export function conv1d_s8_im2col(
  x: usize, batch: i32, steps: i32, c: i32,
  packed: usize, f: i32, k: i32, stride: i32, dilation: i32, pad: i32,
  inZp: i32, outScale: f32, outZp: i32, act: i32, y: usize, scratch: usize,
): void {
  const out = window_out_size(steps, span(k, dilation), stride, pad);
  const before = window_pad_before(steps, span(k, dilation), stride, pad);
  const qmin = quant_act_min(act, outScale, outZp);
  const qmax = quant_act_max(act, outScale, outZp);
  const kc = k * c;
  const kp = (kc + 7) & ~7;
  if (k == 1 && stride == 1) {
    // One tap, every step: the input's steps are the patch rows (rows c apart, the
    // gemm's kp − c extra bytes of each meeting zero weights), one gemm over them all.
    gemm_s8(batch * steps, f, kc, x, c, packed, y, f, GEMM_OUT_S8, outZp, qmin, qmax);
    return;
  }
  const padByte = <u8>inZp;
  for (let b = 0; b < batch; b++) {
    const xb = x + <usize>(b * steps * c);
    for (let t0 = 0; t0 < out; t0 += CHUNK) {
      const rows = min(CHUNK, out - t0);
      for (let r = 0; r < rows; r++) {
        const dst = scratch + <usize>(r * kp);
        const first = (t0 + r) * stride - before;
        if (dilation == 1 && first >= 0 && first + k <= steps) {
          copySmall(dst, xb + <usize>(first * c), kc); // the taps are adjacent: one copy
          continue;
        }
        for (let j = 0; j < k; j++) {
          const i = first + j * dilation;
          if (i < 0 || i >= steps) fillSmall(dst + <usize>(j * c), padByte, c);
          else copySmall(dst + <usize>(j * c), xb + <usize>(i * c), c);
        }
        // Columns kc..kp stay as they are: their packed weights are zero.
      }
      gemm_s8(rows, f, kc, scratch, kp, packed, y + <usize>((b * out + t0) * f), f, GEMM_OUT_S8, outZp, qmin, qmax);
    }
  }
}
