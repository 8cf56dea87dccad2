// int8 × int8 → int32 matrix product, the core of conv2d, dense and LSTM.
//
//   C[m][n] = bias'[n] + Σ_k A[m][k] · W[n][k]
//
// Two microkernels (XNNPACK naming), chosen by K when the weights are packed:
//   gemm 2x4c8  K ≥ 16: 2 rows × 4 channels per tile, k in blocks of 8 along the lanes,
//               i32x4.dot_i16x8_s on int8 widened to int16, a horizontal sum per tile.
//   gemm 2x8c2  K < 16 (first layers, e.g. 3×3×1): 2 rows × 8 channels, channels along
//               the lanes, pairs of k broadcast; K pads to 2 instead of 8 and no
//               horizontal sum is needed.
//
//   packed = [ bias' : i32 × Np ][ multiplier : f32 × Np ][ W ],  Np = N rounded up to 8
//   c8 W: int8, block (g, b) at (g · Kp/8 + b) · 32 bytes holds channels 4g..4g+3, each
//         with k = 8b..8b+7 (Kp = K rounded up to 8).
//   c2 W: int16, block (g, p) at (g · Kp/2 + p) · 32 bytes holds channels 8g..8g+7, each
//         with k = 2p, 2p+1 (Kp = K rounded up to 2).
//   Weights are zero where n ≥ N or k ≥ K.
//
// bias' = bias − zp_in · Σ_k W[n][k] folds the input zero point in, so the inner loop
// is a pure int8 dot product and padded k lanes (zero weights) contribute nothing.
//
// Over-read: every row of A is read for Kp bytes, i.e. up to 7 bytes past column K
// (past the end of A for the last row; 15 in the relaxed build). Callers give A
// MEM_SLACK spare bytes. The scalar build (no SIMD) runs the same packed layouts with
// scalar arithmetic.
//
// The relaxed-SIMD build (asconfig target "relaxed") adds a third microkernel for K ≥ 16:
//   gemm 1x4c16 relaxed: i32x4.relaxed_dot_i8x16_i7x16_add_s, whose result every engine
//               agrees on when its second operand is in [0, 127]. Each weight w in
//               [−127, 127] is split into w⁺ = max(w, 0) and w⁻ = max(−w, 0), and
//               a·w = a·w⁺ − a·w⁻: the same integers as the other kernels (tract does
//               this on wasm). Pairwise sums of two products stay within i16.
//   c16 W: block (g, b) at (g · Kp/16 + b) · 128 bytes: channels 4g..4g+3 with
//          k = 16b..16b+15, the w⁺ plane (4 × 16 bytes) then the w⁻ plane
//          (Kp = K rounded up to 16). A matrix holding −128 (outside the contract's
//          [−127, 127], whose w⁻ would not fit 7 bits) keeps the c8 layout and
//          kernel; the word after the weights says which (RELAXED_C16 or 0).

import { MAGIC_BITS, quant_multiplier, requantize, requantize4 } from "../quant";

export const GEMM_OUT_S8: i32 = 0; // requantize to int8 (ldc in bytes)
export const GEMM_OUT_S32: i32 = 1; // int32 accumulators, bias' included (ldc in i32)

const C2_MAX_K: i32 = 15;

// @ts-ignore: decorator
@inline function roundUp(v: i32, m: i32): i32 { return (v + m - 1) & ~(m - 1); }

export function gemm_packed_size(n: i32, k: i32): usize {
  const np = <usize>roundUp(n, 8);
  if (k <= C2_MAX_K) return np * 8 + np * <usize>roundUp(k, 2) * 2;
  // relaxed: room for the c16 planes and the layout word
  if (ASC_FEATURE_RELAXED_SIMD) return np * 8 + np * <usize>roundUp(k, 16) * 2 + 16;
  return np * 8 + np * <usize>roundUp(k, 8);
}

const RELAXED_C16: i32 = 1;

