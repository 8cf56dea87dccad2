// What TF.js's wasm backend lacks to train convolutional models, supplied by
// registerWasmGradients (used by `edgeq train` and by models/make-edge.ts):
//
//   Conv2DBackpropFilter                  any stride and padding, NHWC
//   Conv2DBackpropInput                   any stride and padding, NHWC (replaces TF.js's)
//   MaxPoolGrad                           any window, stride and padding (replaces TF.js's)
//   DepthwiseConv2dNativeBackpropFilter   any stride and padding, channel multiplier 1
//   DepthwiseConv2dNativeBackpropInput    any stride and padding, channel multiplier 1
//   FusedBatchNorm's gradient             TF.js's own, broadcasting 1/σ instead of tiling it
//
// TF.js's own wasm Conv2DBackpropInput and MaxPoolGrad are plain loops: in a reference
// CNN training step (batch 64) they took 142 and 33 of 257 ms, conv2's input gradient
// alone 123 ms (1.6 GMAC/s); composed as a convolution XNNPACK runs it at ~13 GMAC/s.
//
// Anything else says so and names the fallback (--backend cpu or webgpu). TF.js's
// gradients reach these kernels with dilation 1 only (they assert it), so no dilation here.
//
// Which way each kernel computes was measured (TF.js wasm, one thread, batch 32, best of
// 5 calls, this project's 2-core machine, ms):
//
//   Conv2DBackpropFilter                    composed conv   JS loop   xᵀ·dy matMul
//     1×1 25×5×64 → 64 (DS-CNN pointwise)         3.2         35         12.8
//     1×1 24×24×32 → 32                          11.1         41         14.2
//     1×1 6×6×128 → 256                           6.1         85         36
//     3×3 14×14×16 → 32, stride 1, same           3.8         59
//     3×3 26×26×8 → 16, stride 1, valid           5.8         49
//     3×3 96×96×3 → 8, stride 2 (MobileNet stem) 13.1         44
//     10×4 49×10×1 → 64, stride 2 (DS-CNN stem)   2.3         20
//     3×3 24×24×16 → 32, stride 2, valid          4.0         50
//   so the composed convolution everywhere (strides > 1 as its dilation).
//
//   depthwise 3×3, two runs         filter: loop / composed    input: composed / loop
//     25×5×64, stride 1                    6.4–7.1 / 8.3–12           7.4–7.7 / 6.5–7.3
//     48×48×8, stride 1                    18 / 12–18                 7.2–9.8 / 18–22
//     48×48×16, stride 2                   9.0–11 / 11–11.5           9.5–10 / 8.8–11
//     12×12×64, stride 1                   7.5–7.8 / 6.5–7.5          1.4–1.5 / 7.6–8.0
//   a tie for the filter's gradient, where the loop is kept (one pass over the heap, no
//   copies); the composed convolution for the input's.

import * as tf from '@tensorflow/tfjs';
import { EdgeqError } from '../../runtime/errors.js';

type Attrs = Record<string, unknown>;
type Info = tf.TensorInfo;
type Geometry = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): Float32Array;
  incRef(dataId: object): void;
}

function fail(kernel: string, supported: string, got: string): never {
  throw new EdgeqError('E_BACKEND', `${kernel} on the wasm backend supports ${supported}, not ${got}; train with --backend cpu or webgpu`);
}

// A kernel input as a tensor for a composite, holding a reference of its own: the
// composite's tidy disposes it, which must not free the caller's input.
function input(backend: WasmBackend, info: Info): tf.Tensor4D {
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor4D;
}

// Runs a composite in float32 and copies its result into a fresh wasm output.
function compose(backend: WasmBackend, f: () => tf.Tensor): Info {
  const r = tf.tidy(f);
  const out = backend.makeOutput(r.shape, 'float32');
  backend.typedArrayFromHeap(out).set(r.dataSync() as Float32Array);
  r.dispose();
  return out;
}

const geometry = (xShape: number[], filterShape: number[], a: Attrs, depthwise: boolean): Geometry => tf.backend_util.computeConv2DInfo(
  xShape as [number, number, number, number], filterShape as [number, number, number, number],
  a.strides as number | [number, number], 1, a.pad as 'same' | 'valid', a.dimRoundingMode as 'round' | undefined, depthwise);

