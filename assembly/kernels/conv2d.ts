// 2-D convolution, int8 NHWC input, OHWI weights, per-output-channel weight scales,
// int32 bias, fused ReLU / ReLU6 through the output clamp.
//
//   conv2d_s8_ref     the definition: direct loops, unpacked weights.
//   conv2d_s8_im2col  packs each output row's patches into `scratch` (padding filled
//                     with zp_in, i.e. real 0), then runs gemm_s8 on the row; a 1×1
//                     stride-1 conv needs no patches: one gemm_s8 over the input's pixels.
//                     Weights come packed by gemm_pack with K = kh·kw·c.
//                     scratch: conv2d_scratch_size bytes. Over-read: up to 7 bytes past
//                     the end of x (MEM_SLACK). Bit-exact with the reference.
//   conv2d_max_pool2d_s8_im2col
//                     conv2d_s8_im2col followed by max pooling, in one pass: only the conv
//                     outputs some pool window reads are computed, kept as int32 rows in
//                     scratch, and each window's int32 maximum is requantized once.
//                     Requantization is monotonic (positive multiplier, clamp, round), so
//                     this is bit-exact with pooling the requantized outputs: the reference
//                     is conv2d_s8_ref then max_pool2d_s8_ref. Correct for any pool
//                     geometry; the engine uses it where windows do not overlap, so every
//                     conv output is computed at most once. For the reference CNN it skips
//                     the 11th row and column of the second conv (a 2×2 pool drops them),
//                     4× fewer requantizations, and the intermediate tensor.
//                     scratch: conv2d_max_pool2d_scratch_size bytes. Over-read as above,
//                     plus up to 12 bytes past the int32 rows (MEM_SLACK).

import { MAGIC_BITS, quant_act_max, quant_act_min, quant_multiplier, requantize, requantize4 } from "../quant";
import { GEMM_OUT_S32, GEMM_OUT_S8, gemm_multipliers, gemm_s8, storeTile } from "./gemm";
import { PAD_SAME } from "../format";
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

// Patch rows are short, where memory.copy's and memory.fill's call cost dominates
// (conv1d's patches too).
// copySmall moves whole 8-byte words: it may read up to 7 bytes past `src + n` and
// write up to 7 bytes past `dst + n`. Segments are written in increasing order, so
// the spill is overwritten by the next segment or lands in the row's k..Kp tail or
// in the scratch's MEM_SLACK.
// @ts-ignore: decorator
@inline export function copySmall(dst: usize, src: usize, n: i32): void {
  if (n >= 64) { memory.copy(dst, src, n); return; }
  for (let i = 0; i < n; i += 8) store<u64>(dst + i, load<u64>(src + i));
}

// @ts-ignore: decorator
@inline export function fillSmall(dst: usize, value: u8, n: i32): void {
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
  if (kh == 1 && kw == 1 && sh == 1 && sw == 1) {
    // A pointwise conv: the input's pixels are already the patch rows, one gemm over
    // all of them. Rows are c apart; the gemm reads kp ≥ c bytes of each, the bytes
    // past c (the next pixel's, or the buffer's slack) meeting zero weights.
    gemm_s8(batch * h * w, oc, k, x, c, packed, y, oc, GEMM_OUT_S8, outZp, qmin, qmax);
    return;
  }
  for (let b = 0; b < batch; b++) {
    const xb = x + <usize>(b * h * w * c);
    for (let oy = 0; oy < oh; oy++) {
      im2colRow(xb, h, w, c, kh, kw, sh, sw, pt, pl, <u8>inZp, oy, ow, kp, scratch);
      gemm_s8(ow, oc, k, scratch, kp, packed,
        y + <usize>((b * oh + oy) * ow * oc), oc, GEMM_OUT_S8, outZp, qmin, qmax);
    }
  }
}

// Conv outputs 0..n along one axis that some pool window reads.
// @ts-ignore: decorator
@inline function pooledExtent(size: i32, window: i32, stride: i32, pad: i32): i32 {
  const out = window_out_size(size, window, stride, pad);
  return min(size, (out - 1) * stride - window_pad_before(size, window, stride, pad) + window);
}

// The patches of `cols` outputs, plus room for copySmall's spill, rounded up to a v128.
// @ts-ignore: decorator
@inline function patchBytes(cols: i32, k: i32): usize {
  return (<usize>cols * <usize>((k + 7) & ~7) + 8 + 15) & ~15;
}

