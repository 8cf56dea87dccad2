import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { registerWasmGradients } from '../src/toolchain/train/wasm-gradients.js';

// edgeq's Conv2DBackpropFilter for TF.js's wasm backend against TF.js's own (cpu).
describe('wasm Conv2DBackpropFilter', () => {
  for (const [h, w, c, f, k, padding] of [[9, 7, 3, 4, 3, 'valid'], [8, 8, 2, 5, 3, 'same'], [6, 9, 1, 2, 2, 'same'], [5, 5, 4, 3, 5, 'valid']] as const) {
    it(`${h}×${w}×${c} input, ${k}×${k}×${f} filter, ${padding}: the same gradients as the cpu backend`, async () => {
      registerWasmGradients();
      const grad = async (backend: string) => {
        await tf.setBackend(backend);
        return tf.tidy(() => {
          const x = tf.randomUniform([3, h, w, c], -1, 1, 'float32', 1);
          const filter = tf.randomUniform([k, k, c, f], -1, 1, 'float32', 2);
          const dy = tf.randomUniform(tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, padding).shape, -1, 1, 'float32', 3);
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, padding).mul(dy).sum());
          return g([x, filter]).map((t) => Array.from(t.dataSync()));
        });
      };
      const want = await grad('cpu');
      const got = await grad('wasm');
      for (let i = 0; i < 2; i++) {
        const err = want[i].reduce((m, v, j) => Math.max(m, Math.abs(v - got[i][j])), 0);
        expect(err, i === 0 ? 'input gradient' : 'filter gradient').toBeLessThan(1e-4);
      }
    });
  }

  it('refuses strided convolutions with a message', async () => {
    registerWasmGradients();
    await tf.setBackend('wasm');
    const x = tf.ones([1, 6, 6, 1]), filter = tf.ones([3, 3, 1, 1]);
    expect(() => tf.grad((b: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, b as tf.Tensor4D, 2, 'valid').sum())(filter)).toThrow(/stride 2×2 is not supported/);
  });
});