// dW[i, j, c, o] = Σ over b, y, x of xp[b, y·s + i, x·s' + j, c] · dy[b, y, x, o]
//               = conv2d(xpᵀ, dyᵀ, stride 1, dilation s × s'): batch and channels swap
//                 roles, dy is the filter, and the output is the filter's gradient;
// xp is x padded (or cut) to exactly the rows and columns the taps read.
function conv2dFilterGradient(backend: WasmBackend, xInfo: Info, dyInfo: Info, g: Geometry): Info {
  return compose(backend, () => {
    const x = input(backend, xInfo), dy = input(backend, dyInfo);
    const { top, left } = g.padInfo;
    const rows = (g.outHeight - 1) * g.strideHeight + g.filterHeight, cols = (g.outWidth - 1) * g.strideWidth + g.filterWidth;
    const bottom = Math.max(rows - top - g.inHeight, 0), right = Math.max(cols - left - g.inWidth, 0);
    let xp = top || bottom || left || right ? tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]) : x;
    if (xp.shape[1] !== rows || xp.shape[2] !== cols) xp = tf.slice(xp, 0, [-1, rows, cols, -1]);
    const r = tf.conv2d(xp.transpose([3, 1, 2, 0]) as tf.Tensor4D, dy.transpose([1, 2, 0, 3]) as tf.Tensor4D, 1, 'valid', 'NHWC', [g.strideHeight, g.strideWidth]);
    return r.transpose([1, 2, 0, 3]);
  });
}

// dW[i, j, c] = Σ over b, y, x of x[b, y·s + i − top, x·s' + j − left, c] · dy[b, y, x, c],
// taps outside x skipped, in a plain loop over the wasm heap.
function depthwiseFilterGradient(backend: WasmBackend, x: Info, dy: Info, g: Geometry): Info {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = g;
  const { top, left } = g.padInfo;
  const acc = new Float32Array(kh * kw * c);
  const xs = backend.typedArrayFromHeap(x), ds = backend.typedArrayFromHeap(dy);
  for (let b = 0; b < n; b++) for (let y = 0; y < oh; y++) for (let xo = 0; xo < ow; xo++) {
    const d0 = ((b * oh + y) * ow + xo) * c;
    for (let i = 0; i < kh; i++) {
      const yy = y * sh + i - top;
      if (yy < 0 || yy >= h) continue;
      for (let j = 0; j < kw; j++) {
        const xx = xo * sw + j - left;
        if (xx < 0 || xx >= w) continue;
        const x0 = ((b * h + yy) * w + xx) * c, a0 = (i * kw + j) * c;
        for (let k = 0; k < c; k++) acc[a0 + k] += xs[x0 + k] * ds[d0 + k];
      }
    }
  }
  const out = backend.makeOutput([kh, kw, c, 1], 'float32');
  backend.typedArrayFromHeap(out).set(acc);
  return out;
}

// dy [b, oh, ow, c] spread back to stride 1: sh − 1 rows and sw − 1 columns of zeros
// after each value (what both input gradients correlate with their filters).
function spread(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [b, oh, ow, c] = dy.shape;
  return tf.pad(dy.reshape([b, oh, 1, ow, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]).reshape([b, oh * sh, ow * sw, c]) as tf.Tensor4D;
}

// dy spread back to stride 1 (zeros between), correlated in full with the flipped
// filter: the gradient of the padded x; then the padding cut off.
function depthwiseInputGradient(backend: WasmBackend, dyInfo: Info, filterInfo: Info, g: Geometry, shape: number[]): Info {
  return compose(backend, () => {
    const dy = input(backend, dyInfo), w = input(backend, filterInfo);
    const [kh, kw] = w.shape;
    const full = tf.depthwiseConv2d(tf.pad(spread(dy, g.strideHeight, g.strideWidth), [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]]), tf.reverse(w, [0, 1]), 1, 'valid');
    return tf.slice(full, [0, g.padInfo.top, g.padInfo.left, 0], shape);
  });
}

// w[kh − 1 − i, kw − 1 − j, c, o] at [i, j, o, c], rearranged in a plain loop: TF.js's
// wasm Reverse took 1.7 ms for a 3 × 3 × 64 × 64 filter.
function turnedFilter(backend: WasmBackend, filterInfo: Info): tf.Tensor4D {
  const [kh, kw, ci, co] = filterInfo.shape, w = backend.typedArrayFromHeap(filterInfo);
  const t = new Float32Array(w.length);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
    const from = ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co, to = (i * kw + j) * co * ci;
    for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) t[to + o * ci + c] = w[from + c * co + o];
  }
  return tf.tensor4d(t, [kh, kw, co, ci]);
}

