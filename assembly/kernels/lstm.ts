// LSTM layer with int8 input and int8 weights; gate math in f32 (dynamic-range scheme).
//
//   z    = sx·swx[j]·Σ_f (x_t[f] − zpx)·Wx[j][f]  +  sh_t·swh[j]·Σ_u hq[u]·Wh[j][u]  +  b[j]
//   i, f, o = recAct(z_i, z_f, z_o);  g = act(z_g)        (Keras gate order i, f, c, o)
//   c_t  = f·c + i·g;   h_t = o·act(c_t)
//   hq   = round(h_{t−1} · 127 / max|h_{t−1}|),  sh_t = max|h_{t−1}| / 127  (per batch row)
//   y    = quantize(h_t / out_scale) to int8 (every step, or the last)
//
// Weights: Wx int8 [4U][F], Wh int8 [4U][U], per-row f32 scales; bias f32 [4U].
// x: int8 [batch][steps][F]. Cell and hidden state start at 0 and stay f32. direction
// (RNN_* in format.ts): the step order, and where each step's output goes.
//
//   lstm_s8_ref     the definition.
//   lstm_s8_gemm   the input projection of all steps, then the recurrent product of
//                   each step, as int8 row × int16 weight products (gemm_s8_1x16c2 on
//                   Wx and Wh packed by lstm_pack); gate math in f32x4 row passes with
//                   the same f32 operations in the same order: bit-exact. Reads rows of
//                   x and hq for K rounded up to 4 bytes: up to 3 past the end of x.
// scratch: lstm_scratch_size bytes (both variants).

import { MAGIC_BITS, quantize, quantize4, quant_multiplier } from "../quant";
import { activate_f32, activation_f32_x4 } from "./activation";
import { align16, inputStep, outputStep, quantizeHidden } from "./recurrent";

// The LSTM's products, 1x16c2 (XNNPACK naming: gemm's 2x8c2 with one row and 16
// channels a tile):
//
//   packed = [ bias' : i32 × Np ][ multiplier : f32 × Np ][ W ],  Np = N rounded up to 16
//   W: int16, block (g, p) at (g · Kp/2 + p) · 64 bytes holds channels 16g..16g+15, each
//      with k = 2p, 2p+1 (Kp = K rounded up to 4); zero where n ≥ N or k ≥ K.
//   bias' = −zp_in · Σ_k W[n][k]; multiplier = quant_multiplier(inScale, wscale[n], 1).
//
// At batch 1 the recurrent product is one row against 4U channels every step, where
// gemm's c8 kernel (K ≥ 16) widens every weight again and sums every tile across its
// lanes. Here two pairs of the row are broadcast for 16 channels, the weights go into
// i32x4.dot_i16x8_s as they are, and the four accumulators are the channels' sums.
// Int16 weights take twice gemm's bytes; int8 pairs widened by v128.load8x8_s made the
// whole LSTM 7 % slower. A tile of 32 channels was slower too: V8 loads a step's
// weights ahead into registers, and eight accumulators with eight loads spill.
// @ts-ignore: decorator
@inline function roundUp16(n: i32): i32 { return (n + 15) & ~15; }

// @ts-ignore: decorator
@inline function pairs_1x16c2(k: i32): i32 { return ((k + 3) & ~3) >> 1; }

function packed_size_1x16c2(n: i32, k: i32): usize {
  const np = <usize>roundUp16(n);
  return np * 8 + np * <usize>pairs_1x16c2(k) * 4;
}

function pack_1x16c2(w: usize, n: i32, k: i32, wscale: usize, inScale: f32, inZp: i32, packed: usize): void {
  const np = roundUp16(n), pairs = pairs_1x16c2(k);
  const pw = packed + (<usize>np << 3);
  memory.fill(packed, 0, packed_size_1x16c2(n, k));
  for (let oc = 0; oc < n; oc++) {
    let sum: i32 = 0;
    for (let kk = 0; kk < k; kk++) {
      const v = load<i8>(w + <usize>oc * <usize>k + kk);
      sum += v;
      store<i16>(pw + <usize>(((oc >> 4) * pairs + (kk >> 1)) * 64 + (oc & 15) * 4 + (kk & 1) * 2), v);
    }
    store<i32>(packed + (<usize>oc << 2), -inZp * sum);
    store<f32>(packed + (<usize>np << 2) + (<usize>oc << 2), quant_multiplier(inScale, load<f32>(wscale + (<usize>oc << 2)), 1.0));
  }
}

