// Images for the toolchain: `edgeq run` inputs and image-folder datasets. PNG (pngjs:
// every bit depth, palette, alpha, interlacing), JPEG (jpeg-js) and PGM (P2, P5, a few
// lines here), converted to a model's size and channels.

import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError } from '../../runtime/errors.js';

export interface Image { width: number; height: number; channels: 1 | 3; pixels: Uint8Array }

// Larger images are refused rather than decoded (a 64-megapixel RGBA image is 256 MB).
const MAX_PIXELS = 1 << 26;

function bad(file: string, what: string): never {
  throw new DataError('E_IMAGE', `${file}: ${what}`);
}

export function decodeImage(bytes: Uint8Array, file: string): Image {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return decodePng(bytes, file);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return decodeJpeg(bytes, file);
  if (bytes[0] === 0x50 && (bytes[1] === 0x35 || bytes[1] === 0x32)) return decodePgm(bytes, file);
  return bad(file, 'not a PNG, JPEG or PGM image (its first bytes are none of theirs)');
}

// RGBA (alpha composited over black, as the pixels a model was trained on show it) →
// grey when every pixel has R = G = B, else RGB.
function fromRgba(rgba: Uint8Array, width: number, height: number): Image {
  const n = width * height;
  let grey = true;
  for (let i = 0; i < n && grey; i++) grey = rgba[i * 4] === rgba[i * 4 + 1] && rgba[i * 4] === rgba[i * 4 + 2];
  const channels = grey ? 1 : 3;
  const pixels = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    const a = rgba[i * 4 + 3];
    for (let c = 0; c < channels; c++) pixels[i * channels + c] = a === 255 ? rgba[i * 4 + c] : Math.round((rgba[i * 4 + c] * a) / 255);
  }
  return { width, height, channels, pixels };
}

function decodePng(bytes: Uint8Array, file: string): Image {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: false });
  } catch (e) {
    return bad(file, `corrupt PNG (${(e as Error).message})`);
  }
  if (png.width * png.height > MAX_PIXELS) bad(file, `${png.width}×${png.height} is over the ${MAX_PIXELS}-pixel limit`);
  return fromRgba(png.data, png.width, png.height);
}

function decodeJpeg(bytes: Uint8Array, file: string): Image {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 1024 });
  } catch (e) {
    return bad(file, `corrupt JPEG (${(e as Error).message})`);
  }
  return fromRgba(img.data, img.width, img.height);
}

function decodePgm(bytes: Uint8Array, file: string): Image {
  const binary = bytes[1] === 0x35;
  let pos = 2;
  const token = (): number => {
    for (;;) {
      while (pos < bytes.length && /\s/.test(String.fromCharCode(bytes[pos]))) pos++;
      if (bytes[pos] === 0x23) { while (pos < bytes.length && bytes[pos] !== 0x0a) pos++; continue; }
      break;
    }
    const start = pos;
    while (pos < bytes.length && /[0-9]/.test(String.fromCharCode(bytes[pos]))) pos++;
    if (start === pos) bad(file, 'malformed PGM header');
    return Number(new TextDecoder().decode(bytes.subarray(start, pos)));
  };
  const width = token(), height = token(), max = token();
  if (width < 1 || height < 1 || width * height > 1 << 26) bad(file, `unsupported PGM size ${width}×${height}`);
  if (max < 1 || max > 65535) bad(file, `PGM maximum value ${max} is out of range`);
  const n = width * height;
  const pixels = new Uint8Array(n);
  if (binary) {
    pos++; // the single whitespace after maxval
    const wide = max > 255;
    if (bytes.length - pos < n * (wide ? 2 : 1)) bad(file, `PGM data is truncated: ${bytes.length - pos} bytes for ${width}×${height}`);
    for (let i = 0; i < n; i++) {
      const v = wide ? (bytes[pos + 2 * i] << 8) | bytes[pos + 2 * i + 1] : bytes[pos + i];
      pixels[i] = Math.round((Math.min(v, max) * 255) / max);
    }
  } else {
    for (let i = 0; i < n; i++) pixels[i] = Math.round((Math.min(token(), max) * 255) / max);
  }
  return { width, height, channels: 1, pixels };
}

// Resamples to width × height (each output pixel averages the source area it covers)
// and converts to `channels` (grey = 0.299 R + 0.587 G + 0.114 B).
export function fitImage(img: Image, width: number, height: number, channels: 1 | 3): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  const sx = img.width / width, sy = img.height / height;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const x0 = x * sx, x1 = (x + 1) * sx, y0 = y * sy, y1 = (y + 1) * sy;
    const acc = [0, 0, 0];
    let area = 0;
    for (let v = Math.floor(y0); v < Math.ceil(y1) && v < img.height; v++) {
      const wy = Math.min(y1, v + 1) - Math.max(y0, v);
      for (let u = Math.floor(x0); u < Math.ceil(x1) && u < img.width; u++) {
        const w = wy * (Math.min(x1, u + 1) - Math.max(x0, u));
        const p = (v * img.width + u) * img.channels;
        for (let ch = 0; ch < 3; ch++) acc[ch] += w * img.pixels[p + (img.channels === 3 ? ch : 0)];
        area += w;
      }
    }
    const o = (y * width + x) * channels;
    if (channels === 3) for (let ch = 0; ch < 3; ch++) out[o + ch] = Math.round(acc[ch] / area);
    else out[o] = Math.round(img.channels === 1 ? acc[0] / area : (0.299 * acc[0] + 0.587 * acc[1] + 0.114 * acc[2]) / area);
  }
  return out;
}

// An 8-bit grey or RGB PNG, through pngjs: for tests and sample images.
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Uint8Array {
  const png = new PNG({ width, height, colorType: channels === 1 ? 0 : 2, inputColorType: 6, inputHasAlpha: true });
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) png.data[i * 4 + c] = pixels[i * channels + (channels === 3 ? c : 0)];
    png.data[i * 4 + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: channels === 1 ? 0 : 2, inputColorType: 6 });
}
