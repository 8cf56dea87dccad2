// What the recurrent kernels (lstm, gru) share: the per-step requantization of the
// hidden state for the recurrent product, and the step order (RNN_* in format.ts).

import { RNN_BACKWARD } from "../format";

// @ts-ignore: decorator
@inline export function align16(n: usize): usize { return (n + 15) & ~15; }

// The input step read at time t: t, or T−1−t when running backwards.
// @ts-ignore: decorator
@inline export function inputStep(t: i32, steps: i32, direction: i32): i32 {
  return direction != 0 ? steps - 1 - t : t;
}

// The output row (of the sequence) that time t writes: its input step, except for
// go_backwards, whose outputs are in the order they were computed.
// @ts-ignore: decorator
@inline export function outputStep(t: i32, steps: i32, direction: i32): i32 {
  return direction == RNN_BACKWARD ? t : inputStep(t, steps, direction);
}

// One batch row of a float state h [units] as int8 for the recurrent product:
//   hq[u] = round(h[u] · 127 / max|h|), returns the scale max|h| / 127 (0 when h is all 0).
// The SIMD and scalar paths give the same bytes (max is exact, the rest per element).
// @ts-ignore: decorator
@inline export function quantizeHidden(h: usize, units: i32, hq: usize, vector: bool): f32 {
  let m: f32 = 0;
  let u = 0;
  if (ASC_FEATURE_SIMD) if (vector) {
    let mv = f32x4.splat(0);
    for (; u + 4 <= units; u += 4) mv = f32x4.max(mv, f32x4.abs(v128.load(h + (<usize>u << 2))));
    m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  }
  for (; u < units; u++) m = max(m, abs(load<f32>(h + (<usize>u << 2))));
  const inv: f32 = m > 0 ? <f32>127.0 / m : 0;
  u = 0;
  if (ASC_FEATURE_SIMD) if (vector) {
    const vinv = f32x4.splat(inv);
    for (; u + 4 <= units; u += 4) {
      const q = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(h + (<usize>u << 2)), vinv)));
      v128.store32_lane(hq + u, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q, q), q), 0);
    }
  }
  for (; u < units; u++) store<i8>(hq + u, <i32>nearest(load<f32>(h + (<usize>u << 2)) * inv));
  return m / <f32>127.0;
}