export function conv2d_max_pool2d_scratch_size(
  w: i32, c: i32, oc: i32, kh: i32, kw: i32, sw: i32, pad: i32, pkh: i32, pkw: i32, psw: i32, ppad: i32,
): usize {
  const cols = pooledExtent(window_out_size(w, kw, sw, pad), pkw, psw, ppad);
  return patchBytes(cols, kh * kw * c) + <usize>pkh * <usize>cols * <usize>oc * 4;
}

export function conv2d_max_pool2d_s8_im2col(
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
  const cols = pooledExtent(ow, pkw, psw, ppad);
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
    const full2x2 = nRows == 2 && nCols == 2;
    for (let g = 0; g < oc; g += 4) {
      let m: v128;
      const p0 = top + (<usize>g << 2);
      if (full2x2) { // the common window, unrolled
        const p1 = p0 + rowBytes;
        m = i32x4.max_s(i32x4.max_s(v128.load(p0), v128.load(p0 + pixelBytes)),
          i32x4.max_s(v128.load(p1), v128.load(p1 + pixelBytes)));
      } else {
        m = i32x4.splat(i32.MIN_VALUE);
        for (let j = 0; j < nRows; j++) {
          let p = p0 + <usize>j * rowBytes;
          for (let i = 0; i < nCols; i++) {
            m = i32x4.max_s(m, v128.load(p));
            p += pixelBytes;
          }
        }
      }
      storeTile(m, dst + <usize>g, min(4, oc - g), GEMM_OUT_S8, v128.load(mults + (<usize>g << 2)), magic, lo, hi);
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

// ---- sparse weights ------------------------------------------------------------------
//
//   conv2d_max_pool2d_s8_sparse
//                     stride-1 conv2d (then max pooling; a 1×1/1 pool is none) that does
//                     work only for non-zero weights: pruned models are mostly zeros.
//                     Each image is copied to planar form, [c][h + pads][w + pads] with
//                     the padding filled with zp_in. In a plane of width Wp, output
//                     (oy, ox) and its tap (ky, kx, ci) sit a fixed distance apart:
//                     ci·plane + ky·Wp + kx. So for one non-zero weight, the outputs'
//                     taps are one contiguous run of the plane, and a channel's output
//                     rows, computed Wp wide (columns ≥ ow are discarded), are a sum of
//                     such runs. Weights go in pairs, interleaved so that
//                     i32x4.dot_i16x8_s does two taps for four outputs at once.
//                     Outputs are kept as int32 [filters][positions], a band of rows at a
//                     time (SPARSE_BAND_BYTES), then each output (or pool window's
//                     maximum) is requantized as in conv2d_max_pool2d.
//                     One input channel (a grayscale image's first conv: its weights
//                     are rarely pruned, every tap counts): the plane is also widened
//                     to i16 pairs of neighbours, H[p] = (x[p], x[p + 1]) and
//                     V[p] = (x[p], x[p + Wp]), and weights pair up with a neighbour:
//                     (ky, kx) with (ky, kx + 1), the last column's (ky, kw − 1) with
//                     (ky + 1, kw − 1). Four outputs of a pair are then one v128 of H or
//                     V, no shuffles: 2× the multiply-adds per instruction of the
//                     general pairs on the reference CNN's conv1 (≥ (kh·kw + 1) / 2
//                     pairs per channel, the count of the general scheme when dense).
//                     Bit-exact with conv2d_s8_ref (then max_pool2d_s8_ref).
//
//   packed = [ bias' : i32 × n ][ multiplier : f32 × n ][ pair start : u32 × (n + 1) ]
//            [ pairs: (offset a : u32, offset b : u32, weights : i16 a | i16 b << 16) ]
//   Pairs of output channel o are pair start[o] .. pair start[o + 1]; a channel with an
//   odd count ends with a pair whose weight b is 0 (offset b = offset a). The offsets
//   are for one input geometry (h, w, pad), fixed at pack time. One input channel:
//   pairs (byte offset into H, or into V past H : u32, weights : i16 a | i16 b << 16).
//   scratch: conv2d_sparse_scratch_size bytes.

const SPARSE_TILE: i32 = 32; // outputs per tile: 8 i32x4 accumulators
const SPARSE_BAND_BYTES: i32 = 16384; // int32 outputs of one band: within L1, and a small part of the arena
const SPARSE_OVER_READ: usize = 32; // sparseOutput reads up to 24 bytes past the last plane's rows

// Pooled rows per band (at least one): a band's int32 outputs fit SPARSE_BAND_BYTES.
// @ts-ignore: decorator
@inline function sparseBand(ph: i32, wp: i32, oc: i32, pkh: i32, psh: i32): i32 {
  const rows = SPARSE_BAND_BYTES / (oc * wp * 4); // conv rows that fit
  return min(ph, max(1, (rows - pkh) / psh + 1));
}

// Conv rows [r0, r1) that pooled rows [py0, py1) read, as r0 | r1 << 32.
// @ts-ignore: decorator
@inline function bandRows(py0: i32, py1: i32, oh: i32, pkh: i32, psh: i32, ppt: i32): u64 {
  const r0 = max(0, py0 * psh - ppt), r1 = min(oh, (py1 - 1) * psh - ppt + pkh);
  return <u64><u32>r0 | (<u64><u32>r1 << 32);
}

// Non-zero pairs of w [n][kh][kw][c]: what conv2d_sparse_packed_size needs.
export function conv2d_sparse_pairs(w: usize, n: i32, kh: i32, kw: i32, c: i32): i32 {
  const k = kh * kw * c;
  let pairs = 0;
  for (let o = 0; o < n; o++) {
    if (c == 1) {
      pairs += neighbourPairs(w + <usize>(o * k), kh, kw, 0, 0, 0);
      continue;
    }
    const row = w + <usize>(o * k);
    let nz = 0, i = 0;
    // 16 weights a step where the build has SIMD: a fresh engine packs in V8's baseline
    // code, where the byte loop was a fifth of the pruned CNN's load
    if (ASC_FEATURE_SIMD) {
      for (; i + 16 <= k; i += 16) nz += popcnt<i32>(i8x16.bitmask(i8x16.ne(v128.load(row + <usize>i), i8x16.splat(0))));
    }
    for (; i < k; i++) if (load<i8>(row + <usize>i) != 0) nz++;
    pairs += (nz + 1) >> 1;
  }
  return pairs;
}

// Bytes of one pair: two offsets and the weights; one offset for one input channel.
// @ts-ignore: decorator
@inline function pairBytes(c: i32): i32 { return c == 1 ? 8 : 12; }

export function conv2d_sparse_packed_size(n: i32, pairs: i32, c: i32): usize {
  return <usize>n * 12 + 4 + <usize>pairs * <usize>pairBytes(c);
}

// One input channel: the pairs of filter w [kh][kw], row by row, each non-zero weight
// with its right neighbour, or in the last column with the one below (whatever their
// values), a single with weight b = 0; written from `out` (offsets into H, or
// vOffset + into V, for planes wp wide) unless out is 0. Returns their count.
function neighbourPairs(w: usize, kh: i32, kw: i32, wp: i32, vOffset: u32, out: usize): i32 {
  let count = 0;
  let taken = false; // the row's last weight went into a pair with the row above
  for (let ky = 0; ky < kh; ky++) {
    const row = w + <usize>(ky * kw);
    const end = taken ? kw - 1 : kw;
    taken = false;
    for (let kx = 0; kx < end; kx++) {
      const a = <i32>load<i8>(row + <usize>kx);
      if (a == 0) continue;
      let off = <u32>(ky * wp + kx) << 2;
      let b = 0;
      if (kx + 1 < end) {
        b = <i32>load<i8>(row + <usize>kx + 1);
        kx++;
      } else if (kx == kw - 1 && ky + 1 < kh) {
        off += vOffset;
        b = <i32>load<i8>(row + <usize>(kw + kx));
        taken = true;
      }
      if (out) {
        store<u32>(out, off);
        store<i32>(out, (a & 0xffff) | (b << 16), 4);
        out += 8;
      }
      count++;
    }
  }
  return count;
}

export function conv2d_sparse_pack(
  w: usize, n: i32, kh: i32, kw: i32, c: i32, h: i32, wd: i32, pad: i32,
  bias: usize, wscale: usize, inScale: f32, inZp: i32, outScale: f32, packed: usize,
): void {
  const hp = sparsePadded(h, kh, pad), wp = sparsePadded(wd, kw, pad);
  const plane = hp * wp;
  const k = kh * kw * c;
  const starts = packed + (<usize>n << 3);
  let pair = packed + (<usize>n * 12 + 4);
  let count = 0;
  for (let o = 0; o < n; o++) {
    store<u32>(starts + (<usize>o << 2), count);
    let sum: i32 = 0;
    if (c == 1) {
      for (let i = 0; i < k; i++) sum += <i32>load<i8>(w + <usize>(o * k + i));
      const m = neighbourPairs(w + <usize>(o * k), kh, kw, wp, <u32>sparseSpan(hp, wp, kw, 1) << 2, pair);
      pair += <usize>m << 3;
      count += m;
    } else {
      let half = false; // a pair is open, waiting for its second weight
      for (let i = 0; i < k; i++) {
        // a pruned matrix is mostly zeros: skip 16 at a time where the build has SIMD
        if (ASC_FEATURE_SIMD && (i & 15) == 0 && i + 16 <= k && !v128.any_true(v128.load(w + <usize>(o * k + i)))) {
          i += 15;
          continue;
        }
        const v = <i32>load<i8>(w + <usize>(o * k + i));
        if (v == 0) continue;
        sum += v;
        const ci = i % c, kx = (i / c) % kw, ky = i / (c * kw);
        const off = <u32>(ci * plane + ky * wp + kx);
        if (!half) {
          store<u32>(pair, off);
          store<u32>(pair, off, 4);
          store<i32>(pair, v & 0xffff, 8);
        } else {
          store<u32>(pair, off, 4);
          store<i32>(pair, load<i32>(pair, 8) | (v << 16), 8);
          pair += 12;
          count++;
        }
        half = !half;
      }
      if (half) { pair += 12; count++; }
    }
    const b: i32 = bias ? load<i32>(bias + (<usize>o << 2)) : 0;
    store<i32>(packed + (<usize>o << 2), b - inZp * sum);
    store<f32>(packed + (<usize>n << 2) + (<usize>o << 2),
      quant_multiplier(inScale, load<f32>(wscale + (<usize>o << 2)), outScale));
  }
  store<u32>(starts + (<usize>n << 2), count);
}

// Input positions a band's tiles may read in the planar copy (per channel plane), and
// where H and V are built: rounded up to 8, whole v128 stores of H and V.
// @ts-ignore: decorator
@inline function sparseSpan(hp: i32, wp: i32, kw: i32, c: i32): i32 {
  return (c * hp * wp + kw + SPARSE_TILE + 7) & ~7;
}

// Bytes of the planar copy; for one input channel also H and V (i32 each per
// position: a load8x8 building them reads up to wp + 8 positions past the span).
// @ts-ignore: decorator
@inline function sparseInputBytes(hp: i32, wp: i32, kw: i32, c: i32): usize {
  const span = <usize>sparseSpan(hp, wp, kw, c);
  return c == 1 ? ((span + <usize>wp + 15) & ~15) + (span << 3) : (span + 15) & ~15;
}

// Padded extent of one axis for a stride-1 window.
// @ts-ignore: decorator
@inline function sparsePadded(size: i32, window: i32, pad: i32): i32 {
  return pad == PAD_SAME ? size + window - 1 : size;
}

// 32-output tiles per channel: the work unit of the cost model in the engine.
export function conv2d_sparse_tiles(
  h: i32, w: i32, oc: i32, kh: i32, kw: i32, pad: i32, pkh: i32, psh: i32, ppad: i32,
): i32 {
  const oh = window_out_size(h, kh, 1, pad), wp = sparsePadded(w, kw, pad);
  const ph = window_out_size(oh, pkh, psh, ppad), ppt = window_pad_before(oh, pkh, psh, ppad);
  const nb = sparseBand(ph, wp, oc, pkh, psh);
  let tiles = 0;
  for (let py0 = 0; py0 < ph; py0 += nb) {
    const rows = bandRows(py0, min(ph, py0 + nb), oh, pkh, psh, ppt);
    tiles += ((<i32>(rows >> 32) - <i32>rows) * wp + SPARSE_TILE - 1) / SPARSE_TILE;
  }
  return tiles;
}

export function conv2d_sparse_scratch_size(
  h: i32, w: i32, c: i32, oc: i32, kh: i32, kw: i32, pad: i32, pkh: i32, psh: i32, ppad: i32,
): usize {
  const hp = sparsePadded(h, kh, pad), wp = sparsePadded(w, kw, pad);
  return sparseInputBytes(hp, wp, kw, c) + <usize>oc * <usize>sparseBandPositions(h, wp, kh, pad, oc, pkh, psh, ppad) * 4
    + SPARSE_OVER_READ;
}

// Int32 outputs per channel in a band, rounded up to whole tiles.
// @ts-ignore: decorator
@inline function sparseBandPositions(h: i32, wp: i32, kh: i32, pad: i32, oc: i32, pkh: i32, psh: i32, ppad: i32): i32 {
  const oh = window_out_size(h, kh, 1, pad);
  const ph = window_out_size(oh, pkh, psh, ppad);
  const nb = sparseBand(ph, wp, oc, pkh, psh);
  const rows = min(pooledExtent(oh, pkh, psh, ppad), (nb - 1) * psh + pkh);
  return (rows * wp + SPARSE_TILE - 1) & ~(SPARSE_TILE - 1);
}

export function conv2d_max_pool2d_s8_sparse(
  x: usize, batch: i32, h: i32, w: i32, c: i32,
  packed: usize, oc: i32, kh: i32, kw: i32, pad: i32,
  inZp: i32, outScale: f32, outZp: i32, act: i32,
  pkh: i32, pkw: i32, psh: i32, psw: i32, ppad: i32, y: usize, scratch: usize,
): void {
  const oh = window_out_size(h, kh, 1, pad), ow = window_out_size(w, kw, 1, pad);
  const pt = window_pad_before(h, kh, 1, pad), pl = window_pad_before(w, kw, 1, pad);
  const hp = sparsePadded(h, kh, pad), wp = sparsePadded(w, kw, pad);
  const plane = hp * wp;
  const ph = window_out_size(oh, pkh, psh, ppad), pw = window_out_size(ow, pkw, psw, ppad);
  const ppt = window_pad_before(oh, pkh, psh, ppad), ppl = window_pad_before(ow, pkw, psw, ppad);
  const qmin = quant_act_min(act, outScale, outZp);
  const qmax = quant_act_max(act, outScale, outZp);
  const qp = sparseBandPositions(h, wp, kh, pad, oc, pkh, psh, ppad);
  const nb = sparseBand(ph, wp, oc, pkh, psh);
  const span = sparseSpan(hp, wp, kw, c);
  const xp = scratch;
  const inputBytes = sparseInputBytes(hp, wp, kw, c);
  const hs = scratch + inputBytes - (<usize>span << 3); // H then V (one input channel)
  const acc = scratch + inputBytes;
  const mults = packed + (<usize>oc << 2);
  const starts = packed + (<usize>oc << 3);
  const pairs = packed + (<usize>oc * 12 + 4);
  const pb = <usize>pairBytes(c);
  memory.fill(xp, <u8>inZp, c == 1 ? <usize>(hs - xp) : inputBytes); // padding: the real 0
  for (let b = 0; b < batch; b++) {
    // planar copy; the padding stays as filled
    const xb = x + <usize>(b * h * w * c);
    for (let iy = 0; iy < h; iy++) {
      if (c == 1) { // rows stay rows
        memory.copy(xp + <usize>((iy + pt) * wp + pl), xb + <usize>(iy * w), <usize>w);
        continue;
      }
      for (let ix = 0; ix < w; ix++) {
        const src = xb + <usize>((iy * w + ix) * c);
        let dst = xp + <usize>((iy + pt) * wp + ix + pl);
        for (let ci = 0; ci < c; ci++) {
          store<i8>(dst, load<i8>(src + <usize>ci));
          dst += <usize>plane;
        }
      }
    }
    if (c == 1) neighbourPlanes(xp, span, wp, hs);
    for (let py0 = 0; py0 < ph; py0 += nb) {
      const py1 = min(ph, py0 + nb);
      const rows = bandRows(py0, py1, oh, pkh, psh, ppt);
      const r0 = <i32>rows, r1 = <i32>(rows >> 32);
      // whole tiles (sparseChannel), or half tiles (neighbourChannel: a band of conv1's
      // 28-wide rows is then not up to 14 % outputs no pool reads)
      const bq = ((r1 - r0) * wp + SPARSE_TILE / 2 - 1) & ~(SPARSE_TILE / 2 - 1);
      for (let o = 0; o < oc; o++) {
        const p0 = pairs + <usize>load<u32>(starts + (<usize>o << 2)) * pb;
        const p1 = pairs + <usize>load<u32>(starts + (<usize>o << 2), 4) * pb;
        const bias = load<i32>(packed + (<usize>o << 2));
        const row = acc + (<usize>(o * qp) << 2);
        if (c == 1) neighbourChannel(hs + (<usize>(r0 * wp) << 2), p0, p1, bias, bq, row);
        else sparseChannel(xp + <usize>(r0 * wp), p0, p1, bias, bq, row);
      }
      sparseOutput(acc, qp, wp, r0, py0, py1, oh, ow, oc, pkh, pkw, psh, psw, ppt, ppl, pw, mults, outZp, qmin, qmax,
        y + <usize>(b * ph * pw * oc));
    }
  }
}

// Requantizes each output, or each pool window's maximum, of pooled rows [py0, py1)
// from the int32 planes acc [oc][qp] (rows wp wide, from conv row r0) into
// y [ph][pw][oc]. No pool and 2×2/2 windows that all fit run four outputs of four
// channels at a time: one requantize4 per channel, then a 4×4 byte transpose so that
// each output pixel's four channels are one 4-byte store (reading up to 6 int32 past a
// plane's rows: SPARSE_OVER_READ). Other windows, and the last oc mod 4 channels,
// gather four channels per requantize4 (or one at a time).
// @ts-ignore: decorator
@inline function sparseOutput(
  acc: usize, qp: i32, wp: i32, r0: i32, py0: i32, py1: i32, oh: i32, ow: i32, oc: i32,
  pkh: i32, pkw: i32, psh: i32, psw: i32, ppt: i32, ppl: i32, pw: i32,
  mults: usize, zp: i32, qmin: i32, qmax: i32, y: usize,
): void {
  const rowBytes = <usize>wp << 2;
  const planeBytes = <usize>qp << 2;
  const ocb = <usize>oc;
  let done = 0; // channels done for every output with SIMD; the rest below
  if (ASC_FEATURE_SIMD) {
    const none = pkh == 1 && pkw == 1 && psh == 1 && psw == 1;
    const twoByTwo = pkh == 2 && pkw == 2 && psh == 2 && psw == 2 && ppt == 0 && ppl == 0 && 2 * py1 <= oh && 2 * pw <= ow;
    if (none || twoByTwo) {
      done = oc & ~3;
      const magic = i32x4.splat(MAGIC_BITS - zp);
      const lo = f32x4.splat(<f32>(qmin - zp));
      const hi = f32x4.splat(<f32>(qmax - zp));
      for (let o = 0; o < done; o += 4) {
        const m = mults + (<usize>o << 2);
        const m0 = v128.load32_splat(m), m1 = v128.load32_splat(m, 4), m2 = v128.load32_splat(m, 8), m3 = v128.load32_splat(m, 12);
        const plane = acc + <usize>o * planeBytes;
        for (let py = py0; py < py1; py++) {
          const row: i32 = none ? py - r0 : 2 * py - r0;
          const top = plane + <usize>row * rowBytes;
          for (let px = 0; px < pw; px += 4) {
            const at = top + (<usize>px << (none ? 2 : 3));
            const q0 = requantize4(window4(at, none, rowBytes), m0, magic, lo, hi);
            const q1 = requantize4(window4(at + planeBytes, none, rowBytes), m1, magic, lo, hi);
            const q2 = requantize4(window4(at + 2 * planeBytes, none, rowBytes), m2, magic, lo, hi);
            const q3 = requantize4(window4(at + 3 * planeBytes, none, rowBytes), m3, magic, lo, hi);
            let t = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3));
            t = i8x16.shuffle(t, t, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
            const dst = y + <usize>(py * pw + px) * ocb + <usize>o;
            const n = pw - px;
            v128.store32_lane(dst, t, 0);
            if (n > 1) v128.store32_lane(dst + ocb, t, 1);
            if (n > 2) v128.store32_lane(dst + 2 * ocb, t, 2);
            if (n > 3) v128.store32_lane(dst + 3 * ocb, t, 3);
          }
        }
      }
    }
  }
  for (let py = py0; py < py1; py++) {
    const cy = py * psh - ppt;
    const j0 = max(0, -cy), j1 = min(pkh, oh - cy);
    for (let px = 0; px < pw; px++) {
      const cx = px * psw - ppl;
      const i0 = max(0, -cx), i1 = min(pkw, ow - cx);
      const dst = y + <usize>(py * pw + px) * ocb;
      let o = done;
      if (ASC_FEATURE_SIMD) { // four channels at a time, gathered from their planes
        const magic = i32x4.splat(MAGIC_BITS - zp);
        const lo = f32x4.splat(<f32>(qmin - zp));
        const hi = f32x4.splat(<f32>(qmax - zp));
        for (; o + 4 <= oc; o += 4) {
          const p0 = acc + <usize>o * planeBytes;
          let m = i32x4.splat(i32.MIN_VALUE);
          for (let j = j0; j < j1; j++) {
            for (let i = i0; i < i1; i++) {
              const at = p0 + (<usize>((cy + j - r0) * wp + cx + i) << 2);
              let v = i32x4.splat(load<i32>(at));
              v = i32x4.replace_lane(v, 1, load<i32>(at + planeBytes));
              v = i32x4.replace_lane(v, 2, load<i32>(at + 2 * planeBytes));
              v = i32x4.replace_lane(v, 3, load<i32>(at + 3 * planeBytes));
              m = i32x4.max_s(m, v);
            }
          }
          const q = requantize4(m, v128.load(mults + (<usize>o << 2)), magic, lo, hi);
          v128.store32_lane(dst + <usize>o, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q, q), q), 0);
        }
      }
      for (; o < oc; o++) {
        const plane = acc + (<usize>(o * qp) << 2);
        let m = i32.MIN_VALUE;
        for (let j = j0; j < j1; j++) {
          for (let i = i0; i < i1; i++) m = max(m, load<i32>(plane + (<usize>((cy + j - r0) * wp + cx + i) << 2)));
        }
        store<i8>(dst + <usize>o, requantize(m, load<f32>(mults + (<usize>o << 2)), zp, qmin, qmax));
      }
    }
  }
}

