import { describe, expect, it } from 'vitest';
import { prepareDense, type DenseSpec, type FusedActivation } from './helpers/kernels.js';
import {
  BUILDS, dequantize, firstMismatch, heapFor, maxAbsDiff, quantFor, quantize, quantizeRows,
  randomFloat, randomInt32, randomInt8, rng,
} from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';

const golden: { name: string; spec: DenseSpec; x: number[]; expected: number[] }[] = [
  {
    name: 'two rows, three units, input zero point 2',
    spec: {
      batch: 2, inputs: 3, units: 3, activation: 'none',
      input: { scale: 1, zeroPoint: 2 }, output: { scale: 1, zeroPoint: 0 },
      weights: Int8Array.from([1, 0, 0, 0, 1, 1, -1, -1, -1]), weightScales: new Float32Array(3).fill(1),
      bias: Int32Array.from([0, 10, 0]),
    },
    // real x = (1, 2, 3) and (−2, 0, 5)
    x: [3, 4, 5, 0, 2, 7],
    expected: [1, 15, -6, -2, 15, -3],
  },
  {
    name: 'ReLU and per-channel scales',
    spec: {
      batch: 1, inputs: 2, units: 2, activation: 'relu',
      input: { scale: 0.5, zeroPoint: 0 }, output: { scale: 0.25, zeroPoint: -5 },
      weights: Int8Array.from([2, 2, -3, 1]), weightScales: Float32Array.from([0.5, 1]),
      bias: Int32Array.from([1, 0]),
    },
    // unit 0: (2·4 + 2·6 + 1) · 0.25 = 5.25 → 21 + (−5) = 16; unit 1: −6 → clamps to the real 0 → −5
    x: [4, 6],
    expected: [16, -5],
  },
];

describe.each(BUILDS)('dense on the %s build', (build) => {
  for (const g of golden) {
    for (const variant of ['ref', 'opt'] as const) {
      it(`${variant}: ${g.name}`, async () => {
        const heap = await heapFor(build);
        const op = prepareDense(heap, g.spec, variant);
        op.setInput(g.x);
        op.run();
        expect(Array.from(op.output())).toEqual(g.expected);
      });
    }
  }

  it('optimized is bit-exact with the reference over a table of shapes', async () => {
    const r = rng(42);
    const heap = await heapFor(build);
    let cases = 0, low = 0, high = 0;
    for (const inputs of [1, 3, 7, 8, 9, 15, 16, 17, 64, 100, 576]) {
      for (const units of [1, 2, 3, 4, 5, 8, 10, 13, 64]) {
        for (const batch of [1, 2, 3]) {
          const activation = (['none', 'relu', 'relu6'] as FusedActivation[])[cases % 3];
          const s: DenseSpec = {
            batch, inputs, units, activation,
            input: { scale: 0.03, zeroPoint: [-128, 0, 127][cases % 3] },
            output: { scale: [0.001, 0.2, 3][(cases >> 1) % 3], zeroPoint: [127, -128, 5][(cases >> 2) % 3] },
            weights: randomInt8(r, units * inputs, -127, 127),
            weightScales: Float32Array.from({ length: units }, () => 0.001 + 0.02 * r()),
            bias: randomInt32(r, units, -20000, 20000),
          };
          heap.e.mem_reset();
          const x = randomInt8(r, batch * inputs);
          const a = prepareDense(heap, s, 'ref'), b = prepareDense(heap, s, 'opt');
          a.setInput(x); b.setInput(x); a.run(); b.run();
          const ya = a.output(), yb = b.output();
          expect(firstMismatch(ya, yb), `inputs ${inputs} units ${units} batch ${batch}`).toBe('none');
          low += ya.filter((v) => v === -128).length;
          high += ya.filter((v) => v === 127).length;
          cases++;
        }
      }
    }
    expect(cases).toBe(297);
    expect(low).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(0);
  });

  it('matches TF.js matMul + bias in float within half an output step', async () => {
    const tf = await tfCpu();
    const r = rng(5);
    for (const [batch, k, n, activation] of [[1, 576, 64, 'relu'], [5, 64, 10, 'none'], [3, 33, 17, 'relu6']] as [number, number, number, FusedActivation][]) {
      const xf = randomFloat(r, batch * k, 0, 3);
      const wf = randomFloat(r, n * k, -0.2, 0.2);
      const bf = randomFloat(r, n, -0.5, 0.5);
      const input = quantFor(xf);
      const xq = quantize(xf, input);
      const { codes, scales } = quantizeRows(wf, n, k);
      const bias = Int32Array.from(bf, (v, o) => Math.round(v / (input.scale * scales[o])));
      const yf = tf.tidy(() => {
        const wd = tf.tensor2d(Float32Array.from(codes, (v, i) => v * scales[Math.floor(i / k)]), [n, k]);
        const bd = tf.tensor1d(Float32Array.from(bias, (v, o) => v * input.scale * scales[o]));
        let y = tf.matMul(tf.tensor2d(dequantize(xq, input), [batch, k]), wd, false, true).add(bd);
        if (activation === 'relu') y = tf.relu(y);
        if (activation === 'relu6') y = tf.relu6(y);
        return y.dataSync() as Float32Array;
      });
      const output = quantFor(yf);
      const heap = await heapFor(build);
      const op = prepareDense(heap, { batch, inputs: k, units: n, activation, input, output, weights: codes, weightScales: scales, bias }, 'opt');
      op.setInput(xq);
      op.run();
      expect(maxAbsDiff(dequantize(op.output(), output), yf)).toBeLessThanOrEqual(output.scale * 0.5 * (1 + 1e-4) + 1e-6);
    }
  });
});
