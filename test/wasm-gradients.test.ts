import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { registerWasmGradients } from '../src/toolchain/train/wasm-gradients.js';

// edgeq's gradient kernels for TF.js's wasm backend against TF.js's own (cpu), and its
// batch-norm gradient against TF.js's. Taken before anything registers: importing the
// module registers nothing.
const tfjsBatchNormGradient = tf.getGradient('FusedBatchNorm');

type Grads = (backend: string) => Promise<number[][]>;

// The largest difference relative to the largest magnitude of the cpu's values: both
// sum the same products in different orders (float32), nothing more.
function relativeError(want: number[], got: number[]): number {
  expect(got.length).toBe(want.length);
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expect(scale).toBeGreaterThan(0); // all zeros would compare nothing
  return want.reduce((m, v, j) => Math.max(m, Math.abs(v - got[j])), 0) / scale;
}

async function sameAsCpu(grads: Grads, names: string[]): Promise<void> {
  registerWasmGradients();
  const want = await grads('cpu');
  const got = await grads('wasm');
  names.forEach((name, i) => expect(relativeError(want[i], got[i]), name).toBeLessThan(1e-5));
}

// The gradients of Σ f(x, filter) · dy with respect to x and the filter, dy random.
const convGrads = (xShape: number[], filterShape: number[], f: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor): Grads => async (backend) => {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.randomUniform(xShape, -1, 1, 'float32', 1);
    const filter = tf.randomUniform(filterShape, -1, 1, 'float32', 2);
    const dy = tf.randomUniform(f(x as tf.Tensor4D, filter as tf.Tensor4D).shape, -1, 1, 'float32', 3);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => f(a as tf.Tensor4D, b as tf.Tensor4D).mul(dy).sum());
    return g([x, filter]).map((t) => Array.from(t.dataSync()));
  });
};

// [h, w, input channels, kernel, stride, padding, output channels (the convolution's)]
const SHAPES: [number, number, number, number, number, 'same' | 'valid', number][] = [
  [9, 7, 3, 3, 1, 'valid', 4], [8, 8, 2, 3, 1, 'same', 5], [6, 9, 1, 2, 1, 'same', 2], [5, 5, 4, 5, 1, 'valid', 3],
  [7, 7, 8, 1, 1, 'same', 16], // pointwise
  [9, 9, 3, 3, 2, 'same', 8], [10, 10, 4, 3, 2, 'same', 6], [9, 8, 5, 3, 2, 'valid', 3], [10, 7, 1, 4, 2, 'valid', 4],
  [12, 12, 6, 5, 3, 'same', 2], [8, 8, 8, 1, 2, 'valid', 4],
];

describe('wasm Conv2DBackpropFilter', () => {
  for (const [h, w, c, k, s, padding, f] of SHAPES) {
    it(`${h}×${w}×${c} input, ${k}×${k}×${f} filter, stride ${s}, ${padding}: the same gradients as the cpu backend`, async () => {
      await sameAsCpu(convGrads([3, h, w, c], [k, k, c, f], (x, wt) => tf.conv2d(x, wt, s, padding)), ['input gradient', 'filter gradient']);
    });
  }

  it('a rectangular kernel with different strides per axis (the DS-CNN stem: 10×4, stride 2)', async () => {
    await sameAsCpu(convGrads([2, 21, 10, 1], [10, 4, 1, 6], (x, wt) => tf.conv2d(x, wt, [2, 1], 'same')), ['input gradient', 'filter gradient']);
  });
});