// Four outputs of one channel from `at` in its int32 plane: four in a row, or the
// maxima of four 2×2/2 windows (rows rowBytes apart).
// @ts-ignore: decorator
@inline function window4(at: usize, none: bool, rowBytes: usize): v128 {
  if (none) return v128.load(at);
  const bottom = at + rowBytes;
  const a = i32x4.max_s(v128.load(at), v128.load(bottom));
  const b = i32x4.max_s(v128.load(at, 16), v128.load(bottom, 16));
  return i32x4.max_s(i32x4.shuffle(a, b, 0, 2, 4, 6), i32x4.shuffle(a, b, 1, 3, 5, 7));
}

// row[0..qp) = bias + Σ over pairs of w_a · xp[off_a + q] + w_b · xp[off_b + q].
// @ts-ignore: decorator
@inline function sparseChannel(xp: usize, p0: usize, p1: usize, bias: i32, qp: i32, row: usize): void {
  if (ASC_FEATURE_SIMD) {
    const vb = i32x4.splat(bias);
    for (let q0 = 0; q0 < qp; q0 += SPARSE_TILE) {
      let a0 = vb, a1 = vb, a2 = vb, a3 = vb, a4 = vb, a5 = vb, a6 = vb, a7 = vb;
      const base = xp + <usize>q0;
      for (let p = p0; p < p1; p += 12) {
        const xa = base + <usize>load<u32>(p);
        const xb = base + <usize>load<u32>(p, 4);
        const wv = v128.load32_splat(p, 8);
        let u = v128.load8x8_s(xa), v = v128.load8x8_s(xb);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.shuffle(u, v, 0, 8, 1, 9, 2, 10, 3, 11), wv));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.shuffle(u, v, 4, 12, 5, 13, 6, 14, 7, 15), wv));
        u = v128.load8x8_s(xa, 8); v = v128.load8x8_s(xb, 8);
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(i16x8.shuffle(u, v, 0, 8, 1, 9, 2, 10, 3, 11), wv));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(i16x8.shuffle(u, v, 4, 12, 5, 13, 6, 14, 7, 15), wv));
        u = v128.load8x8_s(xa, 16); v = v128.load8x8_s(xb, 16);
        a4 = i32x4.add(a4, i32x4.dot_i16x8_s(i16x8.shuffle(u, v, 0, 8, 1, 9, 2, 10, 3, 11), wv));
        a5 = i32x4.add(a5, i32x4.dot_i16x8_s(i16x8.shuffle(u, v, 4, 12, 5, 13, 6, 14, 7, 15), wv));
        u = v128.load8x8_s(xa, 24); v = v128.load8x8_s(xb, 24);
        a6 = i32x4.add(a6, i32x4.dot_i16x8_s(i16x8.shuffle(u, v, 0, 8, 1, 9, 2, 10, 3, 11), wv));
        a7 = i32x4.add(a7, i32x4.dot_i16x8_s(i16x8.shuffle(u, v, 4, 12, 5, 13, 6, 14, 7, 15), wv));
      }
      const r = row + (<usize>q0 << 2);
      v128.store(r, a0); v128.store(r, a1, 16); v128.store(r, a2, 32); v128.store(r, a3, 48);
      v128.store(r, a4, 64); v128.store(r, a5, 80); v128.store(r, a6, 96); v128.store(r, a7, 112);
    }
  } else {
    for (let q = 0; q < qp; q++) {
      let s = bias;
      for (let p = p0; p < p1; p += 12) {
        const wab = load<i32>(p, 8);
        s += <i32>load<i8>(xp + <usize>(load<u32>(p) + q)) * <i32>(<i16>wab)
          + <i32>load<i8>(xp + <usize>(load<u32>(p, 4) + q)) * (wab >> 16);
      }
      store<i32>(row + (<usize>q << 2), s);
    }
  }
}

