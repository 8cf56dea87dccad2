// Zero padding of an int8 NHWC image: top, bottom, left, right rows / columns of the
// code of the real 0 (the zero point); the output has the input's (scale, zero point).
//
//   pad2d_s8_ref   the definition, value by value.
//   pad2d_s8_rows  the output filled with the zero point, then each input row copied in
//                  whole. No over-read. Bit-exact with the reference.

export function pad2d_s8_ref(x: usize, batch: i32, h: i32, w: i32, c: i32, top: i32, bottom: i32, left: i32, right: i32, zp: i32, y: usize): void {
  const oh = h + top + bottom, ow = w + left + right;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const iy = oy - top, ix = ox - left;
        const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
        for (let ch = 0; ch < c; ch++) {
          store<i8>(y + <usize>(((b * oh + oy) * ow + ox) * c + ch), inside ? load<i8>(x + <usize>(((b * h + iy) * w + ix) * c + ch)) : <i8>zp);
        }
      }
    }
  }
}

export function pad2d_s8_rows(x: usize, batch: i32, h: i32, w: i32, c: i32, top: i32, bottom: i32, left: i32, right: i32, zp: i32, y: usize): void {
  const oh = h + top + bottom, ow = w + left + right;
  memory.fill(y, <u8>zp, <usize>(batch * oh * ow * c));
  const row = <usize>(w * c);
  for (let b = 0; b < batch; b++) {
    for (let iy = 0; iy < h; iy++) {
      memory.copy(y + <usize>(((b * oh + iy + top) * ow + left) * c), x + <usize>((b * h + iy) * w * c), row);
    }
  }
}
