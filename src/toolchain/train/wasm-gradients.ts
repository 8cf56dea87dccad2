// The one gradient kernel TF.js's wasm backend lacks for convolutional models,
// Conv2DBackpropFilter, composed from its fast forward convolution, so that the
// reference CNN can train on it. Covered: stride 1 (valid or same), no dilation,
// which is what the reference CNN uses; anything else says so.
//
//   dW = conv2d(xᵀ, dyᵀ): batch and channels swap roles, and the output is the filter

import * as tf from '@tensorflow/tfjs';

type Attrs = Record<string, unknown>;
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

function fail(kernel: string, what: string): never {
  throw new Error(`${kernel} on the wasm backend: ${what} is not supported; train with --backend cpu or webgpu`);
}

// Runs a composite in float32 and copies its result into a fresh wasm output.
function compose(backend: WasmBackend, f: () => tf.Tensor): tf.TensorInfo {
  const r = tf.tidy(f);
  const out = backend.makeOutput(r.shape, 'float32');
  backend.typedArrayFromHeap(out).set(r.dataSync() as Float32Array);
  r.dispose();
  return out;
}

const tensor = (info: tf.TensorInfo) => tf.engine().makeTensorFromTensorInfo(info);

function samePads(k: number): [number, number] {
  const total = Math.max(k - 1, 0); // stride 1: out = in
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function checkConv(kernel: string, a: Attrs): void {
  const s = a.strides as number | number[];
  const strides = Array.isArray(s) ? s : [s, s];
  if (strides.some((v) => v !== 1)) fail(kernel, `stride ${strides.join('×')}`);
  const d = a.dilations as number | number[] | undefined;
  if (d !== undefined && (Array.isArray(d) ? d : [d, d]).some((v) => v !== 1)) fail(kernel, 'dilation');
  if (a.pad !== 'valid' && a.pad !== 'same') fail(kernel, `padding ${JSON.stringify(a.pad)}`);
  if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') fail(kernel, `data format ${a.dataFormat}`);
}

let registered = false;

export function registerWasmGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      checkConv('Conv2DBackpropFilter', attrs as Attrs);
      const [kh, kw] = (attrs as Attrs).filterShape as number[];
      return compose(backend as unknown as WasmBackend, () => {
        let x = tensor(inputs.x as tf.TensorInfo) as tf.Tensor4D;
        const dy = tensor(inputs.dy as tf.TensorInfo) as tf.Tensor4D;
        if ((attrs as Attrs).pad === 'same') {
          const [pt, pb] = samePads(kh), [pl, pr] = samePads(kw);
          x = tf.pad(x, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
        }
        const r = tf.conv2d(x.transpose([3, 1, 2, 0]) as tf.Tensor4D, dy.transpose([1, 2, 0, 3]) as tf.Tensor4D, 1, 'valid');
        return r.transpose([1, 2, 0, 3]);
      });
    },
  });
}
