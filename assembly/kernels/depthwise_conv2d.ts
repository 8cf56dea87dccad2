// Depthwise 2-D convolution, int8 NHWC input, weights [oc][kh][kw] (the file's
// [oc, kh, kw, 1]), oc = c · m for depth multiplier m: output channel o reads input
// channel o / m (TensorFlow's order). Per-output-channel weight scales, int32 bias,
// fused ReLU / ReLU6 through the output clamp. Padded taps are skipped (they hold real 0).
//
//   depthwise_conv2d_s8_ref  the definition: direct loops, unpacked weights.
//   depthwise_conv2d_s8_c8   packed weights (depthwise_conv2d_pack: int16 weights tap by
//                            tap, bias and multipliers per channel); with m = 1, eight
//                            channels per step in i32x4 pairs (i16 × i16 products, exact);
//                            where every tap is inside the image the zero point is folded
//                            into the bias (Σ (x − zp)·w = Σ x·w − zp·Σ w), so a tap is one
//                            load and two multiply-adds. The channel tail and m > 1 as in
//                            the reference. No scratch, no over-read (8-byte loads end
//                            inside the row). Bit-exact with the reference.

import { MAGIC_BITS, quant_act_max, quant_act_min, quant_multiplier, requantize, requantize4 } from "../quant";
import { window_out_size, window_pad_before } from "./window";

export function depthwise_conv2d_s8_ref(
  x: usize, batch: i32, h: i32, w: i32, c: i32,
  weights: usize, bias: usize, wscale: usize, m: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, pad: i32,
  inScale: f32, inZp: i32, outScale: f32, outZp: i32, act: i32, y: usize,
): void {
  const oc = c * m;
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
          const ci = o / m;
          let acc: i32 = bias ? load<i32>(bias + (<usize>o << 2)) : 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pl + kx;
              if (ix < 0 || ix >= w) continue;
              const xv = <i32>load<i8>(x + <usize>(((b * h + iy) * w + ix) * c + ci));
              acc += (xv - inZp) * <i32>load<i8>(weights + <usize>((o * kh + ky) * kw + kx));
            }
          }
          const mult = quant_multiplier(inScale, load<f32>(wscale + (<usize>o << 2)), outScale);
          store<i8>(y + <usize>(((b * oh + oy) * ow + ox) * oc + o), requantize(acc, mult, outZp, qmin, qmax));
        }
      }
    }
  }
}

// Packed layout, ocp = oc rounded up to 8: int32 bias [ocp], f32 multiplier [ocp],
// int32 bias − inZp·Σ w [ocp] (for pixels whose taps are all inside the image), int16
// weights [kh·kw][ocp] (zero past oc).
// @ts-ignore: decorator
@inline function roundUp8(n: i32): i32 { return (n + 7) & ~7; }

export function depthwise_conv2d_packed_size(oc: i32, kh: i32, kw: i32): usize {
  const ocp = <usize>roundUp8(oc);
  return ocp * 12 + <usize>kh * <usize>kw * ocp * 2;
}

// w: int8 [oc][kh][kw]; bias: int32 [oc] or 0; wscale: f32 [oc].
export function depthwise_conv2d_pack(
  w: usize, oc: i32, kh: i32, kw: i32, bias: usize, wscale: usize,
  inScale: f32, inZp: i32, outScale: f32, packed: usize,
): void {
  const ocp = roundUp8(oc);
  memory.fill(packed, 0, depthwise_conv2d_packed_size(oc, kh, kw));
  const pw = packed + <usize>ocp * 12;
  for (let o = 0; o < oc; o++) {
    const b: i32 = bias ? load<i32>(bias + (<usize>o << 2)) : 0;
    let sum: i32 = 0;
    for (let t = 0; t < kh * kw; t++) {
      const v = load<i8>(w + <usize>(o * kh * kw + t));
      sum += v;
      store<i16>(pw + (<usize>(t * ocp + o) << 1), <i16>v);
    }
    store<i32>(packed + (<usize>o << 2), b);
    store<f32>(packed + (<usize>(ocp + o) << 2), quant_multiplier(inScale, load<f32>(wscale + (<usize>o << 2)), outScale));
    store<i32>(packed + (<usize>(2 * ocp + o) << 2), b - inZp * sum);
  }
}

