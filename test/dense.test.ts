import { describe, expect, it } from 'vitest';
import { prepareDense, type DenseSpec, type FusedActivation } from './helpers/kernels.js';
import {
  BUILDS, dequantize, firstMismatch, heapFor, maxAbsDiff, quantFor, quantize, quantizeRows,
  randomFloat, randomInt32, randomInt8, rng,
} from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';
import { loadModel } from '../src/runtime/node.js';
import { encodeModel } from '../src/toolchain/format/write.js';

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

// Dense on a sequence: a model whose input is [steps, k] and whose one op is dense, the
// same weights on every step (Keras' Dense on a 3-D input, TimeDistributed(Dense)).
// Checked against the quantization rule written out in plain JS (docs/QUANTIZATION.md),
// so that a step read from the wrong row, or only the first step computed, fails.
describe('dense on a [steps, k] input (every step, the same weights)', () => {
  // round half to even, as the engine's nearest()
  const roundEven = (v: number) => { const f = Math.floor(v), d = v - f; return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f; };
  const STEPS = 5, K = 19, N = 7, BATCH = 3;
  const r = rng(77);
  const input = { scale: 1, zeroPoint: 0 }; // integer inputs quantize to themselves
  const output = { scale: 0.25, zeroPoint: -9 }; // a power of two: dequantizing is exact
  const weights = randomInt8(r, N * K, -127, 127);
  const weightScales = Float32Array.from({ length: N }, () => 0.001 + 0.004 * r());
  const bias = randomInt32(r, N, -2000, 2000);
  const x = Float32Array.from(randomInt8(r, BATCH * STEPS * K));
  for (const activation of ['none', 'relu', 'relu6'] as FusedActivation[]) {
    it(`${activation}: both builds compute every step by the rule, batch ${BATCH}; inspect reports [steps, k] → [steps, n]`, async () => {
      const bytes = encodeModel({
        metadata: { name: 'sequence-dense' }, input: { shape: [STEPS, K], quant: input },
        layers: [{ type: 'dense', units: N, activation, weights, weightScales, bias, output }],
      });
      const qmin = activation === 'none' ? -128 : Math.max(-128, output.zeroPoint);
      const qmax = activation === 'relu6' ? Math.min(127, output.zeroPoint + roundEven(Math.fround(6 / output.scale))) : 127;
      const want = new Float32Array(BATCH * STEPS * N);
      for (let row = 0; row < BATCH * STEPS; row++) for (let o = 0; o < N; o++) {
        let acc = bias[o];
        for (let i = 0; i < K; i++) acc += (x[row * K + i] - input.zeroPoint) * weights[o * K + i];
        const m = Math.fround((input.scale * weightScales[o]) / output.scale);
        const v = Math.min(Math.max(Math.fround(Math.fround(acc) * m), qmin - output.zeroPoint), qmax - output.zeroPoint);
        want[row * N + o] = roundEven(v) * output.scale; // dequantized: (code − zero point) · scale;
      }
      const outs: Float32Array[] = [];
      for (const build of BUILDS) {
        const m = await loadModel(bytes, { build });
        outs.push(m.predict(x, { batch: BATCH }));
        if (build === 'simd') {
          const [l] = m.layers();
          expect(l.type).toBe('dense');
          expect(l.input.shape).toEqual([STEPS, K]);
          expect(l.output.shape).toEqual([STEPS, N]);
          expect(l.macs).toBe(STEPS * N * K);
        }
        m.dispose();
      }
      expect(firstMismatch(outs[0], want)).toBe('none');
      expect(firstMismatch(outs[1], want)).toBe('none');
      // the steps differ: a kernel that repeated one step would not match
      expect(new Set(Array.from({ length: STEPS }, (_, t) => want[t * N])).size).toBeGreaterThan(1);
    });
  }

  it('the writer refuses a rank-3 input (the engine takes [k] or [steps, k])', async () => {
    expect(() => encodeModel({
      metadata: { name: 'bad' }, input: { shape: [2, STEPS, K], quant: input },
      layers: [{ type: 'dense', units: N, activation: 'none', weights, weightScales, bias, output }],
    })).toThrow(/needs a \[k\] or \[steps, k\] input, got \[2,5,19\]/);
  });
});
