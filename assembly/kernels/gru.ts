// GRU layer with int8 input and int8 weights; gate math in f32 (the LSTM's dynamic-range
// scheme, assembly/kernels/lstm.ts). Keras' cell, gates z, r, h in that order:
//
//   xg[j] = sx·swx[j]·Σ_f (x_t[f] − zpx)·Wx[j][f] + bx[j]             (j over 3U)
//   hg[j] = sh_t·swh[j]·Σ_u hq[u]·Wh[j][u] + bh[j]                       (reset_after)
//   z = recAct(xg_z + hg_z);  r = recAct(xg_r + hg_r)
//   reset_after 1 (Keras' default):  hh = act(xg_h + r · hg_h)
//   reset_after 0 (TF.js's GRU): no bh;  hh = act(xg_h + srh·swh[j]·Σ_u rq[u]·Wh[j][u]),
//                  rq = r ⊙ h requantized to int8 as h is (scale srh)
//   h_t = z · h_{t−1} + (1 − z) · hh;   y = quantize(h_t / out_scale) to int8
//
// hq = round(h_{t−1} · 127 / max|h_{t−1}|), sh_t = max|h_{t−1}| / 127, per batch row.
// Weights: Wx int8 [3U][F], Wh int8 [3U][U], per-row f32 scales; bias f32 [3U] (bx) or
// [2][3U] (bx, bh: reset_after). x: int8 [batch][steps][F]; h starts at 0 and stays f32.
// direction (RNN_* in format.ts): the step order, and where each step's output goes.
//
//   gru_s8_ref    the definition.
//   gru_s8_gemm   input projection for all steps as one gemm_s8 (GEMM_OUT_S32), the
//                 recurrent products per step as gemms over the batch, gate math in f32x4
//                 passes over each row with the same f32 operations in the same order:
//                 bit-exact. Weights packed by gru_pack. Over-read as gemm_s8.
// scratch: gru_scratch_size bytes (both variants).

import { MAGIC_BITS, quantize, quantize4, quant_multiplier } from "../quant";
import { activate_f32, activation_f32_x4 } from "./activation";

// The reference's activations as a call, not inlined (its speed does not matter; each
// inlined copy of tanh and sigmoid is engine size).
function act1(act: i32, x: f32): f32 { return activate_f32(act, x); }
import { GEMM_OUT_S32, gemm_multipliers, gemm_pack, gemm_packed_size, gemm_s8 } from "./gemm";
import { align16, inputStep, outputStep, quantizeHidden } from "./recurrent";

export function gru_scratch_size(batch: i32, steps: i32, units: i32): usize {
  const bu = <usize>batch * <usize>units;
  return align16(<usize>batch * <usize>steps * <usize>units * 12) // zx: i32 [B·T][3U]
    + align16(bu * 12) // zh: i32 [B][3U]
    + align16(bu * 4) * 3 // h, z, rh: f32 [B][U]
    + align16(bu + 16) // hq: i8 [B][U] + over-read
    + align16(<usize>batch * 4); // sh: f32 [B]
}

// Wx as one gemm matrix; Wh as one [3U][U] matrix (reset_after) or as [2U][U] (z, r) and
// [U][U] (h), since the h gate's product then reads r ⊙ h.
export function gru_packed_size(features: i32, units: i32, resetAfter: i32): usize {
  const x = align16(gemm_packed_size(3 * units, features));
  return resetAfter ? x + gemm_packed_size(3 * units, units)
    : x + align16(gemm_packed_size(2 * units, units)) + gemm_packed_size(units, units);
}

export function gru_pack(
  wx: usize, wxScale: usize, wh: usize, whScale: usize, features: i32, units: i32, resetAfter: i32,
  inScale: f32, inZp: i32, packed: usize,
): void {
  gemm_pack(wx, 3 * units, features, 0, wxScale, inScale, inZp, 1.0, packed);
  const ph = packed + align16(gemm_packed_size(3 * units, features));
  if (resetAfter) {
    gemm_pack(wh, 3 * units, units, 0, whScale, 1.0, 0, 1.0, ph);
  } else {
    gemm_pack(wh, 2 * units, units, 0, whScale, 1.0, 0, 1.0, ph);
    gemm_pack(wh + <usize>(2 * units * units), units, units, 0, whScale + (<usize>(2 * units) << 2), 1.0, 0, 1.0,
      ph + align16(gemm_packed_size(2 * units, units)));
  }
}

