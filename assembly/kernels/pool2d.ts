// Max and average pooling, int8 NHWC. Output keeps the input's (scale, zero point).
// Padded positions are ignored: max over the valid ones, average over their count
// (TensorFlow's 'same' rule). Average rounds half away from zero (roundedAverage).
//
//   *_ref   the definition, channel by channel.
//   *_c16   16 channels per v128; remaining channels as in the reference.
//           No over-read: the channel tail is scalar.

import { roundedAverage } from "../quant";
import { PAD_VALID } from "../format";
import { window_out_size, window_pad_before } from "./window";

export function max_pool2d_s8_ref(
  x: usize, batch: i32, h: i32, w: i32, c: i32,
  ph: i32, pw: i32, sh: i32, sw: i32, pad: i32, y: usize,
): void {
  const oh = window_out_size(h, ph, sh, pad);
  const ow = window_out_size(w, pw, sw, pad);
  const pt = window_pad_before(h, ph, sh, pad);
  const pl = window_pad_before(w, pw, sw, pad);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let v: i32 = -128;
          for (let ky = 0; ky < ph; ky++) {
            const iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < pw; kx++) {
              const ix = ox * sw - pl + kx;
              if (ix < 0 || ix >= w) continue;
              v = max(v, <i32>load<i8>(x + <usize>(((b * h + iy) * w + ix) * c + ch)));
            }
          }
          store<i8>(y + <usize>(((b * oh + oy) * ow + ox) * c + ch), v);
        }
      }
    }
  }
}

export function avg_pool2d_s8_ref(
  x: usize, batch: i32, h: i32, w: i32, c: i32,
  ph: i32, pw: i32, sh: i32, sw: i32, pad: i32, y: usize,
): void {
  const oh = window_out_size(h, ph, sh, pad);
  const ow = window_out_size(w, pw, sw, pad);
  const pt = window_pad_before(h, ph, sh, pad);
  const pl = window_pad_before(w, pw, sw, pad);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let sum: i32 = 0;
          let count: i32 = 0;
          for (let ky = 0; ky < ph; ky++) {
            const iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < pw; kx++) {
              const ix = ox * sw - pl + kx;
              if (ix < 0 || ix >= w) continue;
              sum += <i32>load<i8>(x + <usize>(((b * h + iy) * w + ix) * c + ch));
              count++;
            }
          }
          store<i8>(y + <usize>(((b * oh + oy) * ow + ox) * c + ch), roundedAverage(sum, count));
        }
      }
    }
  }
}

export function max_pool2d_s8_c16(
  x: usize, batch: i32, h: i32, w: i32, c: i32,
  ph: i32, pw: i32, sh: i32, sw: i32, pad: i32, y: usize,
): void {
  const oh = window_out_size(h, ph, sh, pad);
  const ow = window_out_size(w, pw, sw, pad);
  const pt = window_pad_before(h, ph, sh, pad);
  const pl = window_pad_before(w, pw, sw, pad);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = max(0, oy * sh - pt);
      const y1 = min(h, oy * sh - pt + ph);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = max(0, ox * sw - pl);
        const x1 = min(w, ox * sw - pl + pw);
        const dst = y + <usize>(((b * oh + oy) * ow + ox) * c);
        let ch = 0;
        if (ASC_FEATURE_SIMD) {
          for (; ch + 16 <= c; ch += 16) {
            let v = i8x16.splat(-128);
            for (let iy = y0; iy < y1; iy++) {
              for (let ix = x0; ix < x1; ix++) {
                v = i8x16.max_s(v, v128.load(x + <usize>(((b * h + iy) * w + ix) * c + ch)));
              }
            }
            v128.store(dst + ch, v);
          }
        }
        for (; ch < c; ch++) {
          let v: i32 = -128;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              v = max(v, <i32>load<i8>(x + <usize>(((b * h + iy) * w + ix) * c + ch)));
            }
          }
          store<i8>(dst + ch, v);
        }
      }
    }
  }
}

export function avg_pool2d_s8_c16(
  x: usize, batch: i32, h: i32, w: i32, c: i32,
  ph: i32, pw: i32, sh: i32, sw: i32, pad: i32, y: usize,
): void {
  const oh = window_out_size(h, ph, sh, pad);
  const ow = window_out_size(w, pw, sw, pad);
  const pt = window_pad_before(h, ph, sh, pad);
  const pl = window_pad_before(w, pw, sw, pad);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = max(0, oy * sh - pt);
      const y1 = min(h, oy * sh - pt + ph);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = max(0, ox * sw - pl);
        const x1 = min(w, ox * sw - pl + pw);
        const count = (y1 - y0) * (x1 - x0);
        const dst = y + <usize>(((b * oh + oy) * ow + ox) * c);
        let ch = 0;
        if (ASC_FEATURE_SIMD) {
          for (; ch + 16 <= c; ch += 16) {
            let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
            for (let iy = y0; iy < y1; iy++) {
              for (let ix = x0; ix < x1; ix++) {
                const v = v128.load(x + <usize>(((b * h + iy) * w + ix) * c + ch));
                const lo = i16x8.extend_low_i8x16_s(v);
                const hi = i16x8.extend_high_i8x16_s(v);
                s0 = i32x4.add(s0, i32x4.extend_low_i16x8_s(lo));
                s1 = i32x4.add(s1, i32x4.extend_high_i16x8_s(lo));
                s2 = i32x4.add(s2, i32x4.extend_low_i16x8_s(hi));
                s3 = i32x4.add(s3, i32x4.extend_high_i16x8_s(hi));
              }
            }
            storeAverage4(dst + ch, s0, count);
            storeAverage4(dst + ch + 4, s1, count);
            storeAverage4(dst + ch + 8, s2, count);
            storeAverage4(dst + ch + 12, s3, count);
          }
        }
        for (; ch < c; ch++) {
          let sum: i32 = 0;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              sum += <i32>load<i8>(x + <usize>(((b * h + iy) * w + ix) * c + ch));
            }
          }
          store<i8>(dst + ch, roundedAverage(sum, count));
        }
      }
    }
  }
}

// Integer division has no SIMD form; one division per output keeps the rule exact.
// @ts-ignore: decorator
@inline function storeAverage4(dst: usize, s: v128, count: i32): void {
  store<i8>(dst, roundedAverage(i32x4.extract_lane(s, 0), count));
  store<i8>(dst, roundedAverage(i32x4.extract_lane(s, 1), count), 1);
  store<i8>(dst, roundedAverage(i32x4.extract_lane(s, 2), count), 2);
  store<i8>(dst, roundedAverage(i32x4.extract_lane(s, 3), count), 3);
}

export function global_avg_pool2d_s8_ref(x: usize, batch: i32, h: i32, w: i32, c: i32, y: usize): void {
  avg_pool2d_s8_ref(x, batch, h, w, c, h, w, 1, 1, PAD_VALID, y);
}

export function global_avg_pool2d_s8_c16(x: usize, batch: i32, h: i32, w: i32, c: i32, y: usize): void {
  avg_pool2d_s8_c16(x, batch, h, w, c, h, w, 1, 1, PAD_VALID, y);
}

export function global_max_pool2d_s8_ref(x: usize, batch: i32, h: i32, w: i32, c: i32, y: usize): void {
  max_pool2d_s8_ref(x, batch, h, w, c, h, w, 1, 1, PAD_VALID, y);
}

export function global_max_pool2d_s8_c16(x: usize, batch: i32, h: i32, w: i32, c: i32, y: usize): void {
  max_pool2d_s8_c16(x, batch, h, w, c, h, w, 1, 1, PAD_VALID, y);
}
