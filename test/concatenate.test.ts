import { describe, expect, it } from 'vitest';
import type { BinarySpec } from './helpers/kernels.js';
import { runBinary, sweepBinary } from './helpers/binary.js';
import { BUILDS, dequantize, maxAbsDiff, quantFor, quantize, randomFloat, rng } from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';

const unit = { scale: 1, zeroPoint: 0 };
const spec = (p: Partial<BinarySpec>): BinarySpec => ({ op: 'concatenate', batch: 2, n: 2, nb: 1, a: unit, b: unit, output: unit, activation: 'none', ...p });

describe.each(BUILDS)('concatenate on the %s build', (build) => {
  for (const variant of ['ref', 'opt'] as const) {
    it(`${variant}: hand-computed cases`, async () => {
      // two rows (pixels) of 2 + 1 channels
      expect(await runBinary(build, spec({}), [1, 2, 3, 4], [5, 6], variant)).toEqual([1, 2, 5, 3, 4, 6]);
      // b rescaled into the output's quantization: 0.5·(b − 2) / 0.25 − 10; saturates
      expect(await runBinary(build, spec({ b: { scale: 0.5, zeroPoint: 2 }, output: { scale: 1, zeroPoint: 0 } }), [1, 2, 3, 4], [6, 101], variant)).toEqual([1, 2, 2, 3, 4, 50]);
      expect(await runBinary(build, spec({ b: { scale: 2, zeroPoint: 0 } }), [1, 2, 3, 4], [100, -100], variant)).toEqual([1, 2, 127, 3, 4, -128]);
    });
  }

  it('optimized is bit-exact with the reference over a table of shapes; inputs with the output\'s quantization are copied exactly', async () => {
    const { cases, low, high } = await sweepBinary(build, 'concatenate', 0xc0c);
    expect(cases).toBe(30);
    expect(low).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(0);
  });

  it('matches TF.js concat in float within half an output step', async () => {
    const tf = await tfCpu();
    const r = rng(8);
    const af = randomFloat(r, 6 * 20, -1, 1), bf = randomFloat(r, 6 * 24, 0, 4);
    const a = quantFor(af), b = quantFor(bf);
    const ad = dequantize(quantize(af, a), a), bd = dequantize(quantize(bf, b), b);
    const yf = tf.tidy(() => tf.concat([tf.tensor2d(ad, [6, 20]), tf.tensor2d(bd, [6, 24])], 1).dataSync() as Float32Array);
    const output = quantFor(yf);
    const y = await runBinary(build, spec({ batch: 6, n: 20, nb: 24, a, b, output }), quantize(af, a), quantize(bf, b), 'opt');
    expect(maxAbsDiff(dequantize(y, output), yf)).toBeLessThanOrEqual(output.scale * 0.5 * (1 + 1e-4) + 1e-6);
  });
});