// H [p] = (x[p], x[p + 1]) and V [p] = (x[p], x[p + wp]) as i16 pairs for p < span, from
// the planar copy xp; V follows H.
// @ts-ignore: decorator
@inline function neighbourPlanes(xp: usize, span: i32, wp: i32, hs: usize): void {
  const vs = hs + (<usize>span << 2);
  if (ASC_FEATURE_SIMD) {
    for (let p = 0; p < span; p += 8) {
      const at = xp + <usize>p;
      const x = v128.load8x8_s(at), r = v128.load8x8_s(at, 1), d = v128.load8x8_s(at + <usize>wp);
      const o = <usize>p << 2;
      v128.store(hs + o, i16x8.shuffle(x, r, 0, 8, 1, 9, 2, 10, 3, 11));
      v128.store(hs + o, i16x8.shuffle(x, r, 4, 12, 5, 13, 6, 14, 7, 15), 16);
      v128.store(vs + o, i16x8.shuffle(x, d, 0, 8, 1, 9, 2, 10, 3, 11));
      v128.store(vs + o, i16x8.shuffle(x, d, 4, 12, 5, 13, 6, 14, 7, 15), 16);
    }
  } else {
    for (let p = 0; p < span; p++) {
      const at = xp + <usize>p, o = <usize>p << 2;
      const x = <i32>load<i8>(at) & 0xffff;
      store<i32>(hs + o, x | (<i32>load<i8>(at, 1) << 16));
      store<i32>(vs + o, x | (<i32>load<i8>(at + <usize>wp) << 16));
    }
  }
}

