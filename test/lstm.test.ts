import { describe, expect, it } from 'vitest';
import { prepareLstm, type LstmSpec } from './helpers/kernels.js';
import {
  BUILDS, dequantize, firstMismatch, heapFor, quantFor, quantize, quantizeRows,
  randomFloat, randomInt8, rng,
} from './helpers/quant.js';
import { randomRecurrentSpec } from './helpers/recurrent.js';
import { tfCpu } from './helpers/tf.js';

describe.each(BUILDS)('LSTM on the %s build', (build) => {
  it('one step by hand: h = o·tanh(i·g) with zero weights on x', async () => {
    // Wx = 0, Wh irrelevant at t = 0 (h starts at 0): z = bias.
    // bias: i = 0 → σ = 0.5; f = anything; g = 0.5 → tanh; o = 0 → 0.5.
    // c = 0.5·tanh(0.5) = 0.231059; h = 0.5·tanh(c) = 0.113521; out scale 0.001 → 114
    const s: LstmSpec = {
      batch: 1, steps: 1, features: 1, units: 1, activation: 'tanh', recurrentActivation: 'sigmoid',
      returnSequences: false, input: { scale: 1, zeroPoint: 0 }, output: { scale: 0.001, zeroPoint: 0 },
      kernel: new Int8Array(4), kernelScales: new Float32Array(4).fill(1),
      recurrent: new Int8Array(4), recurrentScales: new Float32Array(4).fill(1),
      bias: Float32Array.from([0, 3, 0.5, 0]),
    };
    const expected = Math.round(0.5 * Math.tanh(0.5 * Math.tanh(0.5)) / 0.001);
    expect(expected).toBe(114);
    const heap = await heapFor(build);
    for (const variant of ['ref', 'opt'] as const) {
      const op = prepareLstm(heap, s, variant);
      op.setInput([5]);
      op.run();
      expect(Array.from(op.output())).toEqual([expected]);
    }
  });

  it('hard sigmoid and relu by hand over two steps', async () => {
    // units 1, features 1, x = (1, 1) real; Wx gates (i, f, c, o) = (0, 0, 1, 0), Wh = 0.
    // hardσ(0) = 0.5. t0: g = relu(1) = 1, c = 0.5, h = 0.5·relu(0.5) = 0.25.
    // t1: c = 0.5·0.5 + 0.5·1 = 0.75, h = 0.375. Out scale 1/256 → 64, 96.
    const s: LstmSpec = {
      batch: 1, steps: 2, features: 1, units: 1, activation: 'relu', recurrentActivation: 'hardSigmoid',
      returnSequences: true, input: { scale: 1, zeroPoint: 0 }, output: { scale: 1 / 256, zeroPoint: 0 },
      kernel: Int8Array.from([0, 0, 1, 0]), kernelScales: new Float32Array(4).fill(1),
      recurrent: new Int8Array(4), recurrentScales: new Float32Array(4).fill(1), bias: new Float32Array(4),
    };
    const heap = await heapFor(build);
    for (const variant of ['ref', 'opt'] as const) {
      const op = prepareLstm(heap, s, variant);
      op.setInput([1, 1]);
      op.run();
      expect(Array.from(op.output())).toEqual([64, 96]);
    }
  });

  it('optimized is bit-exact with the reference over a table of shapes', async () => {
    const r = rng(1234);
    const heap = await heapFor(build);
    let cases = 0;
    for (const features of [1, 3, 8, 9, 28]) {
      for (const units of [1, 3, 4, 5, 8, 17, 64]) {
        for (const [batch, steps] of [[1, 1], [1, 5], [2, 3], [3, 4]]) {
          const s = randomRecurrentSpec(r, {
            batch, steps, features, units,
            activation: cases % 2 ? 'relu' : 'tanh',
            recurrentActivation: (cases >> 1) % 2 ? 'hardSigmoid' : 'sigmoid',
            returnSequences: (cases >> 2) % 2 === 1,
            direction: (['forward', 'backward', 'backwardAligned'] as const)[cases % 3],
          });
          heap.e.mem_reset();
          const x = randomInt8(r, batch * steps * features);
          const a = prepareLstm(heap, s, 'ref'), b = prepareLstm(heap, s, 'opt');
          a.setInput(x); b.setInput(x); a.run(); b.run();
          expect(firstMismatch(a.output(), b.output()), `F ${features} U ${units} B ${batch} T ${steps} ${s.direction}`).toBe('none');
          cases++;
        }
      }
    }
    expect(cases).toBe(140);
  });

  // Error budget: the recurrent input is re-quantized to int8 every step (per row,
  // scale max|h|/127), so the error grows with the steps; measured 0.4–0.7 % of the
  // output range (about one output step) on these cases. Bound: 1.5 % of the range
  // plus one step.
  it('matches a TF.js LSTM layer in float', async () => {
    const tf = await tfCpu();
    const r = rng(11);
    for (const [steps, features, units, activation, recurrentActivation, returnSequences, goBackwards] of [
      [28, 28, 64, 'relu', 'hardSigmoid', false, false], [28, 28, 64, 'tanh', 'sigmoid', true, false], [6, 5, 7, 'tanh', 'hardSigmoid', true, false],
      [12, 4, 9, 'tanh', 'sigmoid', true, true], [20, 3, 16, 'relu', 'sigmoid', false, true],
    ] as [number, number, number, 'relu' | 'tanh', 'sigmoid' | 'hardSigmoid', boolean, boolean][]) {
      const batch = 2;
      const n = 4 * units;
      const xf = randomFloat(r, batch * steps * features, 0, 1);
      const input = quantFor(xf);
      const xq = quantize(xf, input);
      const kx = quantizeRows(randomFloat(r, n * features, -0.4, 0.4), n, features);
      const kh = quantizeRows(randomFloat(r, n * units, -0.3, 0.3), n, units);
      const bias = randomFloat(r, n, -0.2, 0.2);
      const transpose = (codes: Int8Array, scales: Float32Array, rows: number, cols: number) => {
        const t = new Float32Array(rows * cols);
        for (let j = 0; j < rows; j++) for (let i = 0; i < cols; i++) t[i * rows + j] = codes[j * cols + i] * scales[j];
        return t;
      };
      const layer = tf.layers.lstm({ units, activation, recurrentActivation, returnSequences, goBackwards, inputShape: [steps, features] });
      const model = tf.sequential({ layers: [layer] });
      layer.setWeights([
        tf.tensor2d(transpose(kx.codes, kx.scales, n, features), [features, n]),
        tf.tensor2d(transpose(kh.codes, kh.scales, n, units), [units, n]),
        tf.tensor1d(bias),
      ]);
      const yf = tf.tidy(() => (model.predict(tf.tensor3d(dequantize(xq, input), [batch, steps, features])) as import('@tensorflow/tfjs').Tensor).dataSync() as Float32Array);
      model.dispose();
      const output = quantFor(yf);
      const heap = await heapFor(build);
      const op = prepareLstm(heap, {
        batch, steps, features, units, activation, recurrentActivation, returnSequences, input, output,
        direction: goBackwards ? 'backward' : 'forward', kernel: kx.codes, kernelScales: kx.scales, recurrent: kh.codes, recurrentScales: kh.scales, bias,
      }, 'opt');
      op.setInput(xq);
      op.run();
      const y = dequantize(op.output(), output);
      let err = 0, range = 0;
      for (let i = 0; i < y.length; i++) { err = Math.max(err, Math.abs(y[i] - yf[i])); range = Math.max(range, Math.abs(yf[i])); }
      console.log(`LSTM ${activation}/${recurrentActivation} T${steps} F${features} U${units}${goBackwards ? ' go_backwards' : ''}: max error ${err.toExponential(2)} of range ${range.toFixed(3)} (step ${output.scale.toExponential(2)})`);
      expect(err).toBeLessThanOrEqual(0.015 * range + output.scale);
    }
  });
});
