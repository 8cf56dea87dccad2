// Throughput ceiling of i32x4.dot_i16x8_s with operands in registers: the yardstick
// the kernel benchmark reports every kernel against. Each of 12 chains feeds its
// accumulator back in as an operand, so no compiler can merge or hoist the products,
// and 12 chains in flight cover the instruction's latency.
export function peak_dot_i16x8(iterations: i32, seed: i32): i32 {
  if (!ASC_FEATURE_SIMD) return 0;
  const b = i16x8.splat(<i16>seed);
  let c0 = i32x4.splat(0), c1 = i32x4.splat(1), c2 = i32x4.splat(2), c3 = i32x4.splat(3);
  let c4 = i32x4.splat(4), c5 = i32x4.splat(5), c6 = i32x4.splat(6), c7 = i32x4.splat(7);
  let c8 = i32x4.splat(8), c9 = i32x4.splat(9), c10 = i32x4.splat(10), c11 = i32x4.splat(11);
  for (let i = 0; i < iterations; i++) {
    c0 = i32x4.add(c0, i32x4.dot_i16x8_s(c0, b));
    c1 = i32x4.add(c1, i32x4.dot_i16x8_s(c1, b));
    c2 = i32x4.add(c2, i32x4.dot_i16x8_s(c2, b));
    c3 = i32x4.add(c3, i32x4.dot_i16x8_s(c3, b));
    c4 = i32x4.add(c4, i32x4.dot_i16x8_s(c4, b));
    c5 = i32x4.add(c5, i32x4.dot_i16x8_s(c5, b));
    c6 = i32x4.add(c6, i32x4.dot_i16x8_s(c6, b));
    c7 = i32x4.add(c7, i32x4.dot_i16x8_s(c7, b));
    c8 = i32x4.add(c8, i32x4.dot_i16x8_s(c8, b));
    c9 = i32x4.add(c9, i32x4.dot_i16x8_s(c9, b));
    c10 = i32x4.add(c10, i32x4.dot_i16x8_s(c10, b));
    c11 = i32x4.add(c11, i32x4.dot_i16x8_s(c11, b));
  }
  let s = i32x4.add(i32x4.add(i32x4.add(c0, c1), i32x4.add(c2, c3)), i32x4.add(i32x4.add(c4, c5), i32x4.add(c6, c7)));
  s = i32x4.add(s, i32x4.add(i32x4.add(c8, c9), i32x4.add(c10, c11)));
  return i32x4.extract_lane(s, 0);
}