// The relaxed build's layout word of a K ≥ 16 matrix (after its c16-sized weights).
// @ts-ignore: decorator
@inline function relaxedLayout(packed: usize, n: i32, k: i32): usize {
  return packed + gemm_packed_size(n, k) - 16;
}

// Where the per-channel multipliers of a packed matrix with n channels start.
export function gemm_multipliers(packed: usize, n: i32): usize {
  return packed + (<usize>roundUp(n, 8) << 2);
}

// Byte offset of W[oc][kk] inside the packed weights.
// @ts-ignore: decorator
@inline function weightOffset(oc: i32, kk: i32, k: i32): usize {
  if (k <= C2_MAX_K) {
    const pairs = roundUp(k, 2) >> 1;
    return <usize>(((oc >> 3) * pairs + (kk >> 1)) * 32 + (oc & 7) * 4 + (kk & 1) * 2);
  }
  const kb = roundUp(k, 8) >> 3;
  return <usize>(((oc >> 2) * kb + (kk >> 3)) * 32 + (oc & 3) * 8 + (kk & 7));
}

// The sum of the eight int8 values in v.
// @ts-ignore: decorator
@inline function byteSum8(v: u64): i32 {
  if (ASC_FEATURE_SIMD) {
    const s = i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(i64x2.splat(v)));
    return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1);
  }
  let s: i32 = 0;
  for (let j: u64 = 0; j < 64; j += 8) s += <i32><i8>(v >> j);
  return s;
}

// w: int8 [n][k]; bias: int32 [n] or 0; wscale: f32 [n] (per output channel).
// The stored multiplier is quant_multiplier(inScale, wscale[n], outScale).
export function gemm_pack(
  w: usize, n: i32, k: i32, bias: usize, wscale: usize,
  inScale: f32, inZp: i32, outScale: f32, packed: usize,
): void {
  const np = roundUp(n, 8);
  const pw = packed + (<usize>np << 3);
  memory.fill(packed, 0, gemm_packed_size(n, k));
  for (let oc = 0; oc < n; oc++) {
    let sum: i32 = 0;
    const row = w + <usize>oc * <usize>k;
    let kk = 0;
    if (k > C2_MAX_K) {
      // eight weights a step, contiguous in the c8 layout (a fresh engine packs in V8's
      // baseline code, where the byte loop was most of a dense layer's load)
      for (; kk + 8 <= k; kk += 8) {
        const v = load<u64>(row + kk);
        store<u64>(pw + weightOffset(oc, kk, k), v);
        sum += byteSum8(v);
      }
    }
    for (; kk < k; kk++) {
      const v = load<i8>(row + kk);
      sum += v;
      if (k <= C2_MAX_K) store<i16>(pw + weightOffset(oc, kk, k), v);
      else store<i8>(pw + weightOffset(oc, kk, k), v);
    }
    const b: i32 = bias ? load<i32>(bias + (<usize>oc << 2)) : 0;
    store<i32>(packed + (<usize>oc << 2), b - inZp * sum);
    store<f32>(packed + (<usize>np << 2) + (<usize>oc << 2),
      quant_multiplier(inScale, load<f32>(wscale + (<usize>oc << 2)), outScale));
  }
  if (ASC_FEATURE_RELAXED_SIMD) if (k > C2_MAX_K) packRelaxed(w, n, k, pw, relaxedLayout(packed, n, k));
}

// The relaxed build: the c8 weights just written become the w⁺ / w⁻ planes of the c16
// layout, unless the matrix holds −128.
function packRelaxed(w: usize, n: i32, k: i32, pw: usize, layout: usize): void {
  const total = <usize>n * <usize>k;
  for (let i: usize = 0; i < total; i++) if (load<i8>(w + i) == -128) return; // stays c8
  const np = roundUp(n, 8), kb = roundUp(k, 16) >> 4;
  memory.fill(pw, 0, <usize>np * <usize>roundUp(k, 16) * 2);
  for (let oc = 0; oc < n; oc++) {
    for (let kk = 0; kk < k; kk++) {
      const v = <i32>load<i8>(w + <usize>oc * <usize>k + kk);
      const at = pw + <usize>(((oc >> 2) * kb + (kk >> 4)) * 128 + (oc & 3) * 16 + (kk & 15));
      store<i8>(at, max(v, 0));
      store<i8>(at, max(-v, 0), 64);
    }
  }
  store<i32>(layout, RELAXED_C16);
}

