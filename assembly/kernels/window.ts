// Sliding-window geometry shared by conv2d and pooling (TensorFlow's rules).

import { PAD_SAME } from "../format";

// Output length along one axis; 0 when the window does not fit.
export function window_out_size(size: i32, window: i32, stride: i32, pad: i32): i32 {
  if (pad == PAD_SAME) return (size + stride - 1) / stride;
  return size >= window ? (size - window) / stride + 1 : 0;
}

// Padding before the first element ('same' puts the odd extra element after).
export function window_pad_before(size: i32, window: i32, stride: i32, pad: i32): i32 {
  if (pad != PAD_SAME) return 0;
  const out = window_out_size(size, window, stride, pad);
  const total = max(0, (out - 1) * stride + window - size);
  return total >> 1;
}
