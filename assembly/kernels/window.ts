// Sliding-window geometry shared by the convolutions and pooling (TensorFlow's rules;
// 'causal' as Keras' Conv1D: the window's length − 1 zeros before, none after). A
// dilated window's length is its span, (k − 1) · dilation + 1.

import { PAD_CAUSAL, PAD_SAME } from "../format";

// Output length along one axis; 0 when the window does not fit.
export function window_out_size(size: i32, window: i32, stride: i32, pad: i32): i32 {
  if (pad == PAD_SAME || pad == PAD_CAUSAL) return (size + stride - 1) / stride;
  return size >= window ? (size - window) / stride + 1 : 0;
}

// Padding before the first element ('same' puts the odd extra element after).
export function window_pad_before(size: i32, window: i32, stride: i32, pad: i32): i32 {
  if (pad == PAD_CAUSAL) return window - 1;
  if (pad != PAD_SAME) return 0;
  const out = window_out_size(size, window, stride, pad);
  const total = max(0, (out - 1) * stride + window - size);
  return total >> 1;
}
