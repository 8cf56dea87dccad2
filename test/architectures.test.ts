import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { referenceModel } from '../models/architectures.js';
import { convertLayersModel } from '../src/toolchain/convert/convert.js';
import { loadModel } from '../src/runtime/node.js';

// The reference architectures are models/architectures.ts's exactly: the engine, which counts the
// multiply-accumulates of the converted model, says so.
describe('reference architectures', () => {
  for (const [arch, shape, macs, params] of [['cnn', [28, 28, 1], 2_794_240, 93_322], ['lstm', [28, 28], 664_192, 28_618]] as const) {
    it(`${arch}: ${macs.toLocaleString('en-US')} MACs per image`, async () => {
      await tf.setBackend('cpu');
      const model = referenceModel(tf, arch, 10, 1);
      expect(model.countParams()).toBe(params);
      const calibration = tf.randomUniform([8, ...shape], 0, 1, 'float32', 1);
      const { bytes } = await convertLayersModel(model, { name: arch, calibration });
      const m = await loadModel(bytes);
      expect(m.info.macs).toBe(macs);
      expect(m.inputShape).toEqual(shape);
      expect(m.outputShape).toEqual([10]);
      m.dispose();
    });
  }
});
