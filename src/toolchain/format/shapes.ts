// Output shapes of each layer (TensorFlow's valid/same rules; the engine checks the same).

import type { Padding } from '../../runtime/codes.js';

export function windowOut(size: number, window: number, stride: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(size / stride) : size >= window ? Math.floor((size - window) / stride) + 1 : 0;
}