// Sums each of four i32x4 accumulators: [Σc0, Σc1, Σc2, Σc3].
// @ts-ignore: decorator
@inline function hsum4(c0: v128, c1: v128, c2: v128, c3: v128): v128 {
  const t0 = i32x4.add(i32x4.shuffle(c0, c1, 0, 4, 1, 5), i32x4.shuffle(c0, c1, 2, 6, 3, 7));
  const t1 = i32x4.add(i32x4.shuffle(c2, c3, 0, 4, 1, 5), i32x4.shuffle(c2, c3, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(t0, t1, 0, 1, 4, 5), i32x4.shuffle(t0, t1, 2, 3, 6, 7));
}

// Writes the first `count` (1..4) channels of one tile row.
// @ts-ignore: decorator
@inline export function storeTile(
  acc: v128, dst: usize, count: i32, stage: i32,
  mult: v128, magic: v128, lo: v128, hi: v128,
): void {
  if (stage == GEMM_OUT_S32) {
    if (count == 4) { v128.store(dst, acc); return; }
    store<i32>(dst, i32x4.extract_lane(acc, 0));
    if (count > 1) store<i32>(dst, i32x4.extract_lane(acc, 1), 4);
    if (count > 2) store<i32>(dst, i32x4.extract_lane(acc, 2), 8);
    return;
  }
  const q = requantize4(acc, mult, magic, lo, hi);
  if (count == 4) {
    v128.store32_lane(dst, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q, q), q), 0);
    return;
  }
  store<i8>(dst, i32x4.extract_lane(q, 0));
  if (count > 1) store<i8>(dst, i32x4.extract_lane(q, 1), 1);
  if (count > 2) store<i8>(dst, i32x4.extract_lane(q, 2), 2);
}

// C = A · Wᵀ + bias' for A: int8 [m][lda ≥ k]; output stage GEMM_OUT_S8 (requantized
// with zp, qmin, qmax) or GEMM_OUT_S32. The microkernel follows the packed layout.
export function gemm_s8(
  m: i32, n: i32, k: i32, a: usize, lda: i32, packed: usize,
  c: usize, ldc: i32, stage: i32, zp: i32, qmin: i32, qmax: i32,
): void {
  if (ASC_FEATURE_SIMD) {
    if (k <= C2_MAX_K) gemm_2x8c2_simd(m, n, k, a, lda, packed, c, ldc, stage, zp, qmin, qmax);
    else if (ASC_FEATURE_RELAXED_SIMD && load<i32>(relaxedLayout(packed, n, k)) == RELAXED_C16) gemm_1x4c16_relaxed(m, n, k, a, lda, packed, c, ldc, stage, zp, qmin, qmax);
    else gemm_2x4c8_simd(m, n, k, a, lda, packed, c, ldc, stage, zp, qmin, qmax);
  } else {
    gemm_scalar(m, n, k, a, lda, packed, c, ldc, stage, zp, qmin, qmax);
  }
}

