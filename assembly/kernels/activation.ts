// Float activations for LSTM gates and model outputs.
//
// Each function has a scalar form and an f32x4 form built from the same f32 operations
// in the same order, so they agree bit for bit (tested). exp is computed here rather
// than taken from a math library so that no host and no SIMD width can change a bit.

import { ACT_F_HARD_SIGMOID, ACT_F_RELU, ACT_F_SIGMOID, ACT_F_TANH } from "../format";

const EXP_MIN: f32 = -87.0;
const EXP_MAX: f32 = 88.0;
const LOG2E: f32 = 1.44269504;
// ln 2 split so that n * LN2_HI is exact for |n| < 2^9 (Cody–Waite reduction).
const LN2_HI: f32 = 0.693145751953125;
const LN2_LO: f32 = 1.428606820309417e-6;
// 1/k! for the Taylor series of e^r on |r| <= ln2 / 2 (error below 2^-23).
const C2: f32 = 0.5;
const C3: f32 = 0.16666666666666666;
const C4: f32 = 0.041666666666666664;
const C5: f32 = 0.008333333333333333;
const C6: f32 = 0.001388888888888889;
const C7: f32 = 0.0001984126984126984;
// tanh(9) rounds to 1 in f32.
const TANH_CLAMP: f32 = 9.0;

// @ts-ignore: decorator
@inline export function exp_f32(x: f32): f32 {
  x = min(max(x, EXP_MIN), EXP_MAX);
  const n = nearest(x * LOG2E);
  const r = (x - n * LN2_HI) - n * LN2_LO;
  const p = <f32>1.0 + r * (<f32>1.0 + r * (C2 + r * (C3 + r * (C4 + r * (C5 + r * (C6 + r * C7))))));
  return p * reinterpret<f32>((<i32>n + 127) << 23);
}

// @ts-ignore: decorator
@inline export function exp_f32x4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(EXP_MIN)), f32x4.splat(EXP_MAX));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.add(f32x4.splat(C6), f32x4.mul(r, f32x4.splat(C7)));
  p = f32x4.add(f32x4.splat(C5), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(C4), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(C3), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(C2), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(1.0), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(1.0), f32x4.mul(r, p));
  const pow2 = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, pow2);
}

// @ts-ignore: decorator
@inline export function sigmoid_f32(x: f32): f32 {
  return <f32>1.0 / (<f32>1.0 + exp_f32(-x));
}

// @ts-ignore: decorator
@inline export function sigmoid_f32x4(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, exp_f32x4(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline export function tanh_f32(x: f32): f32 {
  x = min(max(x, -TANH_CLAMP), TANH_CLAMP);
  return <f32>1.0 - <f32>2.0 / (exp_f32(x + x) + <f32>1.0);
}

// @ts-ignore: decorator
@inline export function tanh_f32x4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-TANH_CLAMP)), f32x4.splat(TANH_CLAMP));
  const one = f32x4.splat(1.0);
  return f32x4.sub(one, f32x4.div(f32x4.splat(2.0), f32x4.add(exp_f32x4(f32x4.add(x, x)), one)));
}

// TF.js / Keras 2: clip(0.2 x + 0.5, 0, 1).
// @ts-ignore: decorator
@inline export function hard_sigmoid_f32(x: f32): f32 {
  return min(max(x * <f32>0.2 + <f32>0.5, <f32>0.0), <f32>1.0);
}

// @ts-ignore: decorator
@inline export function hard_sigmoid_f32x4(x: v128): v128 {
  const y = f32x4.add(f32x4.mul(x, f32x4.splat(0.2)), f32x4.splat(0.5));
  return f32x4.min(f32x4.max(y, f32x4.splat(0.0)), f32x4.splat(1.0));
}

// One of ACT_F_*; the branch is outside every inner loop.
// @ts-ignore: decorator
@inline export function activate_f32(act: i32, x: f32): f32 {
  if (act == ACT_F_RELU) return max(x, <f32>0.0);
  if (act == ACT_F_TANH) return tanh_f32(x);
  if (act == ACT_F_SIGMOID) return sigmoid_f32(x);
  if (act == ACT_F_HARD_SIGMOID) return hard_sigmoid_f32(x);
  return x;
}

// @ts-ignore: decorator
@inline export function activate_f32x4(act: i32, x: v128): v128 {
  if (act == ACT_F_RELU) return f32x4.max(x, f32x4.splat(0.0));
  if (act == ACT_F_TANH) return tanh_f32x4(x);
  if (act == ACT_F_SIGMOID) return sigmoid_f32x4(x);
  if (act == ACT_F_HARD_SIGMOID) return hard_sigmoid_f32x4(x);
  return x;
}

// y = act(x) four at a time for act a constant; returns where the scalar tail starts.
// @ts-ignore: decorator
@inline function map_f32x4(act: i32, x: usize, n: i32, y: usize): i32 {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), activate_f32x4(act, v128.load(x + (<usize>i << 2))));
  return i;
}

// Applies activation `act` to n floats: the ref form and the vector form (bit-exact).
export function activation_f32_ref(act: i32, x: usize, n: i32, y: usize): void {
  for (let i = 0; i < n; i++) {
    store<f32>(y + (<usize>i << 2), activate_f32(act, load<f32>(x + (<usize>i << 2))));
  }
}

export function activation_f32_x4(act: i32, x: usize, n: i32, y: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // A loop per function: V8 does not unswitch loops, so one loop over
    // activate_f32x4(act, …) compared act up to four times a vector and rebuilt the
    // chain's constants each time (the LSTM's gate passes took a fifth of its time).
    if (act == ACT_F_RELU) i = map_f32x4(ACT_F_RELU, x, n, y);
    else if (act == ACT_F_TANH) i = map_f32x4(ACT_F_TANH, x, n, y);
    else if (act == ACT_F_SIGMOID) i = map_f32x4(ACT_F_SIGMOID, x, n, y);
    else if (act == ACT_F_HARD_SIGMOID) i = map_f32x4(ACT_F_HARD_SIGMOID, x, n, y);
    else i = map_f32x4(act, x, n, y); // the rest: one loop that picks per vector
  }
  for (; i < n; i++) {
    store<f32>(y + (<usize>i << 2), activate_f32(act, load<f32>(x + (<usize>i << 2))));
  }
}

// Row-wise softmax of int8 logits with this scale into f32 probabilities. The zero
// point cancels out (softmax is shift-invariant), so it is not an argument.
export function softmax_s8_f32(x: usize, rows: i32, n: i32, scale: f32, y: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>(r * n);
    const yr = y + (<usize>(r * n) << 2);
    let qmax: i32 = -128;
    for (let i = 0; i < n; i++) qmax = max(qmax, <i32>load<i8>(xr + i));
    let sum: f32 = 0;
    for (let i = 0; i < n; i++) {
      const e = exp_f32(scale * <f32>(<i32>load<i8>(xr + i) - qmax));
      store<f32>(yr + (<usize>i << 2), e);
      sum += e;
    }
    const inv = <f32>1.0 / sum;
    for (let i = 0; i < n; i++) store<f32>(yr + (<usize>i << 2), load<f32>(yr + (<usize>i << 2)) * inv);
  }
}
