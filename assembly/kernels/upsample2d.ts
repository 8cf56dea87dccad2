// Nearest-neighbour upsampling by whole factors, int8 NHWC: y[oy][ox] = x[oy / fh][ox / fw]
// (TensorFlow's UpSampling2D, interpolation 'nearest'). Codes are copied: the output has
// the input's (scale, zero point).
//
//   upsample2d_s8_ref   the definition, value by value.
//   upsample2d_s8_rows  each input pixel's c channels copied fw times into one output row,
//                       then that row copied fh − 1 times. No over-read. Bit-exact.

export function upsample2d_s8_ref(x: usize, batch: i32, h: i32, w: i32, c: i32, fh: i32, fw: i32, y: usize): void {
  const oh = h * fh, ow = w * fw;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          store<i8>(y + <usize>(((b * oh + oy) * ow + ox) * c + ch), load<i8>(x + <usize>(((b * h + oy / fh) * w + ox / fw) * c + ch)));
        }
      }
    }
  }
}

export function upsample2d_s8_rows(x: usize, batch: i32, h: i32, w: i32, c: i32, fh: i32, fw: i32, y: usize): void {
  const row = <usize>(w * fw * c);
  for (let b = 0; b < batch; b++) {
    for (let iy = 0; iy < h; iy++) {
      const dst = y + <usize>((b * h + iy) * fh) * row;
      for (let ix = 0; ix < w; ix++) {
        const src = x + <usize>(((b * h + iy) * w + ix) * c);
        for (let k = 0; k < fw; k++) memory.copy(dst + <usize>((ix * fw + k) * c), src, <usize>c);
      }
      for (let k = 1; k < fh; k++) memory.copy(dst + <usize>k * row, dst, row);
    }
  }
}