export function gru_s8_ref(
  x: usize, batch: i32, steps: i32, features: i32, units: i32,
  wx: usize, wxScale: usize, wh: usize, whScale: usize, bias: usize, resetAfter: i32,
  inScale: f32, inZp: i32, outScale: f32, outZp: i32,
  act: i32, recAct: i32, sequences: i32, direction: i32, y: usize, scratch: usize,
): void {
  const n = 3 * units;
  const bh = bias + (<usize>n << 2);
  const h = scratch; // f32 [U], one batch row at a time
  const rh = h + align16(<usize>units * 4); // f32 [U]
  const xg = rh + align16(<usize>units * 4); // f32 [3U]
  const hg = xg + align16(<usize>n * 4); // f32 [3U]
  const hq = hg + align16(<usize>n * 4); // i8 [U]
  const invOut: f32 = <f32>1.0 / outScale;
  for (let b = 0; b < batch; b++) {
    memory.fill(h, 0, <usize>units * 4);
    for (let t = 0; t < steps; t++) {
      const sh = quantizeHidden(h, units, hq, false);
      const xt = x + <usize>((b * steps + inputStep(t, steps, direction)) * features);
      for (let j = 0; j < n; j++) {
        let ax: i32 = 0;
        for (let f = 0; f < features; f++) ax += (<i32>load<i8>(xt + f) - inZp) * <i32>load<i8>(wx + <usize>(j * features + f));
        const gx = quant_multiplier(inScale, load<f32>(wxScale + (<usize>j << 2)), 1.0);
        store<f32>(xg + (<usize>j << 2), <f32>ax * gx + load<f32>(bias + (<usize>j << 2)));
        if (!resetAfter && j >= 2 * units) continue; // the h gate's product reads r ⊙ h
        let ah: i32 = 0;
        for (let u = 0; u < units; u++) ah += <i32>load<i8>(hq + u) * <i32>load<i8>(wh + <usize>(j * units + u));
        const g = <f32>ah * (sh * load<f32>(whScale + (<usize>j << 2)));
        store<f32>(hg + (<usize>j << 2), resetAfter ? g + load<f32>(bh + (<usize>j << 2)) : g);
      }
      if (!resetAfter) {
        for (let u = 0; u < units; u++) {
          const r = act1(recAct, load<f32>(xg + (<usize>(units + u) << 2)) + load<f32>(hg + (<usize>(units + u) << 2)));
          store<f32>(rh + (<usize>u << 2), r * load<f32>(h + (<usize>u << 2)));
        }
        const srh = quantizeHidden(rh, units, hq, false);
        for (let u = 0; u < units; u++) {
          const j = 2 * units + u;
          let ah: i32 = 0;
          for (let v = 0; v < units; v++) ah += <i32>load<i8>(hq + v) * <i32>load<i8>(wh + <usize>(j * units + v));
          store<f32>(hg + (<usize>j << 2), <f32>ah * (srh * load<f32>(whScale + (<usize>j << 2))));
        }
      }
      for (let u = 0; u < units; u++) {
        const z = act1(recAct, load<f32>(xg + (<usize>u << 2)) + load<f32>(hg + (<usize>u << 2)));
        const xh = load<f32>(xg + (<usize>(2 * units + u) << 2));
        const hh_ = load<f32>(hg + (<usize>(2 * units + u) << 2));
        let pre: f32;
        if (resetAfter) {
          const r = act1(recAct, load<f32>(xg + (<usize>(units + u) << 2)) + load<f32>(hg + (<usize>(units + u) << 2)));
          pre = xh + r * hh_;
        } else {
          pre = xh + hh_;
        }
        const hn = z * load<f32>(h + (<usize>u << 2)) + (<f32>1.0 - z) * act1(act, pre);
        store<f32>(h + (<usize>u << 2), hn);
        if (sequences || t == steps - 1) {
          const row = sequences ? b * steps + outputStep(t, steps, direction) : b;
          store<i8>(y + <usize>(row * units + u), quantize(hn * invOut, outZp, -128, 127));
        }
      }
    }
  }
}