describe('wasm MaxPoolGrad', () => {
  // Values on a coarse grid and after a ReLU, so that windows hold ties (zeros above
  // all): the gradient must go to the tap TF.js picks, the first maximum.
  const poolGrads = (xShape: number[], size: number, stride: number, padding: 'same' | 'valid'): Grads => async (backend) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const x = tf.randomUniform(xShape, -4, 4, 'int32', 5).toFloat().relu();
      const y = tf.maxPool(x as tf.Tensor4D, size, stride, padding);
      const dy = tf.randomUniform(y.shape, -1, 1, 'float32', 6);
      const g = tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, size, stride, padding).mul(dy).sum());
      return [Array.from(g(x).dataSync())];
    });
  };
  // [h, w, channels, window, stride, padding]
  for (const [h, w, c, k, s, padding] of [
    [26, 26, 4, 2, 2, 'valid'], [11, 11, 3, 2, 2, 'valid'], [7, 9, 2, 2, 2, 'same'], [7, 9, 2, 3, 2, 'same'], [8, 8, 5, 3, 1, 'same'], [9, 6, 2, 2, 1, 'valid'], [10, 10, 3, 3, 3, 'same'],
  ] as const) {
    it(`${h}×${w}×${c}, window ${k}, stride ${s}, ${padding}: the same gradient as the cpu backend, ties included${k <= s ? ', bit for bit' : ''}`, async () => {
      registerWasmGradients();
      const want = await poolGrads([2, h, w, c], k, s, padding)('cpu');
      const got = await poolGrads([2, h, w, c], k, s, padding)('wasm');
      // windows that do not overlap add one dy per tap or none: exact; overlapping ones
      // sum a tap's dy values in another order than TF.js's
      if (k <= s) expect(got[0]).toEqual(want[0]);
      else expect(relativeError(want[0], got[0])).toBeLessThan(1e-6);
    });
  }
});

describe('wasm DepthwiseConv2dNativeBackpropFilter and BackpropInput', () => {
  for (const [h, w, c, k, s, padding] of SHAPES) {
    it(`${h}×${w}×${c} input, ${k}×${k} filter, stride ${s}, ${padding}: the same gradients as the cpu backend`, async () => {
      await sameAsCpu(convGrads([3, h, w, c], [k, k, c, 1], (x, wt) => tf.depthwiseConv2d(x, wt, s, padding)), ['input gradient', 'filter gradient']);
    });
  }

  it('refuses a channel multiplier other than 1, naming the limit and the fallback', async () => {
    registerWasmGradients();
    await tf.setBackend('wasm');
    const x = tf.ones([1, 6, 6, 2]), filter = tf.ones([3, 3, 2, 2]);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same').sum();
    expect(() => tf.grads(f)([x, filter])).toThrow(/supports channel multiplier 1 only, not channel multiplier 2; train with --backend cpu/);
    tf.dispose([x, filter]);
  });
});

describe('the wasm kernels leave their inputs alone', () => {
  // a composite's tidy disposing a tensor that shares an input's data must not free it
  for (const [kernel, inputs, attrs] of [
    ['Conv2DBackpropFilter', { x: [2, 6, 6, 3], dy: [2, 4, 4, 5] }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 3, 5] }],
    ['Conv2DBackpropInput', { dy: [2, 3, 3, 5], filter: [3, 3, 3, 5] }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 6, 6, 3] }],
    ['MaxPoolGrad', { dy: [2, 3, 3, 3], input: [2, 6, 6, 3], output: [2, 3, 3, 3] }, { filterSize: 2, strides: 2, pad: 'valid' }],
    ['DepthwiseConv2dNativeBackpropFilter', { x: [2, 6, 6, 3], dy: [2, 3, 3, 3] }, { strides: 2, pad: 'same', dilations: 1, filterShape: [3, 3, 3, 1] }],
    ['DepthwiseConv2dNativeBackpropInput', { dy: [2, 3, 3, 3], filter: [3, 3, 3, 1] }, { strides: 2, pad: 'same', dilations: 1, inputShape: [2, 6, 6, 3] }],
  ] as const) {
    it(kernel, async () => {
      registerWasmGradients();
      await tf.setBackend('wasm');
      const backend = tf.backend() as unknown as { numDataIds(): number };
      const tensors = Object.fromEntries(Object.entries(inputs).map(([name, shape]) => [name, tf.randomUniform([...shape], -1, 1, 'float32', 4)]));
      const values = Object.values(tensors).map((t) => Array.from(t.dataSync()));
      const before = backend.numDataIds();
      const out = tf.engine().runKernel(kernel, tensors, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
      expect(backend.numDataIds()).toBe(before + 1); // the output, and every input still held
      expect(Object.values(tensors).map((t) => Array.from(t.dataSync()))).toEqual(values);
      tf.dispose([out, ...Object.values(tensors)]);
    });
  }

  it('Conv2DBackpropFilter refuses NCHW, naming the limit and the fallback', async () => {
    registerWasmGradients();
    await tf.setBackend('wasm');
    const x = tf.ones([1, 3, 6, 6]), dy = tf.ones([1, 2, 4, 4]);
    expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 3, 2] }))
      .toThrow(/supports data format NHWC only, not data format NCHW; train with --backend cpu/);
    tf.dispose([x, dy]);
  });
});

