// Dataset images as model inputs: the raw pixels the engine takes, and the normalized
// float tensor the TF.js model takes.

import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/datasets.js';
import { ConvertError } from '../../runtime/errors.js';

export const INPUT_RANGES = { '0-1': { mul: 1 / 255, add: 0 }, '0-255': { mul: 1, add: 0 }, '-1-1': { mul: 2 / 255, add: -1 } } as const;
export type InputRange = keyof typeof INPUT_RANGES;

export function datasetInputs(d: Dataset, inputShape: readonly (number | null)[], range: InputRange): { raw: Uint8Array; x: tf.Tensor; normalization: { mul: number; add: number } } {
  const px = d.height * d.width;
  const shape = inputShape.map((v) => v ?? -1);
  const fits = (shape.length === 3 && shape[0] === d.height && shape[1] === d.width && shape[2] === 1)
    || (shape.length === 2 && shape[0] === d.height && shape[1] === d.width)
    || (shape.length === 1 && shape[0] === px);
  if (!fits) {
    throw new ConvertError('E_DATASET_SHAPE', `the model takes inputs of shape [${shape}], dataset '${d.name}' has ${d.height}×${d.width} grey images (it fits [${d.height}, ${d.width}, 1], [${d.height}, ${d.width}] or [${px}])`);
  }
  const normalization = INPUT_RANGES[range];
  const x = tf.tidy(() => tf.tensor(d.images, [d.count, ...shape], 'float32').mul(normalization.mul).add(normalization.add));
  return { raw: d.images, x, normalization };
}