// dx = the full correlation of dy (spread back to stride 1, zeros between) with the
// filter turned 180° and its channel axes swapped, cut to x's rows and columns: the
// padding in front is kh − 1 − top, so that dx[y] = Σ_i dy[(y + top − i) / s] · w[i].
function conv2dInputGradient(backend: WasmBackend, dyInfo: Info, filterInfo: Info, g: Geometry): Info {
  return compose(backend, () => {
    const dy = input(backend, dyInfo);
    const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: wd } = g;
    const s = spread(dy, sh, sw);
    // TF.js's 'same' and 'valid' pad at most kh − 1 in front; explicit paddings could pad more
    if (g.padInfo.top > kh - 1 || g.padInfo.left > kw - 1) fail('Conv2DBackpropInput', `padding up to the filter size − 1 (${kh - 1} × ${kw - 1})`, `padding ${g.padInfo.top} × ${g.padInfo.left}`);
    const top = kh - 1 - g.padInfo.top, left = kw - 1 - g.padInfo.left;
    // rows the correlation reads: h + kh − 1; pad or cut the far side to exactly that
    const bottom = h + kh - 1 - top - s.shape[1], right = wd + kw - 1 - left - s.shape[2];
    let p = tf.pad(s, [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]]);
    if (bottom < 0 || right < 0) p = tf.slice(p, 0, [-1, h + kh - 1, wd + kw - 1, -1]);
    return tf.conv2d(p, turnedFilter(backend, filterInfo), 1, 'valid');
  });
}

// dx[first maximum of each window] += dy, over the wasm heap: the window's output value
// is its maximum, so the first tap equal to it is the one TF.js's maxPoolPositions picks
// (a strict > scan); taps in the padding are never the maximum.
function maxPoolGradient(backend: WasmBackend, dyInfo: Info, xInfo: Info, yInfo: Info, g: Geometry): Info {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = g;
  const { top, left } = g.padInfo;
  const out = backend.makeOutput(xInfo.shape, 'float32');
  const dx = backend.typedArrayFromHeap(out);
  dx.fill(0);
  const xs = backend.typedArrayFromHeap(xInfo), ys = backend.typedArrayFromHeap(yInfo), ds = backend.typedArrayFromHeap(dyInfo);
  // (a 'same' pool of an odd side pads the far edge: its last window is not four taps)
  if (kh === 2 && kw === 2 && sh === 2 && sw === 2 && top === 0 && left === 0 && 2 * oh <= h && 2 * ow <= w) {
    // the common 2 × 2 / 2 pool: its four taps in scan order, channels innermost as they
    // lie in memory (the reference CNN's two pools at batch 64: 7.3 ms against the general
    // loop's 10.3)
    for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
      const o = ((b * oh + oy) * ow + ox) * c;
      const i00 = ((b * h + 2 * oy) * w + 2 * ox) * c, i01 = i00 + c, i10 = i00 + w * c, i11 = i10 + c;
      for (let k = 0; k < c; k++) {
        const m = ys[o + k], d = ds[o + k];
        if (xs[i00 + k] === m) dx[i00 + k] += d;
        else if (xs[i01 + k] === m) dx[i01 + k] += d;
        else if (xs[i10 + k] === m) dx[i10 + k] += d;
        else if (xs[i11 + k] === m) dx[i11 + k] += d;
      }
    }
    return out;
  }
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) {
    const y0 = Math.max(oy * sh - top, 0), y1 = Math.min(oy * sh - top + kh, h);
    for (let ox = 0; ox < ow; ox++) {
      const x0 = Math.max(ox * sw - left, 0), x1 = Math.min(ox * sw - left + kw, w);
      const o = ((b * oh + oy) * ow + ox) * c;
      for (let k = 0; k < c; k++) {
        const m = ys[o + k];
        let at = -1;
        for (let yy = y0; yy < y1 && at < 0; yy++) for (let xx = x0; xx < x1; xx++) {
          const i = ((b * h + yy) * w + xx) * c + k;
          if (xs[i] === m) { at = i; break; }
        }
        if (at >= 0) dx[at] += ds[o + k];
      }
    }
  }
  return out;
}