export function gru_s8_gemm(
  x: usize, batch: i32, steps: i32, features: i32, units: i32,
  packed: usize, bias: usize, resetAfter: i32, outScale: f32, outZp: i32,
  act: i32, recAct: i32, sequences: i32, direction: i32, y: usize, scratch: usize,
): void {
  const n = 3 * units;
  const bu = <usize>batch * <usize>units;
  const packedX = packed;
  const packedH = packed + align16(gemm_packed_size(n, features));
  const packedHh = packedH + align16(gemm_packed_size(2 * units, units)); // reset_after 0: the h gate
  const gx = gemm_multipliers(packedX, n); // sx · swx[j]
  const gh = gemm_multipliers(packedH, resetAfter ? n : 2 * units); // swh[j]
  const ghh = resetAfter ? gh : gemm_multipliers(packedHh, units); // the h gate's, indexed from hgOff
  const bh = bias + (<usize>n << 2);
  const nh = resetAfter ? n : 2 * units; // the first recurrent product: z, r (and h)
  const ldh = resetAfter ? n : units; // zh's row length in the last pass
  const hgOff = resetAfter ? 2 * units : 0; // where the h gate's product is in a zh row
  const zx = scratch;
  const zh = zx + align16(<usize>batch * <usize>steps * <usize>units * 12);
  const hBase = zh + align16(bu * 12);
  const zBase = hBase + align16(bu * 4);
  const rBase = zBase + align16(bu * 4); // r, then r ⊙ h or the h gate's pre-activation
  const hqBase = rBase + align16(bu * 4);
  const shBase = hqBase + align16(bu + 16);
  const invOut: f32 = <f32>1.0 / outScale;
  const lo = <f32>(<i32>-128 - outZp);
  const hi = <f32>(<i32>127 - outZp);
  memory.fill(hBase, 0, bu * 4);
  memory.fill(hqBase, 0, bu + 16);
  gemm_s8(batch * steps, n, features, x, features, packedX, zx, n, GEMM_OUT_S32, 0, 0, 0);
  // Each batch row goes through passes over its units: pre-activations into z and r,
  // the activations over whole rows (activation_f32_x4: one copy of tanh and sigmoid in
  // the engine, bit-exact with the reference's per-value calls), then the combination.
  for (let t = 0; t < steps; t++) {
    const ts = inputStep(t, steps, direction);
    for (let b = 0; b < batch; b++) {
      store<f32>(shBase + (<usize>b << 2), quantizeHidden(hBase + ((<usize>b * <usize>units) << 2), units, hqBase + <usize>b * <usize>units, true));
    }
    gemm_s8(batch, nh, units, hqBase, units, packedH, zh, nh, GEMM_OUT_S32, 0, 0, 0);
    for (let b = 0; b < batch; b++) {
      const s = load<f32>(shBase + (<usize>b << 2));
      const xr = zx + ((<usize>(b * steps + ts) * <usize>n) << 2);
      const hr = zh + ((<usize>b * <usize>nh) << 2);
      const z = zBase + ((<usize>b * <usize>units) << 2);
      const r = rBase + ((<usize>b * <usize>units) << 2);
      let u = 0;
      if (ASC_FEATURE_SIMD) {
        const vs = f32x4.splat(s);
        for (; u + 4 <= units; u += 4) {
          let hz = hgate4(hr, gh, u, vs), hrr = hgate4(hr, gh, units + u, vs);
          if (resetAfter) { hz = f32x4.add(hz, v128.load(bh + (<usize>u << 2))); hrr = f32x4.add(hrr, v128.load(bh + (<usize>(units + u) << 2))); }
          v128.store(z + (<usize>u << 2), f32x4.add(xgate4(xr, gx, bias, u), hz));
          v128.store(r + (<usize>u << 2), f32x4.add(xgate4(xr, gx, bias, units + u), hrr));
        }
      }
      for (; u < units; u++) {
        let hz = hgate(hr, gh, u, s), hrr = hgate(hr, gh, units + u, s);
        if (resetAfter) { hz += load<f32>(bh + (<usize>u << 2)); hrr += load<f32>(bh + (<usize>(units + u) << 2)); }
        store<f32>(z + (<usize>u << 2), xgate(xr, gx, bias, u) + hz);
        store<f32>(r + (<usize>u << 2), xgate(xr, gx, bias, units + u) + hrr);
      }
      activation_f32_x4(recAct, z, units, z);
      activation_f32_x4(recAct, r, units, r);
      if (!resetAfter) {
        // r ⊙ h, requantized for the h gate's product (which overwrites zh)
        const h = hBase + ((<usize>b * <usize>units) << 2);
        u = 0;
        if (ASC_FEATURE_SIMD) for (; u + 4 <= units; u += 4) v128.store(r + (<usize>u << 2), f32x4.mul(v128.load(r + (<usize>u << 2)), v128.load(h + (<usize>u << 2))));
        for (; u < units; u++) store<f32>(r + (<usize>u << 2), load<f32>(r + (<usize>u << 2)) * load<f32>(h + (<usize>u << 2)));
        store<f32>(shBase + (<usize>b << 2), quantizeHidden(r, units, hqBase + <usize>b * <usize>units, true));
      }
    }
    if (!resetAfter) gemm_s8(batch, units, units, hqBase, units, packedHh, zh, units, GEMM_OUT_S32, 0, 0, 0);
    for (let b = 0; b < batch; b++) {
      const s = load<f32>(shBase + (<usize>b << 2)); // sh (reset_after) or srh
      const xr = zx + ((<usize>(b * steps + ts) * <usize>n) << 2);
      const hr = zh + ((<usize>b * <usize>ldh) << 2);
      const h = hBase + ((<usize>b * <usize>units) << 2);
      const z = zBase + ((<usize>b * <usize>units) << 2);
      const r = rBase + ((<usize>b * <usize>units) << 2);
      // the h gate's pre-activation, over r
      let u = 0;
      if (ASC_FEATURE_SIMD) {
        const vs = f32x4.splat(s);
        for (; u + 4 <= units; u += 4) {
          const xh = xgate4(xr, gx, bias, 2 * units + u), hh_ = hgate4(hr, ghh, hgOff + u, vs);
          v128.store(r + (<usize>u << 2), resetAfter
            ? f32x4.add(xh, f32x4.mul(v128.load(r + (<usize>u << 2)), f32x4.add(hh_, v128.load(bh + (<usize>(2 * units + u) << 2)))))
            : f32x4.add(xh, hh_));
        }
      }
      for (; u < units; u++) {
        const xh = xgate(xr, gx, bias, 2 * units + u), hh_ = hgate(hr, ghh, hgOff + u, s);
        store<f32>(r + (<usize>u << 2), resetAfter ? xh + load<f32>(r + (<usize>u << 2)) * (hh_ + load<f32>(bh + (<usize>(2 * units + u) << 2))) : xh + hh_);
      }
      activation_f32_x4(act, r, units, r);
      // h_t = z · h + (1 − z) · hh, and the output
      const yr = y + <usize>((sequences ? b * steps + outputStep(t, steps, direction) : b) * units);
      const store_y = sequences || t == steps - 1;
      u = 0;
      if (ASC_FEATURE_SIMD) {
        const one = f32x4.splat(1.0);
        const vinv = f32x4.splat(invOut);
        const magic = i32x4.splat(MAGIC_BITS - outZp);
        const vlo = f32x4.splat(lo);
        const vhi = f32x4.splat(hi);
        for (; u + 4 <= units; u += 4) {
          const zv = v128.load(z + (<usize>u << 2));
          const hn = f32x4.add(f32x4.mul(zv, v128.load(h + (<usize>u << 2))), f32x4.mul(f32x4.sub(one, zv), v128.load(r + (<usize>u << 2))));
          v128.store(h + (<usize>u << 2), hn);
          if (store_y) {
            const q = quantize4(f32x4.mul(hn, vinv), magic, vlo, vhi);
            v128.store32_lane(yr + u, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q, q), q), 0);
          }
        }
      }
      for (; u < units; u++) {
        const zv = load<f32>(z + (<usize>u << 2));
        const hn = zv * load<f32>(h + (<usize>u << 2)) + (<f32>1.0 - zv) * load<f32>(r + (<usize>u << 2));
        store<f32>(h + (<usize>u << 2), hn);
        if (store_y) store<i8>(yr + u, quantize(hn * invOut, outZp, -128, 127));
      }
    }
  }
}

// The input part of gate j: zx[j] · (sx·swx[j]) + bx[j].
// @ts-ignore: decorator
@inline function xgate(zxr: usize, gx: usize, bias: usize, j: i32): f32 {
  const o = <usize>j << 2;
  return <f32>load<i32>(zxr + o) * load<f32>(gx + o) + load<f32>(bias + o);
}

// The recurrent product of gate j: zh[j] · (s·swh[j]), s the row's hidden-state scale.
// @ts-ignore: decorator
@inline function hgate(zhr: usize, gh: usize, j: i32, s: f32): f32 {
  const o = <usize>j << 2;
  return <f32>load<i32>(zhr + o) * (s * load<f32>(gh + o));
}

// @ts-ignore: decorator
@inline function xgate4(zxr: usize, gx: usize, bias: usize, j: i32): v128 {
  const o = <usize>j << 2;
  return f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(v128.load(zxr + o)), v128.load(gx + o)), v128.load(bias + o));
}

// @ts-ignore: decorator
@inline function hgate4(zhr: usize, gh: usize, j: i32, s: v128): v128 {
  const o = <usize>j << 2;
  return f32x4.mul(f32x4.convert_i32x4_s(v128.load(zhr + o)), f32x4.mul(s, v128.load(gh + o)));
}