// c[r][j] = bias'[j] + Σ_k a[r][k] · W[j][k] as int32 for m rows of int8 a (stride lda),
// all Np channels (ldc ≥ Np). Reads a[r] for Kp bytes.
function gemm_s8_1x16c2(m: i32, k: i32, n: i32, a: usize, lda: i32, packed: usize, c: usize, ldc: i32): void {
  const np = roundUp16(n), pairs = pairs_1x16c2(k);
  const wBase = packed + (<usize>np << 3);
  for (let r = 0; r < m; r++) {
    const ar = a + <usize>r * <usize>lda;
    const cr = c + ((<usize>r * <usize>ldc) << 2);
    if (ASC_FEATURE_SIMD) {
      for (let g = 0; g < np; g += 16) {
        let pw = wBase + (<usize>(g * pairs) << 2);
        const end = pw + (<usize>pairs << 6);
        let pa = ar;
        let acc0 = i32x4.splat(0), acc1 = i32x4.splat(0), acc2 = i32x4.splat(0), acc3 = i32x4.splat(0);
        do { // K ≥ 1: at least two pairs
          const x0 = i16x8.extend_low_i8x16_s(v128.load16_splat(pa));
          const x1 = i16x8.extend_low_i8x16_s(v128.load16_splat(pa, 2));
          acc0 = i32x4.add(acc0, i32x4.add(i32x4.dot_i16x8_s(x0, v128.load(pw)), i32x4.dot_i16x8_s(x1, v128.load(pw, 64))));
          acc1 = i32x4.add(acc1, i32x4.add(i32x4.dot_i16x8_s(x0, v128.load(pw, 16)), i32x4.dot_i16x8_s(x1, v128.load(pw, 80))));
          acc2 = i32x4.add(acc2, i32x4.add(i32x4.dot_i16x8_s(x0, v128.load(pw, 32)), i32x4.dot_i16x8_s(x1, v128.load(pw, 96))));
          acc3 = i32x4.add(acc3, i32x4.add(i32x4.dot_i16x8_s(x0, v128.load(pw, 48)), i32x4.dot_i16x8_s(x1, v128.load(pw, 112))));
          pa += 4;
          pw += 128;
        } while (pw < end);
        const cb = cr + (<usize>g << 2), bb = packed + (<usize>g << 2);
        v128.store(cb, i32x4.add(acc0, v128.load(bb)));
        v128.store(cb, i32x4.add(acc1, v128.load(bb, 16)), 16);
        v128.store(cb, i32x4.add(acc2, v128.load(bb, 32)), 32);
        v128.store(cb, i32x4.add(acc3, v128.load(bb, 48)), 48);
      }
    } else {
      for (let j = 0; j < n; j++) {
        let acc = load<i32>(packed + (<usize>j << 2));
        let pw = wBase + <usize>(((j >> 4) * pairs) * 64 + (j & 15) * 4);
        for (let kk = 0; kk < k; kk += 2) {
          acc += <i32>load<i8>(ar + kk) * <i32>load<i16>(pw) + <i32>load<i8>(ar + kk, 1) * <i32>load<i16>(pw, 2);
          pw += 64;
        }
        store<i32>(cr + (<usize>j << 2), acc);
      }
    }
  }
}

export function lstm_scratch_size(batch: i32, steps: i32, units: i32): usize {
  const np = <usize>roundUp16(4 * units);
  const bu = <usize>batch * <usize>units;
  return align16(<usize>batch * <usize>steps * np * 4) // zx: i32 [B·T][Np]
    + align16(<usize>batch * np * 4) // zh: i32 [B][Np]
    + align16(bu * 4) * 2 // h, c: f32 [B][U]
    + align16(bu + 16) // hq: i8 [B][U] + over-read
    + align16(<usize>batch * 4); // sh: f32 [B]
}

export function lstm_packed_size(features: i32, units: i32): usize {
  return align16(packed_size_1x16c2(4 * units, features)) + packed_size_1x16c2(4 * units, units);
}

export function lstm_pack(
  wx: usize, wxScale: usize, wh: usize, whScale: usize, features: i32, units: i32,
  inScale: f32, inZp: i32, packed: usize,
): void {
  const n = 4 * units;
  pack_1x16c2(wx, n, features, wxScale, inScale, inZp, packed);
  pack_1x16c2(wh, n, units, whScale, 1.0, 0, packed + align16(packed_size_1x16c2(n, features)));
}

