import { describe, expect, it } from 'vitest';
import type { BinarySpec } from './helpers/kernels.js';
import { runBinary, sweepBinary } from './helpers/binary.js';
import { BUILDS, dequantize, maxAbsDiff, quantFor, quantize, randomFloat, rng } from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';

const unit = { scale: 1, zeroPoint: 0 };
const spec = (p: Partial<BinarySpec>): BinarySpec => ({ op: 'multiply', batch: 1, n: 4, nb: 4, a: unit, b: unit, output: unit, activation: 'none', ...p });

describe.each(BUILDS)('multiply on the %s build', (build) => {
  for (const variant of ['ref', 'opt'] as const) {
    it(`${variant}: hand-computed cases`, async () => {
      expect(await runBinary(build, spec({}), [2, -3, 20, -20], [3, 4, 7, 7], variant)).toEqual([6, -12, 127, -128]);
      // zero points: (a − 1)(b + 2) · 0.5 · 0.25 / 0.125 = (a − 1)(b + 2)
      expect(await runBinary(build, spec({ a: { scale: 0.5, zeroPoint: 1 }, b: { scale: 0.25, zeroPoint: -2 }, output: { scale: 0.125, zeroPoint: 0 } }),
        [1, 2, 3, 0], [5, -2, 1, -1], variant)).toEqual([0, 0, 6, -1]);
      // a per-channel gate of 2 channels over 2 pixels, ReLU6 on scale 1
      expect(await runBinary(build, spec({ nb: 2, activation: 'relu6' }), [1, 2, 3, -4], [5, 1], variant)).toEqual([5, 2, 6, 0]);
    });
  }

  it('optimized is bit-exact with the reference over a table of shapes', async () => {
    const { cases, low, high } = await sweepBinary(build, 'multiply', 0x3a1);
    expect(cases).toBe(60);
    expect(low).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(0);
  });

  it('matches TF.js mul in float within half an output step', async () => {
    const tf = await tfCpu();
    const r = rng(6);
    const af = randomFloat(r, 64, -2, 2), bf = randomFloat(r, 16, 0, 1); // a gate of 16 channels
    const a = quantFor(af), b = quantFor(bf);
    const ad = dequantize(quantize(af, a), a), bd = dequantize(quantize(bf, b), b);
    const yf = tf.tidy(() => tf.mul(tf.tensor2d(ad, [4, 16]), tf.tensor1d(bd)).dataSync() as Float32Array);
    const output = quantFor(yf);
    const y = await runBinary(build, spec({ n: 64, nb: 16, a, b, output }), quantize(af, a), quantize(bf, b), 'opt');
    expect(maxAbsDiff(dequantize(y, output), yf)).toBeLessThanOrEqual(output.scale * 0.5 * (1 + 1e-4) + 1e-6);
  });
});
