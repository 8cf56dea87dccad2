import { describe, expect, it } from 'vitest';
import type { BinarySpec } from './helpers/kernels.js';
import { runBinary, sweepBinary } from './helpers/binary.js';
import { BUILDS, dequantize, maxAbsDiff, quantFor, quantize, randomFloat, rng } from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';

const unit = { scale: 1, zeroPoint: 0 };
const spec = (p: Partial<BinarySpec>): BinarySpec => ({ op: 'add', batch: 1, n: 4, nb: 4, a: unit, b: unit, output: unit, activation: 'none', ...p });

describe.each(BUILDS)('add on the %s build', (build) => {
  for (const variant of ['ref', 'opt'] as const) {
    it(`${variant}: hand-computed cases`, async () => {
      expect(await runBinary(build, spec({}), [1, -2, 100, -100], [2, 3, 50, -50], variant)).toEqual([3, 1, 127, -128]);
      // a residual add of two scales: 0.5·(a − 2) + 0.25·(b + 4) over output scale 0.5, zp −1; ties to even
      expect(await runBinary(build, spec({ a: { scale: 0.5, zeroPoint: 2 }, b: { scale: 0.25, zeroPoint: -4 }, output: { scale: 0.5, zeroPoint: -1 } }),
        [2, 4, 6, 0], [-4, 0, -2, -6], variant)).toEqual([-1, 3, 4, -4]);
      expect(await runBinary(build, spec({ activation: 'relu' }), [1, -5, 3, -1], [1, 1, -1, 0], variant)).toEqual([2, 0, 2, 0]);
      // a vector of 2 broadcast over rows of 2
      expect(await runBinary(build, spec({ nb: 2 }), [1, 2, 3, 4], [10, 20], variant)).toEqual([11, 22, 13, 24]);
    });
  }

  it('optimized is bit-exact with the reference over a table of shapes', async () => {
    const { cases, low, high } = await sweepBinary(build, 'add', 0xadd);
    expect(cases).toBe(60);
    expect(low).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(0);
  });

  it('matches TF.js add in float within half an output step', async () => {
    const tf = await tfCpu();
    const r = rng(5);
    const af = randomFloat(r, 96, -2, 2), bf = randomFloat(r, 96, -0.5, 3);
    const a = quantFor(af), b = quantFor(bf);
    const ad = dequantize(quantize(af, a), a), bd = dequantize(quantize(bf, b), b);
    const yf = tf.tidy(() => tf.relu(tf.add(tf.tensor1d(ad), tf.tensor1d(bd))).dataSync() as Float32Array);
    const output = quantFor(yf);
    const y = await runBinary(build, spec({ n: 96, nb: 96, a, b, output, activation: 'relu' }), quantize(af, a), quantize(bf, b), 'opt');
    expect(maxAbsDiff(dequantize(y, output), yf)).toBeLessThanOrEqual(output.scale * 0.5 * (1 + 1e-4) + 1e-6);
  });
});