export function lstm_s8_ref(
  x: usize, batch: i32, steps: i32, features: i32, units: i32,
  wx: usize, wxScale: usize, wh: usize, whScale: usize, bias: usize,
  inScale: f32, inZp: i32, outScale: f32, outZp: i32,
  act: i32, recAct: i32, sequences: i32, direction: i32, y: usize, scratch: usize,
): void {
  const bu = <usize>batch * <usize>units;
  const hBase = scratch;
  const cBase = hBase + align16(bu * 4);
  const hqBase = cBase + align16(bu * 4);
  const zBase = hqBase + align16(bu + 16); // f32 [4U]
  const invOut: f32 = <f32>1.0 / outScale;
  memory.fill(hBase, 0, bu * 8 + 16);
  for (let b = 0; b < batch; b++) {
    const h = hBase + ((<usize>b * <usize>units) << 2);
    const c = cBase + ((<usize>b * <usize>units) << 2);
    const hq = hqBase + <usize>b * <usize>units;
    for (let t = 0; t < steps; t++) {
      const sh = quantizeHidden(h, units, hq, false);
      const xt = x + <usize>((b * steps + inputStep(t, steps, direction)) * features);
      for (let j = 0; j < 4 * units; j++) {
        let ax: i32 = 0;
        for (let f = 0; f < features; f++) {
          ax += (<i32>load<i8>(xt + f) - inZp) * <i32>load<i8>(wx + <usize>(j * features + f));
        }
        let ah: i32 = 0;
        for (let u = 0; u < units; u++) {
          ah += <i32>load<i8>(hq + u) * <i32>load<i8>(wh + <usize>(j * units + u));
        }
        const gx = quant_multiplier(inScale, load<f32>(wxScale + (<usize>j << 2)), 1.0);
        const gh = sh * load<f32>(whScale + (<usize>j << 2));
        store<f32>(zBase + (<usize>j << 2), (<f32>ax * gx + <f32>ah * gh) + load<f32>(bias + (<usize>j << 2)));
      }
      for (let u = 0; u < units; u++) {
        const zi = load<f32>(zBase + (<usize>u << 2));
        const zf = load<f32>(zBase + (<usize>(units + u) << 2));
        const zg = load<f32>(zBase + (<usize>(2 * units + u) << 2));
        const zo = load<f32>(zBase + (<usize>(3 * units + u) << 2));
        const cc = activate_f32(recAct, zf) * load<f32>(c + (<usize>u << 2))
          + activate_f32(recAct, zi) * activate_f32(act, zg);
        const hh = activate_f32(recAct, zo) * activate_f32(act, cc);
        store<f32>(c + (<usize>u << 2), cc);
        store<f32>(h + (<usize>u << 2), hh);
        if (sequences || t == steps - 1) {
          const row = sequences ? b * steps + outputStep(t, steps, direction) : b;
          store<i8>(y + <usize>(row * units + u), quantize(hh * invOut, outZp, -128, 127));
        }
      }
    }
  }
}