// @ts-ignore: decorator
@inline function gemm_2x4c8_simd(
  m: i32, n: i32, k: i32, a: usize, lda: i32, packed: usize,
  c: usize, ldc: i32, stage: i32, zp: i32, qmin: i32, qmax: i32,
): void {
  const np = roundUp(n, 8);
  const kb = roundUp(k, 8) >> 3;
  const multBase = packed + (<usize>np << 2);
  const wBase = packed + (<usize>np << 3);
  const esize: usize = stage == GEMM_OUT_S32 ? 4 : 1;
  const magic = i32x4.splat(MAGIC_BITS - zp);
  const lo = f32x4.splat(<f32>(qmin - zp));
  const hi = f32x4.splat(<f32>(qmax - zp));
  let row = 0;
  for (; row + 2 <= m; row += 2) {
    const a0 = a + <usize>row * <usize>lda;
    const a1 = a0 + <usize>lda;
    const c0 = c + <usize>row * <usize>ldc * esize;
    const c1 = c0 + <usize>ldc * esize;
    for (let g = 0; g < n; g += 4) {
      let pw = wBase + (<usize>(g * kb) << 3);
      let p0 = a0;
      let p1 = a1;
      let acc00 = i32x4.splat(0), acc01 = i32x4.splat(0), acc02 = i32x4.splat(0), acc03 = i32x4.splat(0);
      let acc10 = i32x4.splat(0), acc11 = i32x4.splat(0), acc12 = i32x4.splat(0), acc13 = i32x4.splat(0);
      for (let i = 0; i < kb; i++) {
        const x0 = v128.load8x8_s(p0);
        const x1 = v128.load8x8_s(p1);
        const w0 = v128.load8x8_s(pw);
        acc00 = i32x4.add(acc00, i32x4.dot_i16x8_s(x0, w0));
        acc10 = i32x4.add(acc10, i32x4.dot_i16x8_s(x1, w0));
        const w1 = v128.load8x8_s(pw, 8);
        acc01 = i32x4.add(acc01, i32x4.dot_i16x8_s(x0, w1));
        acc11 = i32x4.add(acc11, i32x4.dot_i16x8_s(x1, w1));
        const w2 = v128.load8x8_s(pw, 16);
        acc02 = i32x4.add(acc02, i32x4.dot_i16x8_s(x0, w2));
        acc12 = i32x4.add(acc12, i32x4.dot_i16x8_s(x1, w2));
        const w3 = v128.load8x8_s(pw, 24);
        acc03 = i32x4.add(acc03, i32x4.dot_i16x8_s(x0, w3));
        acc13 = i32x4.add(acc13, i32x4.dot_i16x8_s(x1, w3));
        p0 += 8;
        p1 += 8;
        pw += 32;
      }
      const bias = v128.load(packed + (<usize>g << 2));
      const mult = v128.load(multBase + (<usize>g << 2));
      const count = min(4, n - g);
      storeTile(i32x4.add(hsum4(acc00, acc01, acc02, acc03), bias), c0 + <usize>g * esize, count, stage, mult, magic, lo, hi);
      storeTile(i32x4.add(hsum4(acc10, acc11, acc12, acc13), bias), c1 + <usize>g * esize, count, stage, mult, magic, lo, hi);
    }
  }
  if (row < m) {
    const a0 = a + <usize>row * <usize>lda;
    const c0 = c + <usize>row * <usize>ldc * esize;
    for (let g = 0; g < n; g += 4) {
      let pw = wBase + (<usize>(g * kb) << 3);
      let p0 = a0;
      let acc0 = i32x4.splat(0), acc1 = i32x4.splat(0), acc2 = i32x4.splat(0), acc3 = i32x4.splat(0);
      for (let i = 0; i < kb; i++) {
        const x0 = v128.load8x8_s(p0);
        acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(x0, v128.load8x8_s(pw)));
        acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(x0, v128.load8x8_s(pw, 8)));
        acc2 = i32x4.add(acc2, i32x4.dot_i16x8_s(x0, v128.load8x8_s(pw, 16)));
        acc3 = i32x4.add(acc3, i32x4.dot_i16x8_s(x0, v128.load8x8_s(pw, 24)));
        p0 += 8;
        pw += 32;
      }
      const bias = v128.load(packed + (<usize>g << 2));
      const mult = v128.load(multBase + (<usize>g << 2));
      storeTile(i32x4.add(hsum4(acc0, acc1, acc2, acc3), bias), c0 + <usize>g * esize, min(4, n - g), stage, mult, magic, lo, hi);
    }
  }
}

