// Output shapes of each layer (TensorFlow's valid/same rules, Keras' causal: as many as
// same; the engine checks the same).

import type { Conv1dPadding } from '../../runtime/codes.js';

export function windowOut(size: number, window: number, stride: number, padding: Conv1dPadding): number {
  return padding !== 'valid' ? Math.ceil(size / stride) : size >= window ? Math.floor((size - window) / stride) + 1 : 0;
}
