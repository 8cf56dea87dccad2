import { describe, expect, it } from 'vitest';
import {
  conv2dOutputShape, prepareConv2d, prepareConv2dMaxPool, type Conv2dSpec, type FusedActivation, type MaxPoolSpec, type Padding,
} from './helpers/kernels.js';
import {
  BUILDS, dequantize, firstMismatch, heapFor, maxAbsDiff, quantFor, quantize, quantizeRows,
  randomFloat, randomInt32, randomInt8, rng,
} from './helpers/quant.js';
import { tfCpu } from './helpers/tf.js';

const unit = { scale: 1, zeroPoint: 0 };

function spec(p: Partial<Conv2dSpec> & Pick<Conv2dSpec, 'height' | 'width' | 'channels' | 'filters' | 'kernel' | 'weights'>): Conv2dSpec {
  return {
    batch: 1, strides: [1, 1], padding: 'valid', activation: 'none', input: unit, output: unit,
    weightScales: new Float32Array(p.filters).fill(1), bias: new Int32Array(p.filters), ...p,
  };
}

// Hand-computed cases: x = 1..9 on a 3×3 grid, one channel.
const grid = Int8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
const golden: { name: string; spec: Conv2dSpec; expected: number[]; saturates?: true }[] = [
  {
    name: '2×2 valid, bias, out scale 0.5',
    spec: spec({ height: 3, width: 3, channels: 1, filters: 1, kernel: [2, 2], weights: Int8Array.from([1, 2, 3, 4]),
      bias: Int32Array.from([-30]), output: { scale: 0.5, zeroPoint: 0 } }),
    // sums 37, 47, 67, 77; minus 30 → 7, 17, 37, 47; ÷ 0.5 → 14, 34, 74, 94
    expected: [14, 34, 74, 94],
  },
  {
    name: '2×2 valid, two filters of opposite sign, out scale 0.25: saturating at 127 and at −128',
    spec: spec({ height: 3, width: 3, channels: 1, filters: 2, kernel: [2, 2], weights: Int8Array.from([1, 2, 3, 4, -1, -2, -3, -4]),
      bias: Int32Array.from([-30, 30]), output: { scale: 0.25, zeroPoint: 0 } }),
    // filter 0: 7, 17, 37, 47 ÷ 0.25 → 28, 68, 148 → 127, 188 → 127
    // filter 1: −7, −17, −37, −47 ÷ 0.25 → −28, −68, −148 → −128, −188 → −128
    expected: [28, -28, 68, -68, 127, -128, 127, -128],
    saturates: true,
  },
  {
    name: '3×3 ones, same padding: neighbourhood sums',
    spec: spec({ height: 3, width: 3, channels: 1, filters: 1, kernel: [3, 3], padding: 'same', weights: new Int8Array(9).fill(1) }),
    expected: [12, 21, 16, 27, 45, 33, 24, 39, 28],
  },
  {
    name: '3×3 ones, same padding, input zero point 1: padding is the real 0',
    spec: spec({ height: 3, width: 3, channels: 1, filters: 1, kernel: [3, 3], padding: 'same', weights: new Int8Array(9).fill(1),
      input: { scale: 1, zeroPoint: 1 } }),
    // real x = 0..8: each sum drops by its count of valid taps (4, 6, 4, 6, 9, 6, 4, 6, 4)
    expected: [8, 15, 12, 21, 36, 27, 20, 33, 24],
  },
  {
    name: '3×3 ones, stride 2, same: corners',
    spec: spec({ height: 3, width: 3, channels: 1, filters: 1, kernel: [3, 3], strides: [2, 2], padding: 'same', weights: new Int8Array(9).fill(1) }),
    expected: [12, 16, 24, 28],
  },
  {
    name: 'two filters, ReLU, output zero point −10',
    spec: spec({ height: 3, width: 3, channels: 1, filters: 2, kernel: [1, 1], weights: Int8Array.from([1, -1]),
      activation: 'relu', output: { scale: 1, zeroPoint: -10 } }),
    // filter 0: x − 10; filter 1: −x clamped at the real 0 → code −10
    expected: [-9, -10, -8, -10, -7, -10, -6, -10, -5, -10, -4, -10, -3, -10, -2, -10, -1, -10],
  },
  {
    name: 'ReLU6 on scale 0.1: clamps at the code of 6.0',
    spec: spec({ height: 3, width: 3, channels: 1, filters: 1, kernel: [1, 1], weights: Int8Array.from([100]),
      activation: 'relu6', input: { scale: 0.1, zeroPoint: 0 }, weightScales: Float32Array.from([0.1]), output: { scale: 0.1, zeroPoint: -100 } }),
    // real = 0.1·x · 100 · 0.1 = x; codes −100 + 10x, capped at −100 + 60 = −40
    expected: [-90, -80, -70, -60, -50, -40, -40, -40, -40],
  },
  {
    name: 'two input channels, half-even rounding',
    spec: spec({ height: 1, width: 2, channels: 2, filters: 1, kernel: [1, 1], weights: Int8Array.from([1, 1]),
      output: { scale: 2, zeroPoint: 0 } }),
    // x = (1, 2) and (3, 4) → 3 / 2 = 1.5 → 2; 7 / 2 = 3.5 → 4
    expected: [2, 4],
  },
];

