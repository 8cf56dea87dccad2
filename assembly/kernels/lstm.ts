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
//   lstm_s8_gemm   input projection for all steps as one gemm_s8 (GEMM_OUT_S32),
//                   the recurrent product per step as another, gate math in f32x4
//                   row passes with the same f32 operations in the same order:
//                   bit-exact.
//                   Wx and Wh packed by lstm_pack. Over-read as gemm_s8.
// scratch: lstm_scratch_size bytes (both variants).

import { MAGIC_BITS, quantize, quantize4, quant_multiplier } from "../quant";
import { activate_f32, activation_f32_x4 } from "./activation";
import { GEMM_OUT_S32, gemm_multipliers, gemm_pack, gemm_packed_size, gemm_s8 } from "./gemm";
import { align16, inputStep, outputStep, quantizeHidden } from "./recurrent";

export function lstm_scratch_size(batch: i32, steps: i32, units: i32): usize {
  const bu = <usize>batch * <usize>units;
  return align16(<usize>batch * <usize>steps * <usize>units * 16) // zx: i32 [B·T][4U]
    + align16(bu * 16) // zh: i32 [B][4U]
    + align16(bu * 4) * 2 // h, c: f32 [B][U]
    + align16(bu + 16) // hq: i8 [B][U] + over-read
    + align16(<usize>batch * 4); // sh: f32 [B]
}

export function lstm_packed_size(features: i32, units: i32): usize {
  return align16(gemm_packed_size(4 * units, features)) + gemm_packed_size(4 * units, units);
}

export function lstm_pack(
  wx: usize, wxScale: usize, wh: usize, whScale: usize, features: i32, units: i32,
  inScale: f32, inZp: i32, packed: usize,
): void {
  const n = 4 * units;
  gemm_pack(wx, n, features, 0, wxScale, inScale, inZp, 1.0, packed);
  gemm_pack(wh, n, units, 0, whScale, 1.0, 0, 1.0, packed + align16(gemm_packed_size(n, features)));
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
  const bu = <usize>batch * <usize>units;
  const packedX = packed;
  const packedH = packed + align16(gemm_packed_size(n, features));
  const gxBase = gemm_multipliers(packedX, n); // sx · swx[j]
  const ghBase = gemm_multipliers(packedH, n); // swh[j]
  const zx = scratch;
  const zh = zx + align16(<usize>batch * <usize>steps * <usize>units * 16);
  const hBase = zh + align16(bu * 16);
  const cBase = hBase + align16(bu * 4);
  const hqBase = cBase + align16(bu * 4);
  const invOut: f32 = <f32>1.0 / outScale;
  const lo = <f32>(<i32>-128 - outZp);
  const hi = <f32>(<i32>127 - outZp);
  memory.fill(hBase, 0, bu * 8 + 16);
  memory.fill(hqBase, 0, bu + 16);
  gemm_s8(batch * steps, n, features, x, features, packedX, zx, n, GEMM_OUT_S32, 0, 0, 0);
  for (let t = 0; t < steps; t++) {
    const ts = inputStep(t, steps, direction);
    for (let b = 0; b < batch; b++) {
      const h = hBase + ((<usize>b * <usize>units) << 2);
      const sh = quantizeHidden(h, units, hqBase + <usize>b * <usize>units, true);
      store<f32>(hqBase + align16(bu + 16) + (<usize>b << 2), sh);
    }
    gemm_s8(batch, n, units, hqBase, units, packedH, zh, n, GEMM_OUT_S32, 0, 0, 0);
    // Each batch row goes through passes over its units, as in gru_s8_gemm: the gate
    // pre-activations in place of the recurrent product (i32 → f32, same slot), the
    // activations over whole rows (activation_f32_x4: one copy of tanh and sigmoid in the
    // engine; inlined per gate, they were half of this kernel's code), then c and h. The
    // same f32 operations in the same order as the reference: bit-exact.
    for (let b = 0; b < batch; b++) {
      const sh = load<f32>(hqBase + align16(bu + 16) + (<usize>b << 2));
      const zxr = zx + ((<usize>(b * steps + ts) * <usize>n) << 2);
      const zhr = zh + ((<usize>b * <usize>n) << 2);
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
