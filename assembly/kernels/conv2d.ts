// 2-D convolution, int8 NHWC input, OHWI weights, per-output-channel weight scales,
// int32 bias, fused ReLU / ReLU6 through the output clamp.
//
//   conv2d_s8_ref     the definition: direct loops, unpacked weights.
//   conv2d_s8_im2col  packs each output row's patches into `scratch` (padding filled
//                     with zp_in, i.e. real 0), then runs gemm_s8 on the row.
//                     Weights come packed by gemm_pack with K = kh·kw·c.
//                     scratch: conv2d_scratch_size bytes. Over-read: up to 7 bytes past
//                     the end of x (MEM_SLACK). Bit-exact with the reference.
//   conv2d_maxpool2d_s8_im2col
//                     conv2d_s8_im2col followed by max pooling, in one pass: only the conv
//                     outputs some pool window reads are computed, kept as int32 rows in
//                     scratch, and each window's int32 maximum is requantized once.
//                     Requantization is monotonic (positive multiplier, clamp, round), so
//                     this is bit-exact with pooling the requantized outputs: the reference
//                     is conv2d_s8_ref then maxpool2d_s8_ref. Correct for any pool
//                     geometry; the engine uses it where windows do not overlap, so every
//                     conv output is computed at most once. For the reference CNN it skips
//                     the 11th row and column of the second conv (a 2×2 pool drops them),
//                     4× fewer requantizations, and the intermediate tensor.
//                     scratch: conv2d_maxpool2d_scratch_size bytes. Over-read as above,
//                     plus up to 12 bytes past the int32 rows (MEM_SLACK).

import { MAGIC_BITS, quant_act_max, quant_act_min, quant_multiplier, requantize, requantize4 } from "../quant";
import { GEMM_OUT_S32, GEMM_OUT_S8, gemm_multipliers, gemm_s8 } from "./gemm";
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

