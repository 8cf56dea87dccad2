// 2-D convolution, int8 NHWC input, OHWI weights, per-output-channel weight scales,
// int32 bias, fused ReLU / ReLU6 through the output clamp.
//
//   conv2d_s8_ref     the definition: direct loops, unpacked weights.
//   conv2d_s8_im2col  packs each output row's patches into `scratch` (padding filled
//                     with zp_in, i.e. real 0), then runs gemm_s8 on the row.
//                     Weights come packed by gemm_pack with K = kh·kw·c.
//                     scratch: conv2d_scratch_size bytes. Over-read: up to 7 bytes past
//                     the end of x (MEM_SLACK). Bit-exact with the reference.

import { quant_act_max, quant_act_min, quant_multiplier, requantize } from "../quant";
import { GEMM_OUT_S8, gemm_s8 } from "./gemm";
import { window_out_size, window_pad_before } from "./window";

export function conv2d_s8_ref(
  x: usize, batch: i32, h: i32, w: i32, c: i32,
  weights: usize, bias: usize, wscale: usize, oc: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, pad: i32,
  inScale: f32, inZp: i32, outScale: f32, outZp: i32, act: i32, y: usize,
): void {
  const oh = window_out_size(h, kh, sh, pad);
  const ow = window_out_size(w, kw, sw, pad);
  const pt = window_pad_before(h, kh, sh, pad);
  const pl = window_pad_before(w, kw, sw, pad);
  const qmin = quant_act_min(act, outScale, outZp);
  const qmax = quant_act_max(act, outScale, outZp);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let o = 0; o < oc; o++) {
          let acc: i32 = load<i32>(bias + (<usize>o << 2));
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pl + kx;
              if (ix < 0 || ix >= w) continue;
              const px = x + <usize>(((b * h + iy) * w + ix) * c);
              const pw = weights + <usize>(((o * kh + ky) * kw + kx) * c);
              for (let i = 0; i < c; i++) {
                acc += (<i32>load<i8>(px + i) - inZp) * <i32>load<i8>(pw + i);
              }
            }
          }
          const m = quant_multiplier(inScale, load<f32>(wscale + (<usize>o << 2)), outScale);
          store<i8>(y + <usize>(((b * oh + oy) * ow + ox) * oc + o), requantize(acc, m, outZp, qmin, qmax));
        }
      }
    }
  }
}

export function conv2d_scratch_size(w: i32, c: i32, kh: i32, kw: i32, sw: i32, pad: i32): usize {
  const ow = window_out_size(w, kw, sw, pad);
  return <usize>ow * <usize>((kh * kw * c + 7) & ~7);
}

// Patch rows are short, where memory.copy's and memory.fill's call cost dominates.
// copySmall moves whole 8-byte words: it may read up to 7 bytes past `src + n` and
// write up to 7 bytes past `dst + n`. Segments are written in increasing order, so
// the spill is overwritten by the next segment or lands in the row's k..Kp tail or
// in the scratch's MEM_SLACK.
// @ts-ignore: decorator
@inline function copySmall(dst: usize, src: usize, n: i32): void {
  if (n >= 64) { memory.copy(dst, src, n); return; }
  for (let i = 0; i < n; i += 8) store<u64>(dst + i, load<u64>(src + i));
}

// @ts-ignore: decorator
@inline function fillSmall(dst: usize, value: u8, n: i32): void {
  if (n >= 32) { memory.fill(dst, value, n); return; }
  for (let i = 0; i < n; i++) store<u8>(dst + i, value);
}

export function conv2d_s8_im2col(
  x: usize, batch: i32, h: i32, w: i32, c: i32,
  packed: usize, oc: i32, kh: i32, kw: i32, sh: i32, sw: i32, pad: i32,
  inZp: i32, outScale: f32, outZp: i32, act: i32, y: usize, scratch: usize,
): void {
  const oh = window_out_size(h, kh, sh, pad);
  const ow = window_out_size(w, kw, sw, pad);
  const pt = window_pad_before(h, kh, sh, pad);
  const pl = window_pad_before(w, kw, sw, pad);
  const qmin = quant_act_min(act, outScale, outZp);
  const qmax = quant_act_max(act, outScale, outZp);
  const k = kh * kw * c;
  const kp = (k + 7) & ~7;
  const padByte = <u8>inZp; // the real value 0
  for (let b = 0; b < batch; b++) {
    const xb = x + <usize>(b * h * w * c);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let dst = scratch + <usize>(ox * kp);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky;
          const ix0 = ox * sw - pl;
          if (iy < 0 || iy >= h) {
            fillSmall(dst, padByte, kw * c);
          } else if (ix0 >= 0 && ix0 + kw <= w) {
            copySmall(dst, xb + <usize>((iy * w + ix0) * c), kw * c);
          } else {
            for (let kx = 0; kx < kw; kx++) {
              const ix = ix0 + kx;
              if (ix < 0 || ix >= w) fillSmall(dst + <usize>(kx * c), padByte, c);
              else copySmall(dst + <usize>(kx * c), xb + <usize>((iy * w + ix) * c), c);
            }
          }
          dst += <usize>(kw * c);
        }
        // Columns k..kp stay as they are: their packed weights are zero.
      }
      gemm_s8(ow, oc, k, scratch, kp, packed,
        y + <usize>((b * oh + oy) * ow * oc), oc, GEMM_OUT_S8, outZp, qmin, qmax);
    }
  }
}
