// The per-channel affine op (batch normalization that cannot be folded).
import { describe, expect, it } from 'vitest';
import { prepareChannelAffine, type ChannelAffineSpec } from './helpers/kernels.js';
import { BUILDS, dequantize, firstMismatch, heapFor, maxAbsDiff, quantFor, quantize, randomFloat, randomInt8, rng } from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';

describe.each(BUILDS)('channel affine on the %s build', (build) => {
  for (const variant of ['ref', 'opt'] as const) {
    it(`${variant}: hand-computed codes`, async () => {
      const heap = await heapFor(build);
      // two channels: 2x + 1 and −0.5x, on scale 1 in, 0.5 out (ties to even)
      const op = prepareChannelAffine(heap, { n: 6, c: 2, a: Float32Array.of(2, -0.5), b: Float32Array.of(1, 0), input: { scale: 1, zeroPoint: 0 }, output: { scale: 0.5, zeroPoint: 0 } }, variant);
      op.setInput([1, 1, -3, 3, 100, -100]);
      op.run();
      expect(Array.from(op.output())).toEqual([6, -1, -10, -3, 127, 100]);
    });
  }

  it('optimized is bit-exact with the reference over channels and quantizations', async () => {
    const r = rng(23);
    const heap = await heapFor(build);
    let cases = 0;
    for (const c of [1, 3, 8, 16, 17, 64]) {
      for (const zp of [-128, 0, 50]) {
        const s: ChannelAffineSpec = {
          n: c * (1 + (cases % 5)), c, a: randomFloat(r, c, -2, 2), b: randomFloat(r, c, -1, 1),
          input: { scale: [0.01, 0.05, 0.2][cases % 3], zeroPoint: zp }, output: { scale: [0.02, 0.1][cases % 2], zeroPoint: -zp >> 1 },
        };
        heap.e.mem_reset();
        const x = randomInt8(r, s.n);
        const a = prepareChannelAffine(heap, s, 'ref'), b = prepareChannelAffine(heap, s, 'opt');
        a.setInput(x); b.setInput(x); a.run(); b.run();
        expect(firstMismatch(a.output(), b.output())).toBe('none');
        cases++;
      }
    }
    expect(cases).toBe(18);
  });

  it('matches TF.js batchNorm in float within half an output step', async () => {
    const tf = await tfCpu();
    const r = rng(2);
    const c = 12, n = 12 * 20;
    const xf = randomFloat(r, n, -2, 2);
    const input = quantFor(xf);
    const xq = quantize(xf, input);
    const mean = randomFloat(r, c, -0.5, 0.5), variance = randomFloat(r, c, 0.2, 2), gamma = randomFloat(r, c, 0.5, 1.5), beta = randomFloat(r, c, -0.3, 0.3);
    const yf = tf.tidy(() => tf.batchNorm(tf.tensor2d(dequantize(xq, input), [20, c]), mean, variance, beta, gamma, 1e-3).dataSync() as Float32Array);
    const a = Float32Array.from(gamma, (g, i) => g / Math.sqrt(variance[i] + 1e-3)), b = Float32Array.from(beta, (v, i) => v - mean[i] * a[i]);
    const output = quantFor(yf);
    const heap = await heapFor(build);
    const op = prepareChannelAffine(heap, { n, c, a, b, input, output }, 'opt');
    op.setInput(xq);
    op.run();
    expect(maxAbsDiff(dequantize(op.output(), output), yf)).toBeLessThanOrEqual(output.scale * 0.5 * (1 + 1e-3) + 1e-6);
  });
});