// Patches of output row oy, columns 0..count, into scratch (one row of kp bytes each).
// @ts-ignore: decorator
@inline function im2colRow(
  xb: usize, h: i32, w: i32, c: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  pt: i32, pl: i32, padByte: u8, oy: i32, count: i32, kp: i32, scratch: usize,
): void {
  for (let ox = 0; ox < count; ox++) {
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
  for (let b = 0; b < batch; b++) {
    const xb = x + <usize>(b * h * w * c);
    for (let oy = 0; oy < oh; oy++) {
      im2colRow(xb, h, w, c, kh, kw, sh, sw, pt, pl, <u8>inZp, oy, ow, kp, scratch);
      gemm_s8(ow, oc, k, scratch, kp, packed,
        y + <usize>((b * oh + oy) * ow * oc), oc, GEMM_OUT_S8, outZp, qmin, qmax);
    }
  }
}

// Conv output columns 0..n that some pool window reads.
// @ts-ignore: decorator
@inline function pooledColumns(ow: i32, pkw: i32, psw: i32, ppad: i32): i32 {
  const pw = window_out_size(ow, pkw, psw, ppad);
  return min(ow, (pw - 1) * psw - window_pad_before(ow, pkw, psw, ppad) + pkw);
}

// The patches of `cols` outputs, plus room for copySmall's spill, rounded up to a v128.
// @ts-ignore: decorator
@inline function patchBytes(cols: i32, k: i32): usize {
  return (<usize>cols * <usize>((k + 7) & ~7) + 8 + 15) & ~15;
}

export function conv2d_maxpool2d_scratch_size(
  w: i32, c: i32, oc: i32, kh: i32, kw: i32, sw: i32, pad: i32, pkh: i32, pkw: i32, psw: i32, ppad: i32,
): usize {
  const cols = <usize>pooledColumns(window_out_size(w, kw, sw, pad), pkw, psw, ppad);
  return patchBytes(cols, kh * kw * c) + <usize>pkh * cols * <usize>oc * 4;
}

export function conv2d_maxpool2d_s8_im2col(
  x: usize, batch: i32, h: i32, w: i32, c: i32,
  packed: usize, oc: i32, kh: i32, kw: i32, sh: i32, sw: i32, pad: i32,
  inZp: i32, outScale: f32, outZp: i32, act: i32,
  pkh: i32, pkw: i32, psh: i32, psw: i32, ppad: i32, y: usize, scratch: usize,
): void {
  const oh = window_out_size(h, kh, sh, pad);
  const ow = window_out_size(w, kw, sw, pad);
  const pt = window_pad_before(h, kh, sh, pad);
  const pl = window_pad_before(w, kw, sw, pad);
  const ph = window_out_size(oh, pkh, psh, ppad);
  const pw = window_out_size(ow, pkw, psw, ppad);
  const ppt = window_pad_before(oh, pkh, psh, ppad);
  const ppl = window_pad_before(ow, pkw, psw, ppad);
  const qmin = quant_act_min(act, outScale, outZp);
  const qmax = quant_act_max(act, outScale, outZp);
  const k = kh * kw * c;
  const kp = (k + 7) & ~7;
  const cols = pooledColumns(ow, pkw, psw, ppad);
  const rows = scratch + patchBytes(cols, k);
  const rowBytes = <usize>(cols * oc) << 2;
  const mults = gemm_multipliers(packed, oc);
  for (let b = 0; b < batch; b++) {
    const xb = x + <usize>(b * h * w * c);
    for (let py = 0; py < ph; py++) {
      const cy = py * psh - ppt;
      const j0 = max(0, -cy);
      const j1 = min(pkh, oh - cy);
      for (let j = j0; j < j1; j++) {
        im2colRow(xb, h, w, c, kh, kw, sh, sw, pt, pl, <u8>inZp, cy + j, cols, kp, scratch);
        gemm_s8(cols, oc, k, scratch, kp, packed, rows + <usize>j * rowBytes, oc, GEMM_OUT_S32, 0, 0, 0);
      }
      for (let px = 0; px < pw; px++) {
        const cx = px * psw - ppl;
        const i0 = max(0, -cx);
        const i1 = min(pkw, cols - cx);
        const dst = y + <usize>(((b * ph + py) * pw + px) * oc);
        const first = rows + (<usize>((cx + i0) * oc) << 2);
        maxRequantize(first, j1 - j0, i1 - i0, rowBytes, j0, oc, mults, outZp, qmin, qmax, dst);
      }
    }
  }
}

// dst[o] = requantize(max of the int32 window starting at `first` + j0 rows), per channel.
// @ts-ignore: decorator
@inline function maxRequantize(
  first: usize, nRows: i32, nCols: i32, rowBytes: usize, j0: i32,
  oc: i32, mults: usize, zp: i32, qmin: i32, qmax: i32, dst: usize,
): void {
  const top = first + <usize>j0 * rowBytes;
  const pixelBytes = <usize>oc << 2;
  if (ASC_FEATURE_SIMD) {
    const magic = i32x4.splat(MAGIC_BITS - zp);
    const lo = f32x4.splat(<f32>(qmin - zp));
    const hi = f32x4.splat(<f32>(qmax - zp));
    for (let g = 0; g < oc; g += 4) {
      let m = i32x4.splat(i32.MIN_VALUE);
      for (let j = 0; j < nRows; j++) {
        let p = top + <usize>j * rowBytes + (<usize>g << 2);
        for (let i = 0; i < nCols; i++) {
          m = i32x4.max_s(m, v128.load(p));
          p += pixelBytes;
        }
      }
      const q = requantize4(m, v128.load(mults + (<usize>g << 2)), magic, lo, hi);
      if (g + 4 <= oc) {
        v128.store32_lane(dst + <usize>g, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q, q), q), 0);
      } else {
        store<i8>(dst + <usize>g, i32x4.extract_lane(q, 0));
        if (g + 1 < oc) store<i8>(dst + <usize>g, i32x4.extract_lane(q, 1), 1);
        if (g + 2 < oc) store<i8>(dst + <usize>g, i32x4.extract_lane(q, 2), 2);
      }
    }
  } else {
    for (let o = 0; o < oc; o++) {
      let m = i32.MIN_VALUE;
      for (let j = 0; j < nRows; j++) {
        let p = top + <usize>j * rowBytes + (<usize>o << 2);
        for (let i = 0; i < nCols; i++) {
          m = max(m, load<i32>(p));
          p += pixelBytes;
        }
      }
      store<i8>(dst + <usize>o, requantize(m, load<f32>(mults + (<usize>o << 2)), zp, qmin, qmax));
    }
  }
}
