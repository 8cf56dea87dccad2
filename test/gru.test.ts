import { describe, expect, it } from 'vitest';
import { prepareGru } from './helpers/kernels.js';
import {
  BUILDS, dequantize, firstMismatch, heapFor, quantFor, quantize, quantizeRows,
  randomFloat, randomInt8, rng,
} from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';
import type { RnnDirection } from '../src/runtime/codes.js';
import { gruFloat, randomRecurrentSpec } from './helpers/recurrent.js';

type Act = 'relu' | 'tanh';
type RecAct = 'sigmoid' | 'hardSigmoid';
const DIRECTIONS: RnnDirection[] = ['forward', 'backward', 'backwardAligned'];


describe.each(BUILDS)('GRU on the %s build', (build) => {
  it('one step by hand, both reset_after settings', async () => {
    // Wx = 0 and h starts at 0, so z = σ(b_z), r irrelevant, hh = tanh(b_h (+ r·b_rh)).
    // b = (z 0, r 0, h 0.5): z = 0.5, h = 0.5·tanh(0.5) = 0.231059; out scale 0.004 → 58.
    // reset_after with recurrent bias (0, 0, 1): r = σ(0) = 0.5, hh = tanh(0.5 + 0.5·1)
    // = tanh(1), h = 0.5·0.761594 = 0.380797 → 95.
    const base = {
      batch: 1, steps: 1, features: 1, units: 1, activation: 'tanh', recurrentActivation: 'sigmoid',
      returnSequences: false, input: { scale: 1, zeroPoint: 0 }, output: { scale: 0.004, zeroPoint: 0 },
      kernel: new Int8Array(3), kernelScales: new Float32Array(3).fill(1),
      recurrent: new Int8Array(3), recurrentScales: new Float32Array(3).fill(1),
    } as const;
    const heap = await heapFor(build);
    for (const [resetAfter, bias, expected] of [
      [false, [0, 0, 0.5], 58], [true, [0, 0, 0.5, 0, 0, 1], 95],
    ] as [boolean, number[], number][]) {
      expect(Math.round(0.5 * Math.tanh(resetAfter ? 1 : 0.5) / 0.004)).toBe(expected);
      for (const variant of ['ref', 'opt'] as const) {
        const op = prepareGru(heap, { ...base, resetAfter, bias: Float32Array.from(bias) }, variant);
        op.setInput([7]);
        op.run();
        expect(Array.from(op.output()), `reset_after ${resetAfter} ${variant}`).toEqual([expected]);
      }
    }
  });

  it('directions by hand: go_backwards and the aligned backward half', async () => {
    // units 1, Wx (z, r, h) = (0, 0, 1), Wh = 0, relu, hard sigmoid: z = 0.5, h_t = 0.5·h + 0.5·relu(x_t).
    // x = (1, 0): forward h = 0.5, 0.25; backward (x read 0, 1) h = 0, 0.5. Out scale 1/200.
    const s = {
      batch: 1, steps: 2, features: 1, units: 1, activation: 'relu', recurrentActivation: 'hardSigmoid',
      returnSequences: true, resetAfter: false, input: { scale: 1, zeroPoint: 0 }, output: { scale: 1 / 200, zeroPoint: 0 },
      kernel: Int8Array.from([0, 0, 1]), kernelScales: new Float32Array(3).fill(1),
      recurrent: new Int8Array(3), recurrentScales: new Float32Array(3).fill(1), bias: new Float32Array(3),
    } as const;
    const heap = await heapFor(build);
    for (const [direction, expected] of [["forward", [100, 50]], ["backward", [0, 100]], ["backwardAligned", [100, 0]]] as [RnnDirection, number[]][]) {
      for (const variant of ['ref', 'opt'] as const) {
        const op = prepareGru(heap, { ...s, direction }, variant);
        op.setInput([1, 0]);
        op.run();
        expect(Array.from(op.output()), `${direction} ${variant}`).toEqual(expected);
      }
    }
  });

  it('optimized is bit-exact with the reference over a table of shapes', async () => {
    const r = rng(4321);
    const heap = await heapFor(build);
    let cases = 0;
    for (const features of [1, 3, 9, 28]) {
      for (const units of [1, 3, 4, 5, 8, 17, 64]) {
        for (const [batch, steps] of [[1, 1], [1, 5], [2, 3], [3, 4]]) {
          for (const resetAfter of [false, true]) {
            const s = randomRecurrentSpec(r, {
              batch, steps, features, units, resetAfter,
              activation: cases % 2 ? 'relu' : 'tanh',
              recurrentActivation: (cases >> 1) % 2 ? 'hardSigmoid' : 'sigmoid',
              returnSequences: (cases >> 2) % 2 === 1,
              direction: DIRECTIONS[cases % 3],
            });
            heap.e.mem_reset();
            const x = randomInt8(r, batch * steps * features);
            const a = prepareGru(heap, s, 'ref'), b = prepareGru(heap, s, 'opt');
            a.setInput(x); b.setInput(x); a.run(); b.run();
            expect(firstMismatch(a.output(), b.output()), `F ${features} U ${units} B ${batch} T ${steps} reset_after ${resetAfter} ${s.direction}`).toBe('none');
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(224);
  });

  // Error budget as the LSTM's (test/lstm.test.ts): the recurrent input is requantized to
  // int8 every step; 1.5 % of the output range plus one output step.
  it('matches TF.js\'s GRU (reset_after false) and Keras\' cell (reset_after true) in float', async () => {
    const tf = await tfCpu();
    const r = rng(12);
    for (const [steps, features, units, activation, recurrentActivation, returnSequences, resetAfter, direction] of [
      [28, 28, 64, 'tanh', 'sigmoid', false, false, 'forward'], [20, 9, 32, 'relu', 'hardSigmoid', true, false, 'backward'],
      [28, 28, 64, 'tanh', 'sigmoid', true, true, 'forward'], [6, 5, 7, 'tanh', 'hardSigmoid', true, true, 'backwardAligned'],
      [32, 1, 16, 'relu', 'sigmoid', false, true, 'backward'],
    ] as [number, number, number, Act, RecAct, boolean, boolean, RnnDirection][]) {
      const batch = 2;
      const n = 3 * units;
      const xf = randomFloat(r, batch * steps * features, 0, 1);
      const input = quantFor(xf);
      const xq = quantize(xf, input);
      const kx = quantizeRows(randomFloat(r, n * features, -0.4, 0.4), n, features);
      const kh = quantizeRows(randomFloat(r, n * units, -0.3, 0.3), n, units);
      const bias = randomFloat(r, n * (resetAfter ? 2 : 1), -0.2, 0.2);
      const real = (codes: Int8Array, scales: Float32Array, cols: number) => Float32Array.from(codes, (c, i) => c * scales[Math.floor(i / cols)]);
      const wx = real(kx.codes, kx.scales, features), wh = real(kh.codes, kh.scales, units);
      const xd = dequantize(xq, input);
      const yf = gruFloat(xd, batch, steps, features, units, wx, wh, bias, resetAfter, activation, recurrentActivation, returnSequences, direction);
      if (!resetAfter && direction !== 'backwardAligned') {
        // the float64 cell agrees with TF.js's GRU where TF.js has it
        const transpose = (w: Float32Array, rows: number, cols: number) => {
          const t = new Float32Array(rows * cols);
          for (let j = 0; j < rows; j++) for (let i = 0; i < cols; i++) t[i * rows + j] = w[j * cols + i];
          return t;
        };
        const layer = tf.layers.gru({ units, activation, recurrentActivation, returnSequences, goBackwards: direction === 'backward', inputShape: [steps, features] });
        const model = tf.sequential({ layers: [layer] });
        layer.setWeights([tf.tensor2d(transpose(wx, n, features), [features, n]), tf.tensor2d(transpose(wh, n, units), [units, n]), tf.tensor1d(bias)]);
        const yt = tf.tidy(() => (model.predict(tf.tensor3d(xd, [batch, steps, features])) as import('@tensorflow/tfjs').Tensor).dataSync() as Float32Array);
        model.dispose();
        let d = 0;
        for (let i = 0; i < yt.length; i++) d = Math.max(d, Math.abs(yt[i] - yf[i]));
        expect(d, 'float64 GRU cell against TF.js').toBeLessThan(1e-4);
      }
      const output = quantFor(Float32Array.from(yf));
      const heap = await heapFor(build);
      const op = prepareGru(heap, {
        batch, steps, features, units, activation, recurrentActivation, returnSequences, resetAfter, direction, input, output,
        kernel: kx.codes, kernelScales: kx.scales, recurrent: kh.codes, recurrentScales: kh.scales, bias,
      }, 'opt');
      op.setInput(xq);
      op.run();
      const y = dequantize(op.output(), output);
      let err = 0, range = 0;
      for (let i = 0; i < y.length; i++) { err = Math.max(err, Math.abs(y[i] - yf[i])); range = Math.max(range, Math.abs(yf[i])); }
      console.log(`GRU ${activation}/${recurrentActivation} T${steps} F${features} U${units} reset_after ${resetAfter} ${direction}: max error ${err.toExponential(2)} of range ${range.toFixed(3)} (step ${output.scale.toExponential(2)})`);
      expect(err).toBeLessThanOrEqual(0.015 * range + output.scale);
    }
  });
});