// row[0..qp) = bias + Σ over pairs of the i16 pairs at xs + offset + 4q · (w_a, w_b).
// @ts-ignore: decorator
@inline function neighbourChannel(xs: usize, p0: usize, p1: usize, bias: i32, qp: i32, row: usize): void {
  if (ASC_FEATURE_SIMD) {
    const vb = i32x4.splat(bias);
    for (let q0 = 0; q0 < qp; q0 += SPARSE_TILE) {
      let a0 = vb, a1 = vb, a2 = vb, a3 = vb, a4 = vb, a5 = vb, a6 = vb, a7 = vb;
      const base = xs + (<usize>q0 << 2);
      if (qp - q0 == SPARSE_TILE / 2) { // the band's last half tile
        for (let p = p0; p < p1; p += 8) {
          const at = base + <usize>load<u32>(p);
          const wv = v128.load32_splat(p, 4);
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(at), wv));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(at, 16), wv));
          a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load(at, 32), wv));
          a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load(at, 48), wv));
        }
        const r = row + (<usize>q0 << 2);
        v128.store(r, a0); v128.store(r, a1, 16); v128.store(r, a2, 32); v128.store(r, a3, 48);
        break;
      }
      for (let p = p0; p < p1; p += 8) {
        const at = base + <usize>load<u32>(p);
        const wv = v128.load32_splat(p, 4);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(at), wv));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(at, 16), wv));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load(at, 32), wv));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load(at, 48), wv));
        a4 = i32x4.add(a4, i32x4.dot_i16x8_s(v128.load(at, 64), wv));
        a5 = i32x4.add(a5, i32x4.dot_i16x8_s(v128.load(at, 80), wv));
        a6 = i32x4.add(a6, i32x4.dot_i16x8_s(v128.load(at, 96), wv));
        a7 = i32x4.add(a7, i32x4.dot_i16x8_s(v128.load(at, 112), wv));
      }
      const r = row + (<usize>q0 << 2);
      v128.store(r, a0); v128.store(r, a1, 16); v128.store(r, a2, 32); v128.store(r, a3, 48);
      v128.store(r, a4, 64); v128.store(r, a5, 80); v128.store(r, a6, 96); v128.store(r, a7, 112);
    }
  } else {
    for (let q = 0; q < qp; q++) {
      let s = bias;
      for (let p = p0; p < p1; p += 8) {
        const at = xs + (<usize>q << 2) + <usize>load<u32>(p);
        const wab = load<i32>(p, 4);
        s += <i32>load<i16>(at) * <i32>(<i16>wab) + <i32>load<i16>(at, 2) * (wab >> 16);
      }
      store<i32>(row + (<usize>q << 2), s);
    }
  }
}
