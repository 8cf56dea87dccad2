import { describe, expect, it } from 'vitest';
import { pool2dOutputShape, preparePool2d, type Padding, type Pool2dSpec } from './helpers/kernels.js';
import { BUILDS, dequantize, firstMismatch, heapFor, maxAbsDiff, randomInt8, rng } from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';

const grid = [1, 2, 3, 4, 5, 6, 7, 8, 9]; // 3×3, one channel
const golden: { name: string; spec: Pool2dSpec; x: number[]; expected: number[] }[] = [
  { name: 'max 2×2 stride 1 valid', spec: { kind: 'max', batch: 1, height: 3, width: 3, channels: 1, pool: [2, 2], strides: [1, 1], padding: 'valid' },
    x: grid, expected: [5, 6, 8, 9] },
  { name: 'max 2×2 stride 2 same: the edge windows are partial', spec: { kind: 'max', batch: 1, height: 3, width: 3, channels: 1, pool: [2, 2], strides: [2, 2], padding: 'same' },
    x: grid, expected: [5, 6, 8, 9] },
  { name: 'max over negatives only', spec: { kind: 'max', batch: 1, height: 1, width: 2, channels: 2, pool: [1, 2], strides: [1, 1], padding: 'valid' },
    x: [-128, -5, -127, -7], expected: [-127, -5] },
  { name: 'avg 2×2 valid rounds half away from zero', spec: { kind: 'avg', batch: 1, height: 2, width: 2, channels: 2, pool: [2, 2], strides: [1, 1], padding: 'valid' },
    // channel 0: 1+2+3+0 = 6 → 1.5 → 2; channel 1: −1−2−3−0 = −6 → −1.5 → −2
    x: [1, -1, 2, -2, 3, -3, 0, 0], expected: [2, -2] },
  { name: 'avg 3×3 same counts only valid taps', spec: { kind: 'avg', batch: 1, height: 3, width: 3, channels: 1, pool: [3, 3], strides: [1, 1], padding: 'same' },
    // neighbourhood sums 12 21 16 27 45 33 24 39 28 over counts 4 6 4 6 9 6 4 6 4
    x: grid, expected: [3, 4, 4, 5, 5, 6, 6, 7, 7] },
  { name: 'global average', spec: { kind: 'globalAvg', batch: 2, height: 3, width: 3, channels: 1, pool: [3, 3], strides: [1, 1], padding: 'valid' },
    x: [...grid, ...grid.map((v) => -v)], expected: [5, -5] },
  { name: 'global max', spec: { kind: 'globalMax', batch: 2, height: 3, width: 3, channels: 1, pool: [3, 3], strides: [1, 1], padding: 'valid' },
    x: [...grid, ...grid.map((v) => -v)], expected: [9, -1] },
];

describe.each(BUILDS)('pooling on the %s build', (build) => {
  for (const g of golden) {
    for (const variant of ['ref', 'opt'] as const) {
      it(`${variant}: ${g.name}`, async () => {
        const heap = await heapFor(build);
        const op = preparePool2d(heap, g.spec, variant);
        op.setInput(g.x);
        op.run();
        expect(Array.from(op.output())).toEqual(g.expected);
      });
    }
  }

  it('optimized is bit-exact with the reference over a table of shapes', async () => {
    const r = rng(99);
    const heap = await heapFor(build);
    let cases = 0;
    for (const kind of ['max', 'avg', 'globalAvg', 'globalMax'] as const) {
      for (const channels of [1, 3, 15, 16, 17, 32, 33, 64]) {
        for (const [ph, pw] of [[1, 1], [2, 2], [3, 3], [2, 3]]) {
          for (const stride of [1, 2, 3]) {
            for (const padding of ['valid', 'same'] as Padding[]) {
              const s: Pool2dSpec = { kind, batch: 1 + (cases % 2), height: ph + (cases % 7), width: pw + ((cases >> 1) % 6), channels, pool: [ph, pw], strides: [stride, stride], padding };
              heap.e.mem_reset();
              const x = randomInt8(r, s.batch * s.height * s.width * channels);
              const a = preparePool2d(heap, s, 'ref'), b = preparePool2d(heap, s, 'opt');
              a.setInput(x); b.setInput(x); a.run(); b.run();
              expect(firstMismatch(a.output(), b.output()), JSON.stringify(s)).toBe('none');
              cases++;
            }
          }
        }
      }
    }
    expect(cases).toBe(768);
  });

  it('matches TF.js maxPool and max exactly, avgPool and mean within half a step', async () => {
    const tf = await tfCpu();
    const r = rng(3);
    const q = { scale: 0.05, zeroPoint: -20 };
    for (const [h, w, c, p, stride, padding] of [[26, 26, 32, 2, 2, 'valid'], [11, 11, 64, 2, 2, 'valid'], [7, 9, 17, 3, 2, 'same'], [5, 5, 20, 3, 1, 'same']] as [number, number, number, number, number, Padding][]) {
      const xq = randomInt8(r, h * w * c);
      const xd = tf.tensor4d(dequantize(xq, q), [1, h, w, c]);
      const heap = await heapFor(build);
      for (const kind of ['max', 'avg', 'globalAvg', 'globalMax'] as const) {
        const s: Pool2dSpec = { kind, batch: 1, height: h, width: w, channels: c, pool: [p, p], strides: [stride, stride], padding };
        const op = preparePool2d(heap, s, 'opt');
        op.setInput(xq);
        op.run();
        const y = dequantize(op.output(), q);
        const yf = tf.tidy(() => (kind === 'max' ? tf.maxPool(xd, p, stride, padding)
          : kind === 'avg' ? tf.avgPool(xd, p, stride, padding) : kind === 'globalMax' ? tf.max(xd, [1, 2], true) : tf.mean(xd, [1, 2], true)).dataSync() as Float32Array);
        expect(y.length).toBe(pool2dOutputShape(heap.e, s).reduce((a, b) => a * b, 1));
        const err = maxAbsDiff(y, yf);
        if (kind === 'max' || kind === 'globalMax') expect(err).toBeLessThanOrEqual(1e-6);
        else expect(err).toBeLessThanOrEqual(q.scale * 0.5 * (1 + 1e-4) + 1e-6);
      }
    }
  });
});