describe.each(BUILDS)('conv2d on the %s build', (build) => {
  for (const g of golden) {
    // the sparse kernel takes stride 1 only
    for (const variant of g.spec.strides.every((st) => st === 1) ? ['ref', 'opt', 'sparse'] as const : ['ref', 'opt'] as const) {
      it(`${variant}: ${g.name}`, async () => {
        const heap = await heapFor(build);
        const op = prepareConv2d(heap, g.spec, variant);
        const n = g.spec.height * g.spec.width * g.spec.channels;
        op.setInput(g.spec.channels === 1 ? grid.subarray(0, n) : Int8Array.from([1, 2, 3, 4]));
        op.run();
        const y = Array.from(op.output());
        expect(y).toEqual(g.expected);
        if (g.saturates) expect([y.includes(127), y.includes(-128)]).toEqual([true, true]);
      });
    }
  }

  it('optimized is bit-exact with the reference over a table of shapes', async () => {
    const r = rng(0xc0ffee);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const channels = [1, 2, 3, 7, 8, 9, 15, 16, 17, 32];
    const filters = [1, 3, 4, 5, 7, 8, 13, 16, 33];
    const kernels: [number, number][] = [[1, 1], [2, 2], [3, 3], [5, 3], [3, 5], [7, 7]];
    const zps = [-128, -1, 0, 127];
    const cases: Conv2dSpec[] = [];
    // every stride × padding × activation, the rest drawn from the tables
    for (const sh of [1, 2, 3]) for (const sw of [1, 2, 3]) for (const padding of ['valid', 'same'] as Padding[]) {
      for (const activation of ['none', 'relu', 'relu6'] as FusedActivation[]) {
        const c = pick(channels), oc = pick(filters), kernel = pick(kernels);
        const height = kernel[0] + Math.floor(r() * 8), width = kernel[1] + Math.floor(r() * 8);
        const k = kernel[0] * kernel[1] * c;
        cases.push({
          batch: 1 + Math.floor(r() * 2), height, width, channels: c, filters: oc, kernel, strides: [sh, sw],
          padding, activation,
          input: { scale: 0.02, zeroPoint: pick(zps) },
          output: { scale: pick([0.01, 0.5, 4]), zeroPoint: pick(zps) },
          weights: randomInt8(r, oc * k, -127, 127),
          weightScales: Float32Array.from({ length: oc }, () => 0.001 + r() * 0.05),
          bias: randomInt32(r, oc, -5000, 5000),
        });
      }
    }
    // pointwise (1×1, stride 1): one gemm over the pixels, rows c apart, for every K path
    for (const c of [1, 3, 8, 9, 15, 16, 17, 32]) {
      const oc = pick(filters);
      cases.push({
        batch: 2, height: 1 + Math.floor(r() * 6), width: 1 + Math.floor(r() * 6), channels: c, filters: oc, kernel: [1, 1], strides: [1, 1],
        padding: pick(['valid', 'same'] as Padding[]), activation: pick(['none', 'relu', 'relu6'] as FusedActivation[]),
        input: { scale: 0.02, zeroPoint: pick(zps) },
        output: { scale: pick([0.01, 0.5, 4]), zeroPoint: pick(zps) },
        weights: randomInt8(r, oc * c, -127, 127),
        weightScales: Float32Array.from({ length: oc }, () => 0.001 + r() * 0.05),
        bias: randomInt32(r, oc, -5000, 5000),
      });
    }
    // the reference CNN's layers, and saturation at both ends
    const ref = (height: number, width: number, c: number, oc: number, outScale: number, zp: number): Conv2dSpec => ({
      batch: 1, height, width, channels: c, filters: oc, kernel: [3, 3], strides: [1, 1], padding: 'valid',
      activation: 'relu', input: { scale: 0.02, zeroPoint: -128 }, output: { scale: outScale, zeroPoint: zp },
      weights: randomInt8(r, oc * 9 * c, -127, 127), weightScales: new Float32Array(oc).fill(0.01),
      bias: randomInt32(r, oc, -1000, 1000),
    });
    cases.push(ref(28, 28, 1, 32, 0.05, -128), ref(13, 13, 32, 64, 0.05, -128), ref(5, 5, 64, 64, 0.05, -128));
    cases.push({ ...ref(6, 6, 9, 5, 1e-4, 0), activation: 'none' }, { ...ref(6, 6, 9, 5, 1e-4, 127), activation: 'none' });
    const heap = await heapFor(build);
    let saturatedLow = 0, saturatedHigh = 0;
    for (const s of cases) {
      heap.e.mem_reset();
      const x = randomInt8(r, s.batch * s.height * s.width * s.channels);
      const a = prepareConv2d(heap, s, 'ref');
      const b = prepareConv2d(heap, s, 'opt');
      a.setInput(x); b.setInput(x); a.run(); b.run();
      const ya = a.output(), yb = b.output();
      expect(ya.length).toBe(conv2dOutputShape(heap.e, s).reduce((p, q) => p * q, 1));
      const why = firstMismatch(ya, yb);
      expect(why, `${JSON.stringify({ ...s, weights: undefined, bias: undefined, weightScales: undefined })}: ${why}`).toBe('none');
      saturatedLow += ya.filter((v) => v === -128).length;
      saturatedHigh += ya.filter((v) => v === 127).length;
    }
    expect(cases.length).toBeGreaterThanOrEqual(59);
    expect(saturatedLow).toBeGreaterThan(0);
    expect(saturatedHigh).toBeGreaterThan(0);
  });

  it('matches TF.js conv2d in float within half an output step', async () => {
    const tf = await tfCpu();
    const r = rng(7);
    for (const [h, w, c, oc, k, stride, padding, activation] of [
      [28, 28, 1, 32, 3, 1, 'valid', 'relu'], [13, 13, 32, 64, 3, 1, 'valid', 'relu'],
      [9, 7, 3, 5, 3, 2, 'same', 'none'], [8, 8, 16, 8, 5, 1, 'same', 'relu6'],
    ] as [number, number, number, number, number, number, Padding, FusedActivation][]) {
      const xf = randomFloat(r, h * w * c, -1, 2);
      const wf = randomFloat(r, oc * k * k * c, -0.5, 0.5);
      const bf = randomFloat(r, oc, -0.3, 0.3);
      const input = quantFor(xf);
      const xq = quantize(xf, input);
      const { codes, scales } = quantizeRows(wf, oc, k * k * c);
      const bias = Int32Array.from(bf, (v, o) => Math.round(v / (input.scale * scales[o])));
      // float model on exactly the values the int8 kernel sees
      const xd = dequantize(xq, input);
      const wd = Float32Array.from(codes, (v, i) => v * scales[Math.floor(i / (k * k * c))]);
      const bd = Float32Array.from(bias, (v, o) => v * input.scale * scales[o]);
      const yf = tf.tidy(() => {
        const filter = tf.tensor4d(wd, [oc, k, k, c]).transpose([1, 2, 3, 0]) as import('@tensorflow/tfjs').Tensor4D;
        let y = tf.conv2d(tf.tensor4d(xd, [1, h, w, c]), filter, stride, padding).add(tf.tensor1d(bd));
        if (activation === 'relu') y = tf.relu(y);
        if (activation === 'relu6') y = tf.relu6(y);
        return y.dataSync() as Float32Array;
      });
      const output = quantFor(yf);
      const heap = await heapFor(build);
      const op = prepareConv2d(heap, {
        batch: 1, height: h, width: w, channels: c, filters: oc, kernel: [k, k], strides: [stride, stride],
        padding, activation, input, output, weights: codes, weightScales: scales, bias,
      }, 'opt');
      op.setInput(xq);
      op.run();
      const err = maxAbsDiff(dequantize(op.output(), output), yf);
      expect(err).toBeLessThanOrEqual(output.scale * 0.5 * (1 + 1e-4) + 1e-6);
    }
  });

  it('conv2d + max pool fused is bit-exact with conv2d_s8_ref then max_pool2d_s8_ref', async () => {
    const r = rng(0xf05ed);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    // non-overlapping (the engine's case), with gaps (stride > window) and overlapping
    const pools: MaxPoolSpec[] = [
      { pool: [2, 2], strides: [2, 2], padding: 'valid' }, { pool: [2, 2], strides: [2, 2], padding: 'same' },
      { pool: [3, 3], strides: [3, 3], padding: 'valid' }, { pool: [3, 2], strides: [3, 2], padding: 'same' },
      { pool: [2, 2], strides: [3, 3], padding: 'valid' }, { pool: [1, 1], strides: [1, 1], padding: 'valid' },
      { pool: [3, 3], strides: [2, 2], padding: 'same' }, { pool: [2, 3], strides: [1, 2], padding: 'valid' },
    ];
    const cases: [Conv2dSpec, MaxPoolSpec][] = [];
    for (const pool of pools) {
      for (const [c, kernel] of [[1, [3, 3]], [3, [3, 3]], [16, [3, 3]], [5, [1, 1]], [32, [2, 2]]] as [number, [number, number]][]) {
        for (const activation of ['none', 'relu', 'relu6'] as FusedActivation[]) {
          const oc = pick([1, 3, 4, 5, 8, 9, 13, 32]);
          const padding = pick(['valid', 'same'] as Padding[]);
          const stride = pick([1, 1, 2]);
          cases.push([{
            batch: 1 + Math.floor(r() * 3), height: kernel[0] + 2 * pool.pool[0] + Math.floor(r() * 9),
            width: kernel[1] + 2 * pool.pool[1] + Math.floor(r() * 9), channels: c, filters: oc, kernel,
            strides: [stride, stride], padding, activation,
            input: { scale: 0.02, zeroPoint: pick([-128, 0, 127]) },
            output: { scale: pick([0.01, 0.5, 4]), zeroPoint: pick([-128, -1, 0, 127]) },
            weights: randomInt8(r, oc * kernel[0] * kernel[1] * c, -127, 127),
            weightScales: Float32Array.from({ length: oc }, () => 0.001 + r() * 0.05),
            bias: randomInt32(r, oc, -5000, 5000),
          }, pool]);
        }
      }
    }
    // the reference CNN's two conv + pool pairs (26 → 13 and 11 → 5: the 11th row and column unread)
    const cnn = (size: number, c: number, oc: number): [Conv2dSpec, MaxPoolSpec] => [{
      batch: 2, height: size, width: size, channels: c, filters: oc, kernel: [3, 3], strides: [1, 1], padding: 'valid',
      activation: 'relu', input: { scale: 0.02, zeroPoint: -128 }, output: { scale: 0.05, zeroPoint: -128 },
      weights: randomInt8(r, oc * 9 * c, -127, 127), weightScales: new Float32Array(oc).fill(0.01),
      bias: randomInt32(r, oc, -1000, 1000),
    }, pools[0]];
    cases.push(cnn(28, 1, 32), cnn(13, 32, 64));
    const heap = await heapFor(build);
    let saturatedLow = 0, saturatedHigh = 0;
    for (const [s, p] of cases) {
      heap.e.mem_reset();
      const x = randomInt8(r, s.batch * s.height * s.width * s.channels);
      const a = prepareConv2dMaxPool(heap, s, p, 'ref');
      const b = prepareConv2dMaxPool(heap, s, p, 'opt');
      a.setInput(x); b.setInput(x); a.run(); b.run();
      const ya = a.output(), yb = b.output();
      const why = firstMismatch(ya, yb);
      expect(why, `${JSON.stringify({ ...s, weights: undefined, bias: undefined, weightScales: undefined, pool: p })}: ${why}`).toBe('none');
      saturatedLow += ya.filter((v) => v === -128).length;
      saturatedHigh += ya.filter((v) => v === 127).length;
    }
    expect(cases.length).toBe(122);
    expect(saturatedLow).toBeGreaterThan(0);
    expect(saturatedHigh).toBeGreaterThan(0);
  });

  it('sparse (stride 1) is bit-exact with the reference over a table of shapes and densities', async () => {
    const r = rng(0x5ba25e);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const kernels: [number, number][] = [[1, 1], [3, 3], [5, 3], [3, 5], [2, 2]];
    const pools: (MaxPoolSpec | null)[] = [null, null, { pool: [2, 2], strides: [2, 2], padding: 'valid' },
      { pool: [2, 2], strides: [2, 2], padding: 'same' }, { pool: [3, 3], strides: [2, 2], padding: 'same' }];
    const cases: [Conv2dSpec, MaxPoolSpec | null, number][] = [];
    for (const density of [0, 0.03, 0.08, 0.3, 1]) {
      for (const padding of ['valid', 'same'] as Padding[]) {
        for (const activation of ['none', 'relu', 'relu6'] as FusedActivation[]) {
          for (let i = 0; i < 2; i++) {
            const c = pick([1, 2, 3, 7, 16, 32]), oc = pick([1, 3, 4, 5, 8, 13]), kernel = pick(kernels);
            const weights = randomInt8(r, oc * kernel[0] * kernel[1] * c, -127, 127).map((v) => (r() < density ? v : 0));
            cases.push([{
              batch: 1 + Math.floor(r() * 3), height: kernel[0] + 2 + Math.floor(r() * 9), width: kernel[1] + 2 + Math.floor(r() * 9),
              channels: c, filters: oc, kernel, strides: [1, 1], padding, activation,
              input: { scale: 0.02, zeroPoint: pick([-128, -1, 0, 127]) },
              output: { scale: pick([0.01, 0.5, 4]), zeroPoint: pick([-128, -1, 0, 127]) },
              weights, weightScales: Float32Array.from({ length: oc }, () => 0.001 + r() * 0.05),
              bias: randomInt32(r, oc, -5000, 5000),
            }, pick(pools), density]);
          }
        }
      }
    }
    // one input channel: weights paired with a neighbour (right, or below in the last
    // column) through H and V, whatever the kernel's shape and which weights are zero
    for (const kernel of [[1, 1], [3, 3], [5, 3], [3, 5], [2, 2], [1, 3], [3, 1]] as [number, number][]) {
      for (const density of [0.5, 1]) {
        for (const padding of ['valid', 'same'] as Padding[]) {
          const oc = pick([1, 3, 4, 8, 13]);
          cases.push([{
            batch: 1 + Math.floor(r() * 2), height: kernel[0] + 1 + Math.floor(r() * 12), width: kernel[1] + 1 + Math.floor(r() * 12),
            channels: 1, filters: oc, kernel, strides: [1, 1], padding, activation: pick(['none', 'relu'] as FusedActivation[]),
            input: { scale: 0.02, zeroPoint: pick([-128, 0, 127]) }, output: { scale: pick([0.01, 0.5]), zeroPoint: pick([-128, 0]) },
            weights: randomInt8(r, oc * kernel[0] * kernel[1], -128, 127).map((v) => (r() < density ? v : 0)),
            weightScales: Float32Array.from({ length: oc }, () => 0.001 + r() * 0.05), bias: randomInt32(r, oc, -5000, 5000),
          }, pick(pools), density]);
        }
      }
    }
    // the reference CNN's pruned layers (92 % zeros): conv2 + pool, conv3
    const cnn = (size: number, c: number, oc: number, pool: MaxPoolSpec | null): [Conv2dSpec, MaxPoolSpec | null, number] => [{
      batch: 2, height: size, width: size, channels: c, filters: oc, kernel: [3, 3], strides: [1, 1], padding: 'valid',
      activation: 'relu', input: { scale: 0.02, zeroPoint: -128 }, output: { scale: 0.05, zeroPoint: -128 },
      weights: randomInt8(r, oc * 9 * c, -127, 127).map((v) => (r() < 0.08 ? v : 0)), weightScales: new Float32Array(oc).fill(0.01),
      bias: randomInt32(r, oc, -1000, 1000),
    }, pool, 0.08];
    cases.push(cnn(13, 32, 64, pools[2]), cnn(5, 64, 64, null));
    // several bands of rows (the int32 outputs of a band are bounded): conv1 + pool, and
    // 'same' convs with no pool and with an overlapping pool
    cases.push([{ ...cnn(28, 1, 32, null)[0], weights: randomInt8(r, 32 * 9, -127, 127) }, pools[2], 1]);
    for (const pool of [null, pools[4]]) {
      const [spec] = cnn(20, 3, 64, null);
      cases.push([{ ...spec, padding: 'same', activation: 'none', output: { scale: 1, zeroPoint: 0 } }, pool, 0.08]);
    }
    const heap = await heapFor(build);
    let saturatedLow = 0, saturatedHigh = 0;
    for (const [s, p, density] of cases) {
      heap.e.mem_reset();
      const x = randomInt8(r, s.batch * s.height * s.width * s.channels);
      const a = p ? prepareConv2dMaxPool(heap, s, p, 'ref') : prepareConv2d(heap, s, 'ref');
      const b = p ? prepareConv2dMaxPool(heap, s, p, 'sparse') : prepareConv2d(heap, s, 'sparse');
      a.setInput(x); b.setInput(x); a.run(); b.run();
      const ya = a.output(), yb = b.output();
      const why = firstMismatch(ya, yb);
      expect(why, `${JSON.stringify({ ...s, weights: undefined, bias: undefined, weightScales: undefined, pool: p, density })}: ${why}`).toBe('none');
      saturatedLow += ya.filter((v) => v === -128).length;
      saturatedHigh += ya.filter((v) => v === 127).length;
    }
    expect(cases.length).toBe(93);
    expect(saturatedLow).toBeGreaterThan(0);
    expect(saturatedHigh).toBeGreaterThan(0);
  });
});