// One row of A against channels 4g..4g+3 over the c16 blocks: [Σc0, Σc1, Σc2, Σc3].
// @ts-ignore: decorator
@inline function relaxedRow4(pa: usize, pw: usize, kb: i32): v128 {
  let p0 = i32x4.splat(0), p1 = i32x4.splat(0), p2 = i32x4.splat(0), p3 = i32x4.splat(0);
  let n0 = i32x4.splat(0), n1 = i32x4.splat(0), n2 = i32x4.splat(0), n3 = i32x4.splat(0);
  for (let i = 0; i < kb; i++) {
    const x = v128.load(pa);
    p0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, v128.load(pw), p0);
    p1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, v128.load(pw, 16), p1);
    p2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, v128.load(pw, 32), p2);
    p3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, v128.load(pw, 48), p3);
    n0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, v128.load(pw, 64), n0);
    n1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, v128.load(pw, 80), n1);
    n2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, v128.load(pw, 96), n2);
    n3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, v128.load(pw, 112), n3);
    pa += 16;
    pw += 128;
  }
  return i32x4.sub(hsum4(p0, p1, p2, p3), hsum4(n0, n1, n2, n3));
}

// @ts-ignore: decorator
@inline function gemm_1x4c16_relaxed(
  m: i32, n: i32, k: i32, a: usize, lda: i32, packed: usize,
  c: usize, ldc: i32, stage: i32, zp: i32, qmin: i32, qmax: i32,
): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const np = roundUp(n, 8);
    const kb = roundUp(k, 16) >> 4;
    const multBase = packed + (<usize>np << 2);
    const wBase = packed + (<usize>np << 3);
    const esize: usize = stage == GEMM_OUT_S32 ? 4 : 1;
    const magic = i32x4.splat(MAGIC_BITS - zp);
    const lo = f32x4.splat(<f32>(qmin - zp));
    const hi = f32x4.splat(<f32>(qmax - zp));
    for (let row = 0; row < m; row++) {
      const a0 = a + <usize>row * <usize>lda;
      const c0 = c + <usize>row * <usize>ldc * esize;
      for (let g = 0; g < n; g += 4) {
        const acc = relaxedRow4(a0, wBase + (<usize>(g * kb) << 5), kb);
        const bias = v128.load(packed + (<usize>g << 2));
        const mult = v128.load(multBase + (<usize>g << 2));
        storeTile(i32x4.add(acc, bias), c0 + <usize>g * esize, min(4, n - g), stage, mult, magic, lo, hi);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function gemm_2x8c2_simd(
  m: i32, n: i32, k: i32, a: usize, lda: i32, packed: usize,
  c: usize, ldc: i32, stage: i32, zp: i32, qmin: i32, qmax: i32,
): void {
  const np = roundUp(n, 8);
  const pairs = roundUp(k, 2) >> 1;
  const multBase = packed + (<usize>np << 2);
  const wBase = packed + (<usize>np << 3);
  const esize: usize = stage == GEMM_OUT_S32 ? 4 : 1;
  const magic = i32x4.splat(MAGIC_BITS - zp);
  const lo = f32x4.splat(<f32>(qmin - zp));
  const hi = f32x4.splat(<f32>(qmax - zp));
  for (let row = 0; row < m; row += 2) {
    const a0 = a + <usize>row * <usize>lda;
    // an odd last row is computed twice into the same place
    const a1 = row + 1 < m ? a0 + <usize>lda : a0;
    const c0 = c + <usize>row * <usize>ldc * esize;
    const c1 = row + 1 < m ? c0 + <usize>ldc * esize : c0;
    for (let g = 0; g < n; g += 8) {
      let pw = wBase + (<usize>(g * pairs) << 2);
      let acc0a = i32x4.splat(0), acc0b = i32x4.splat(0), acc1a = i32x4.splat(0), acc1b = i32x4.splat(0);
      for (let p = 0; p < pairs; p++) {
        const x0 = i16x8.extend_low_i8x16_s(v128.load16_splat(a0 + (<usize>p << 1)));
        const x1 = i16x8.extend_low_i8x16_s(v128.load16_splat(a1 + (<usize>p << 1)));
        const wa = v128.load(pw);
        const wb = v128.load(pw, 16);
        acc0a = i32x4.add(acc0a, i32x4.dot_i16x8_s(x0, wa));
        acc0b = i32x4.add(acc0b, i32x4.dot_i16x8_s(x0, wb));
        acc1a = i32x4.add(acc1a, i32x4.dot_i16x8_s(x1, wa));
        acc1b = i32x4.add(acc1b, i32x4.dot_i16x8_s(x1, wb));
        pw += 32;
      }
      const biasA = v128.load(packed + (<usize>g << 2));
      const biasB = v128.load(packed + (<usize>g << 2), 16);
      const multA = v128.load(multBase + (<usize>g << 2));
      const multB = v128.load(multBase + (<usize>g << 2), 16);
      const countA = min(4, n - g);
      const countB = min(4, n - g - 4);
      storeTile(i32x4.add(acc0a, biasA), c0 + <usize>g * esize, countA, stage, multA, magic, lo, hi);
      storeTile(i32x4.add(acc1a, biasA), c1 + <usize>g * esize, countA, stage, multA, magic, lo, hi);
      if (countB > 0) {
        storeTile(i32x4.add(acc0b, biasB), c0 + <usize>(g + 4) * esize, countB, stage, multB, magic, lo, hi);
        storeTile(i32x4.add(acc1b, biasB), c1 + <usize>(g + 4) * esize, countB, stage, multB, magic, lo, hi);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function gemm_scalar(
  m: i32, n: i32, k: i32, a: usize, lda: i32, packed: usize,
  c: usize, ldc: i32, stage: i32, zp: i32, qmin: i32, qmax: i32,
): void {
  const np = roundUp(n, 8);
  const multBase = packed + (<usize>np << 2);
  const wBase = packed + (<usize>np << 3);
  const c2 = k <= C2_MAX_K;
  for (let row = 0; row < m; row++) {
    const ar = a + <usize>row * <usize>lda;
    for (let oc = 0; oc < n; oc++) {
      let acc: i32 = load<i32>(packed + (<usize>oc << 2));
      if (c2) {
        for (let kk = 0; kk < k; kk++) {
          acc += <i32>load<i8>(ar + kk) * <i32>load<i16>(wBase + weightOffset(oc, kk, k));
        }
      } else {
        let pw = wBase + weightOffset(oc, 0, k);
        let pa = ar;
        for (let kk = 0; kk < k; kk += 8) {
          acc += <i32>load<i8>(pa) * <i32>load<i8>(pw)
            + <i32>load<i8>(pa, 1) * <i32>load<i8>(pw, 1)
            + <i32>load<i8>(pa, 2) * <i32>load<i8>(pw, 2)
            + <i32>load<i8>(pa, 3) * <i32>load<i8>(pw, 3)
            + <i32>load<i8>(pa, 4) * <i32>load<i8>(pw, 4)
            + <i32>load<i8>(pa, 5) * <i32>load<i8>(pw, 5)
            + <i32>load<i8>(pa, 6) * <i32>load<i8>(pw, 6)
            + <i32>load<i8>(pa, 7) * <i32>load<i8>(pw, 7);
          pa += 8;
          pw += 32;
        }
      }
      const idx = <usize>row * <usize>ldc + <usize>oc;
      if (stage == GEMM_OUT_S32) {
        store<i32>(c + (idx << 2), acc);
      } else {
        store<i8>(c + idx, requantize(acc, load<f32>(multBase + (<usize>oc << 2)), zp, qmin, qmax));
      }
    }
  }
}