describe('the broadcasting FusedBatchNorm gradient', () => {
  // tf.registerGradient is global: the replacement must give TF.js's numbers on every
  // backend, bit for bit; the test holds it to that on cpu and wasm.
  for (const backend of ['cpu', 'wasm']) {
    for (const withScale of [true, false]) {
      it(`is TF.js's own, bit for bit, on ${backend}${withScale ? '' : ' (no scale)'}`, async () => {
        registerWasmGradients();
        const ours = tf.getGradient('FusedBatchNorm');
        expect(ours).not.toBe(tfjsBatchNormGradient); // registered: otherwise this compares TF.js with itself
        await tf.setBackend(backend);
        const derivatives = (config: tf.GradConfig) => tf.tidy(() => {
          const x = tf.randomNormal([4, 5, 3, 6], 0.5, 2, 'float32', 1);
          const { mean, variance } = tf.moments(x, [0, 1, 2]);
          const scale = withScale ? tf.randomUniform([6], 0.5, 2, 'float32', 2) : undefined;
          const dy = tf.randomUniform(x.shape, -1, 1, 'float32', 3);
          const d = config.gradFunc(dy, [x, mean, variance, scale as tf.Tensor], { varianceEpsilon: 1e-3 }) as Record<string, () => tf.Tensor>;
          return Object.fromEntries(Object.entries(d).map(([name, f]) => [name, Array.from(f().dataSync())]));
        });
        const want = derivatives(tfjsBatchNormGradient), got = derivatives(ours);
        expect(Object.keys(got).sort()).toEqual(['mean', 'offset', 'scale', 'variance', 'x']);
        for (const name of Object.keys(want)) expect(got[name], name).toEqual(want[name]);
      });
    }
  }
});

// A tiny depthwise-separable network through every kernel above: strided and pointwise
// convolutions, depthwise at strides 1 and 2, batch normalization in training mode.
function separable(seed: number): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  const bn = () => tf.layers.batchNormalization({});
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init(0) }), bn(), tf.layers.reLU(),
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: init(1) }), bn(), tf.layers.reLU(),
      tf.layers.conv2d({ filters: 12, kernelSize: 1, useBias: false, kernelInitializer: init(2) }), bn(), tf.layers.reLU(),
      tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', useBias: false, depthwiseInitializer: init(3) }), bn(), tf.layers.reLU(),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(4) }),
    ],
  });
  return model;
}

const batch = () => ({ x: tf.randomUniform([16, 12, 12, 3], 0, 1, 'float32', 7), y: tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3)) });

describe('a depthwise-separable model on wasm', () => {
  it('has the cpu backend\'s gradients for one step', async () => {
    registerWasmGradients();
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      const model = separable(10);
      const { x, y } = batch();
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { grads: g } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tf.oneHot(y.toInt(), 3), model.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar, variables);
      // the layers' names without the counter that makes them unique
      const names = model.trainableWeights.map((w) => w.originalName.replace(/\d+\//, '/'));
      const values = variables.map((v) => Array.from(g[v.name].dataSync()));
      tf.dispose([x, y, ...Object.values(g)]);
      model.dispose();
      return { names, values };
    };
    const want = await grads('cpu'), got = await grads('wasm');
    expect(got.names).toEqual(want.names);
    expect(want.names.length).toBe(14); // 2 convolutions, 2 depthwise, 4 batch norms × 2, dense × 2
    want.values.forEach((v, i) => expect(relativeError(v, got.values[i]), want.names[i]).toBeLessThan(1e-4));
  });

  it('trains: the loss goes down over a few Adam steps', async () => {
    registerWasmGradients();
    await tf.setBackend('wasm');
    const model = separable(20);
    model.compile({ optimizer: tf.train.adam(1e-2), loss: 'sparseCategoricalCrossentropy' });
    const { x, y } = batch();
    const losses: number[] = [];
    for (let step = 0; step < 8; step++) losses.push((await model.trainOnBatch(x, y)) as number);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[7]).toBeLessThan(0.8 * losses[0]);
    tf.dispose([x, y]);
    model.dispose();
  });
});