export function lstm_s8_gemm(
  x: usize, batch: i32, steps: i32, features: i32, units: i32,
  packed: usize, bias: usize, outScale: f32, outZp: i32,
  act: i32, recAct: i32, sequences: i32, direction: i32, y: usize, scratch: usize,
): void {
  const n = 4 * units;
  const np = roundUp16(n);
  const bu = <usize>batch * <usize>units;
  const packedX = packed;
  const packedH = packed + align16(packed_size_1x16c2(n, features));
  const gxBase = packedX + (<usize>np << 2); // sx · swx[j]
  const ghBase = packedH + (<usize>np << 2); // swh[j]
  const zx = scratch;
  const zh = zx + align16(<usize>batch * <usize>steps * <usize>np * 4);
  const hBase = zh + align16(<usize>batch * <usize>np * 4);
  const cBase = hBase + align16(bu * 4);
  const hqBase = cBase + align16(bu * 4);
  const invOut: f32 = <f32>1.0 / outScale;
  const lo = <f32>(<i32>-128 - outZp);
  const hi = <f32>(<i32>127 - outZp);
  memory.fill(hBase, 0, bu * 8 + 16);
  memory.fill(hqBase, 0, bu + 16);
  gemm_s8_1x16c2(batch * steps, features, n, x, features, packedX, zx, np);
  for (let t = 0; t < steps; t++) {
    const ts = inputStep(t, steps, direction);
    for (let b = 0; b < batch; b++) {
      const h = hBase + ((<usize>b * <usize>units) << 2);
      const sh = quantizeHidden(h, units, hqBase + <usize>b * <usize>units, true);
      store<f32>(hqBase + align16(bu + 16) + (<usize>b << 2), sh);
    }
    gemm_s8_1x16c2(batch, units, n, hqBase, units, packedH, zh, np);
    // Each batch row goes through passes over its units, as in gru_s8_gemm: the gate
    // pre-activations in place of the recurrent product (i32 → f32, same slot), the
    // activations over whole rows (activation_f32_x4: one copy of tanh and sigmoid in the
    // engine; inlined per gate, they were half of this kernel's code), then c and h. The
    // same f32 operations in the same order as the reference: bit-exact.
    for (let b = 0; b < batch; b++) {
      const sh = load<f32>(hqBase + align16(bu + 16) + (<usize>b << 2));
      const zxr = zx + ((<usize>(b * steps + ts) * <usize>np) << 2);
      const zhr = zh + ((<usize>b * <usize>np) << 2);
      const h = hBase + ((<usize>b * <usize>units) << 2);
      const c = cBase + ((<usize>b * <usize>units) << 2);
      let j = 0;
      if (ASC_FEATURE_SIMD) {
        const vsh = f32x4.splat(sh);
        for (; j + 4 <= n; j += 4) v128.store(zhr + (<usize>j << 2), gate4(zxr, zhr, gxBase, ghBase, bias, j, vsh));
      }
      for (; j < n; j++) store<f32>(zhr + (<usize>j << 2), gate(zxr, zhr, gxBase, ghBase, bias, j, sh));
      const zi = zhr, zf = zhr + (<usize>units << 2), zg = zhr + (<usize>units << 3), zo = zg + (<usize>units << 2);
      activation_f32_x4(recAct, zi, 2 * units, zi); // i and f
      activation_f32_x4(act, zg, units, zg);
      activation_f32_x4(recAct, zo, units, zo);
      // c = f·c + i·g, then act(c) where i was
      let u = 0;
      if (ASC_FEATURE_SIMD) {
        for (; u + 4 <= units; u += 4) {
          const o = <usize>u << 2;
          v128.store(c + o, f32x4.add(f32x4.mul(v128.load(zf + o), v128.load(c + o)), f32x4.mul(v128.load(zi + o), v128.load(zg + o))));
        }
      }
      for (; u < units; u++) {
        const o = <usize>u << 2;
        store<f32>(c + o, load<f32>(zf + o) * load<f32>(c + o) + load<f32>(zi + o) * load<f32>(zg + o));
      }
      activation_f32_x4(act, c, units, zi);
      // h = o · act(c), and the output
      const yr = y + <usize>((sequences ? b * steps + outputStep(t, steps, direction) : b) * units);
      const store_y = sequences || t == steps - 1;
      u = 0;
      if (ASC_FEATURE_SIMD) {
        const vinv = f32x4.splat(invOut);
        const magic = i32x4.splat(MAGIC_BITS - outZp);
        const vlo = f32x4.splat(lo);
        const vhi = f32x4.splat(hi);
        for (; u + 4 <= units; u += 4) {
          const o = <usize>u << 2;
          const hh = f32x4.mul(v128.load(zo + o), v128.load(zi + o));
          v128.store(h + o, hh);
          if (store_y) {
            const q = quantize4(f32x4.mul(hh, vinv), magic, vlo, vhi);
            v128.store32_lane(yr + u, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q, q), q), 0);
          }
        }
      }
      for (; u < units; u++) {
        const o = <usize>u << 2;
        const hh = load<f32>(zo + o) * load<f32>(zi + o);
        store<f32>(h + o, hh);
        if (store_y) store<i8>(yr + u, quantize(hh * invOut, outZp, -128, 127));
      }
    }
  }
}

// @ts-ignore: decorator
@inline function gate(zxr: usize, zhr: usize, gx: usize, gh: usize, bias: usize, j: i32, sh: f32): f32 {
  const o = <usize>j << 2;
  return (<f32>load<i32>(zxr + o) * load<f32>(gx + o) + <f32>load<i32>(zhr + o) * (sh * load<f32>(gh + o)))
    + load<f32>(bias + o);
}

// @ts-ignore: decorator
@inline function gate4(zxr: usize, zhr: usize, gx: usize, gh: usize, bias: usize, j: i32, sh: v128): v128 {
  const o = <usize>j << 2;
  return f32x4.add(
    f32x4.add(
      f32x4.mul(f32x4.convert_i32x4_s(v128.load(zxr + o)), v128.load(gx + o)),
      f32x4.mul(f32x4.convert_i32x4_s(v128.load(zhr + o)), f32x4.mul(sh, v128.load(gh + o)))),
    v128.load(bias + o));
}
