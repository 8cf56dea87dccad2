// Nearest upsampling (UpSampling2D) and zero padding (ZeroPadding2D): codes moved, never
// computed, so the optimized kernels must equal the references exactly, and TF.js's
// float ops on the dequantized values.
import { describe, expect, it } from 'vitest';
import { prepareResize2d, type Resize2dSpec } from './helpers/kernels.js';
import { BUILDS, firstMismatch, heapFor, randomInt8, rng } from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';

const grid = [1, 2, 3, 4]; // 2×2, one channel

describe.each(BUILDS)('upsampling and padding on the %s build', (build) => {
  for (const variant of ['ref', 'opt'] as const) {
    it(`${variant}: hand-computed cases`, async () => {
      const heap = await heapFor(build);
      const run = (s: Resize2dSpec, x: number[]) => { heap.e.mem_reset(); const op = prepareResize2d(heap, s, variant); op.setInput(x); op.run(); return Array.from(op.output()); };
      expect(run({ op: 'upsample', batch: 1, height: 2, width: 2, channels: 1, factors: [2, 3] }, grid)).toEqual([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4]);
      expect(run({ op: 'pad', batch: 1, height: 2, width: 2, channels: 1, pads: [1, 0, 0, 2], zeroPoint: -7 }, grid)).toEqual([-7, -7, -7, -7, 1, 2, -7, -7, 3, 4, -7, -7]);
    });
  }

  it('optimized is bit-exact with the reference over a table of shapes', async () => {
    const r = rng(404);
    const heap = await heapFor(build);
    let cases = 0;
    for (const channels of [1, 3, 8, 16, 17]) {
      for (const [fh, fw] of [[1, 1], [2, 2], [3, 1], [1, 4]] as [number, number][]) {
        for (const pads of [[0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 1], [2, 0, 3, 1]] as [number, number, number, number][]) {
          for (const op of ['upsample', 'pad'] as const) {
            const s: Resize2dSpec = { op, batch: 1 + (cases % 2), height: 1 + (cases % 5), width: 1 + ((cases >> 1) % 6), channels, factors: [fh, fw], pads, zeroPoint: [-128, 0, 5, 127][cases % 4] };
            heap.e.mem_reset();
            const x = randomInt8(r, s.batch * s.height * s.width * channels);
            const a = prepareResize2d(heap, s, 'ref'), b = prepareResize2d(heap, s, 'opt');
            a.setInput(x); b.setInput(x); a.run(); b.run();
            expect(firstMismatch(a.output(), b.output()), JSON.stringify(s)).toBe('none');
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(160);
  });

  it('equal TF.js resizeNearestNeighbor and pad on the same codes', async () => {
    const tf = await tfCpu();
    const heap = await heapFor(build);
    const x = randomInt8(rng(5), 2 * 5 * 3 * 4);
    const up = prepareResize2d(heap, { op: 'upsample', batch: 2, height: 5, width: 3, channels: 4, factors: [2, 3] }, 'opt');
    up.setInput(x); up.run();
    expect(Array.from(up.output())).toEqual(Array.from(tf.tidy(() => tf.image.resizeNearestNeighbor(tf.tensor4d(Float32Array.from(x), [2, 5, 3, 4]), [10, 9]).dataSync())));
    const pad = prepareResize2d(heap, { op: 'pad', batch: 2, height: 5, width: 3, channels: 4, pads: [1, 2, 0, 3], zeroPoint: 0 }, 'opt');
    pad.setInput(x); pad.run();
    expect(Array.from(pad.output())).toEqual(Array.from(tf.tidy(() => tf.pad(tf.tensor4d(Float32Array.from(x), [2, 5, 3, 4]), [[0, 0], [1, 2], [0, 3], [0, 0]]).dataSync())));
  });
});