export function depthwise_conv2d_s8_c8(
  x: usize, batch: i32, h: i32, w: i32, c: i32,
  packed: usize, m: i32, kh: i32, kw: i32, sh: i32, sw: i32, pad: i32,
  inZp: i32, outScale: f32, outZp: i32, act: i32, y: usize,
): void {
  const oc = c * m;
  const ocp = roundUp8(oc);
  const oh = window_out_size(h, kh, sh, pad);
  const ow = window_out_size(w, kw, sw, pad);
  const pt = window_pad_before(h, kh, sh, pad);
  const pl = window_pad_before(w, kw, sw, pad);
  const qmin = quant_act_min(act, outScale, outZp);
  const qmax = quant_act_max(act, outScale, outZp);
  const mults = packed + (<usize>ocp << 2);
  const pw = packed + <usize>ocp * 12;
  const vector = ASC_FEATURE_SIMD && m == 1 ? (oc & ~7) : 0; // channels done eight at a time
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = max(0, pt - oy * sh), y1 = min(kh, h + pt - oy * sh); // valid taps ky
      for (let ox = 0; ox < ow; ox++) {
        const x0 = max(0, pl - ox * sw), x1 = min(kw, w + pl - ox * sw);
        const dst = y + <usize>(((b * oh + oy) * ow + ox) * oc);
        const row = x + <usize>(((b * h + oy * sh - pt) * w + ox * sw - pl) * c); // tap (0, 0), maybe outside
        if (ASC_FEATURE_SIMD) {
          if (y0 == 0 && y1 == kh && x0 == 0 && x1 == kw) interior8(row, dst, vector, packed, ocp, w, c, kh, kw, outZp, qmin, qmax);
          else pixel8(row, dst, vector, packed, ocp, w, c, kw, y0, y1, x0, x1, inZp, outZp, qmin, qmax);
        }
        for (let o = vector; o < oc; o++) {
          const ci = o / m;
          let acc = load<i32>(packed + (<usize>o << 2));
          for (let ky = y0; ky < y1; ky++) {
            for (let kx = x0; kx < x1; kx++) {
              const xv = <i32>load<i8>(row + <usize>((ky * w + kx) * c + ci));
              acc += (xv - inZp) * <i32>load<i16>(pw + (<usize>((ky * kw + kx) * ocp + o) << 1));
            }
          }
          store<i8>(dst + o, requantize(acc, load<f32>(mults + (<usize>o << 2)), outZp, qmin, qmax));
        }
      }
    }
  }
}

// Channels [0, n) of one output pixel, eight at a time (m = 1): SIMD builds only.
// @ts-ignore: decorator
@inline function pixel8(
  row: usize, dst: usize, n: i32, packed: usize, ocp: i32, w: i32, c: i32, kw: i32,
  y0: i32, y1: i32, x0: i32, x1: i32, inZp: i32, outZp: i32, qmin: i32, qmax: i32,
): void {
  const mults = packed + (<usize>ocp << 2);
  const pw = packed + <usize>ocp * 12;
  const zpv = i16x8.splat(<i16>inZp);
  const magic = i32x4.splat(MAGIC_BITS - outZp);
  const lo = f32x4.splat(<f32>(qmin - outZp)), hi = f32x4.splat(<f32>(qmax - outZp));
  for (let o = 0; o < n; o += 8) {
    let a0 = v128.load(packed + (<usize>o << 2)), a1 = v128.load(packed + (<usize>(o + 4) << 2));
    for (let ky = y0; ky < y1; ky++) {
      for (let kx = x0; kx < x1; kx++) {
        const xv = i16x8.sub(v128.load8x8_s(row + <usize>((ky * w + kx) * c + o)), zpv);
        const wv = v128.load(pw + (<usize>((ky * kw + kx) * ocp + o) << 1));
        a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(xv, wv));
        a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(xv, wv));
      }
    }
    const q0 = requantize4(a0, v128.load(mults + (<usize>o << 2)), magic, lo, hi);
    const q1 = requantize4(a1, v128.load(mults + (<usize>(o + 4) << 2)), magic, lo, hi);
    const q = i16x8.narrow_i32x4_s(q0, q1);
    v128.store64_lane(dst + o, i8x16.narrow_i16x8_s(q, q), 0);
  }
}

// As pixel8 for a pixel whose taps are all inside the image: the zero point is in the
// folded bias, so each tap is a load and two widening multiply-adds.
// @ts-ignore: decorator
@inline function interior8(
  row: usize, dst: usize, n: i32, packed: usize, ocp: i32, w: i32, c: i32, kh: i32, kw: i32,
  outZp: i32, qmin: i32, qmax: i32,
): void {
  const mults = packed + (<usize>ocp << 2);
  const folded = packed + (<usize>ocp << 3);
  const pw = packed + <usize>ocp * 12;
  const magic = i32x4.splat(MAGIC_BITS - outZp);
  const lo = f32x4.splat(<f32>(qmin - outZp)), hi = f32x4.splat(<f32>(qmax - outZp));
  for (let o = 0; o < n; o += 8) {
    let a0 = v128.load(folded + (<usize>o << 2)), a1 = v128.load(folded + (<usize>(o + 4) << 2));
    let px = row + <usize>o, wp = pw + (<usize>o << 1);
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const xv = v128.load8x8_s(px + <usize>(kx * c));
        const wv = v128.load(wp);
        a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(xv, wv));
        a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(xv, wv));
        wp += <usize>ocp << 1;
      }
      px += <usize>(w * c);
    }
    const q0 = requantize4(a0, v128.load(mults + (<usize>o << 2)), magic, lo, hi);
    const q1 = requantize4(a1, v128.load(mults + (<usize>(o + 4) << 2)), magic, lo, hi);
    const q = i16x8.narrow_i32x4_s(q0, q1);
    v128.store64_lane(dst + o, i8x16.narrow_i16x8_s(q, q), 0);
  }
}
