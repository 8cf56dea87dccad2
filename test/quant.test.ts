import { describe, expect, it } from 'vitest';
import { prepareDense, type DenseSpec, type FusedActivation } from './helpers/kernels.js';
import { BUILDS, engine, heapFor } from './helpers/quant.js';

// One input, one weight 1, multiplier 0.5: output = round_half_even(x / 2) + zp, clamped.
function halver(batch: number, zeroPoint: number, activation: FusedActivation = 'none'): DenseSpec {
  return {
    batch, inputs: 1, units: 1, activation, input: { scale: 0.5, zeroPoint: 0 }, output: { scale: 1, zeroPoint },
    weights: Int8Array.from([1]), weightScales: Float32Array.from([1]), bias: Int32Array.from([0]),
  };
}

describe.each(BUILDS)('the requantization rule on the %s build', (build) => {
  for (const variant of ['ref', 'opt'] as const) {
    it(`${variant}: rounds half to even`, async () => {
      const x = [1, 3, 5, 7, -1, -3, -5, -7, 2, -2];
      const heap = await heapFor(build);
      const op = prepareDense(heap, halver(x.length, 0), variant);
      op.setInput(x);
      op.run();
      expect(Array.from(op.output())).toEqual([0, 2, 2, 4, 0, -2, -2, -4, 1, -1]);
    });

    it(`${variant}: adds the zero point after rounding and saturates at both ends`, async () => {
      const x = [127, -128, 1, -1];
      const heap = await heapFor(build);
      const high = prepareDense(heap, halver(x.length, 100), variant);
      high.setInput(x); high.run();
      expect(Array.from(high.output())).toEqual([127, 36, 100, 100]);
      const low = prepareDense(heap, halver(x.length, -100), variant);
      low.setInput(x); low.run();
      expect(Array.from(low.output())).toEqual([-36, -128, -100, -100]);
    });
  }

  it('computes multipliers once, in f64 rounded to f32', async () => {
    const e = await engine(build);
    for (const [a, b, c] of [[0.1, 0.2, 0.3], [1 / 255, 0.0123, 0.07], [3e-5, 2e-3, 1e-6]]) {
      const [fa, fb, fc] = [a, b, c].map(Math.fround);
      expect(e.quant_multiplier(fa, fb, fc)).toBe(Math.fround((fa * fb) / fc));
    }
  });

  it('narrows the output range for fused ReLU and ReLU6', async () => {
    const e = await engine(build);
    expect([e.quant_act_min(0, 0.1, -100), e.quant_act_max(0, 0.1, -100)]).toEqual([-128, 127]);
    expect([e.quant_act_min(1, 0.1, -100), e.quant_act_max(1, 0.1, -100)]).toEqual([-100, 127]);
    expect([e.quant_act_min(2, 0.1, -100), e.quant_act_max(2, 0.1, -100)]).toEqual([-100, -40]);
    expect([e.quant_act_min(2, 0.01, 0), e.quant_act_max(2, 0.01, 0)]).toEqual([0, 127]);
    expect(e.quant_act_min(1, 1, -200)).toBe(-128);
  });
});