function checkMultiplier(kernel: string, filterShape: number[]): void {
  if (filterShape[3] !== 1) fail(kernel, 'channel multiplier 1 only', `channel multiplier ${filterShape[3]}`);
}

// TF.js's FusedBatchNorm gradient (tfjs-core 4.22, gradients/FusedBatchNorm_grad.ts) with
// one change: for a per-channel mean it tiles 1/σ to the whole activation before
// multiplying (a third of a MobileNetV1 step on wasm); here it broadcasts. Every other
// operation and its order is TF.js's, and tiling copies values without changing them, so
// each element is the same float32 product of the same operands: the same numbers on
// every backend (tf.registerGradient is global, not per backend; the test holds it equal
// bit for bit to TF.js's on cpu and wasm).
const batchNormGradient: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved;
    const dyt = dy as tf.Tensor;
    const scaleValue = scale == null ? tf.scalar(1) : scale;
    // TF.js sums over the reduction axes only for a per-channel (rank 1) mean
    const reduce = (t: tf.Tensor) => tf.reshape(mean.rank === 1 ? tf.sum(t, tf.backend_util.getReductionAxes(mean.shape, x.shape)) : t, mean.shape);
    const xMinusMean = tf.sub(x, mean);
    const dyTimesScale = tf.mul(dyt, scaleValue);
    const oneOverSqrtVariance = tf.rsqrt(tf.add(variance, tf.scalar((attrs as Attrs).varianceEpsilon as number)));
    const minusHalfRCube = tf.mul(tf.mul(tf.mul(oneOverSqrtVariance, oneOverSqrtVariance), oneOverSqrtVariance), tf.scalar(-0.5));
    return {
      x: () => tf.reshape(tf.mul(tf.mul(dyt, oneOverSqrtVariance), scaleValue), x.shape),
      mean: () => reduce(tf.mul(tf.mul(oneOverSqrtVariance, tf.scalar(-1)), dyTimesScale)),
      variance: () => reduce(tf.mul(tf.mul(minusHalfRCube, xMinusMean), dyTimesScale)),
      scale: () => reduce(tf.mul(dyt, tf.mul(xMinusMean, oneOverSqrtVariance))),
      offset: () => reduce(dyt),
    };
  },
};

let registered = false;

// TF.js's wasm backend registers these itself: ours take their place.
function replaceKernel(kernelName: string, kernelFunc: tf.KernelFunc): void {
  if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
}

export function registerWasmGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const a = attrs as Attrs, x = inputs.x as Info;
      if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') fail('Conv2DBackpropFilter', 'data format NHWC only', `data format ${a.dataFormat}`);
      return conv2dFilterGradient(backend as unknown as WasmBackend, x, inputs.dy as Info, geometry(x.shape, a.filterShape as number[], a, false));
    },
  });
  tf.registerKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const a = attrs as Attrs, x = inputs.x as Info, shape = a.filterShape as number[];
      checkMultiplier('DepthwiseConv2dNativeBackpropFilter', shape);
      return depthwiseFilterGradient(backend as unknown as WasmBackend, x, inputs.dy as Info, geometry(x.shape, shape, a, true));
    },
  });
  tf.registerKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const a = attrs as Attrs, filter = inputs.filter as Info, shape = a.inputShape as number[];
      checkMultiplier('DepthwiseConv2dNativeBackpropInput', filter.shape);
      return depthwiseInputGradient(backend as unknown as WasmBackend, inputs.dy as Info, filter, geometry(shape, filter.shape, a, true), shape);
    },
  });
  replaceKernel('Conv2DBackpropInput', ({ inputs, attrs, backend }) => {
    const a = attrs as Attrs, filter = inputs.filter as Info;
    if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') fail('Conv2DBackpropInput', 'data format NHWC only', `data format ${a.dataFormat}`);
    return conv2dInputGradient(backend as unknown as WasmBackend, inputs.dy as Info, filter, geometry(a.inputShape as number[], filter.shape, a, false));
  });
  replaceKernel('MaxPoolGrad', ({ inputs, attrs, backend }) => {
    const a = attrs as Attrs, x = inputs.input as Info;
    const g = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize as [number, number], a.strides as [number, number], 1, a.pad as 'same' | 'valid', a.dimRoundingMode as 'round' | undefined);
    return maxPoolGradient(backend as unknown as WasmBackend, inputs.dy as Info, x, inputs.output as Info, g);
  });
  tf.registerGradient(batchNormGradient);
}
