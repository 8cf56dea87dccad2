// Reading images for `edgeq run`: PNG (8- and 16-bit grey, grey+alpha, RGB, RGBA,
// palette; not interlaced) and PGM (P2, P5), converted to the model's size and channels.

import { deflateSync, inflateSync } from 'node:zlib';
import { InputError } from '../../runtime/errors.js';
import { crc32 } from '../format/crc32.js';

export interface Image { width: number; height: number; channels: 1 | 3; pixels: Uint8Array }

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function bad(file: string, what: string): never {
  throw new InputError('E_IMAGE', `${file}: ${what}`);
}

export function decodeImage(bytes: Uint8Array, file: string): Image {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return decodePng(bytes, file);
  if (bytes[0] === 0x50 && (bytes[1] === 0x35 || bytes[1] === 0x32)) return decodePgm(bytes, file);
  return bad(file, 'not a PNG or PGM image (expected a file starting with the PNG signature or P5/P2)');
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

function decodePng(bytes: Uint8Array, file: string): Image {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0, height = 0, depth = 0, color = -1, interlace = 0;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  while (pos + 8 <= bytes.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (pos + 12 + len > bytes.length) bad(file, `PNG chunk ${type} is truncated`);
    const body = bytes.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = view.getUint32(pos + 8); height = view.getUint32(pos + 12);
      depth = body[8]; color = body[9]; interlace = body[12];
    } else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  if (color < 0) bad(file, 'PNG has no IHDR chunk');
  if (width < 1 || height < 1 || width * height > 1 << 26) bad(file, `unsupported PNG size ${width}×${height}`);
  if (interlace !== 0) bad(file, 'interlaced PNGs are not supported: save it without interlacing');
  const samples = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[color as 0 | 2 | 3 | 4 | 6];
  if (!samples) bad(file, `unknown PNG colour type ${color}`);
  if (!(depth === 8 || depth === 16 || (color === 3 && depth <= 8) || (color === 0 && depth < 8))) bad(file, `PNG bit depth ${depth} with colour type ${color} is not supported`);
  if (color === 3 && !palette) bad(file, 'palette PNG without a PLTE chunk');
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    return bad(file, `PNG image data is corrupt (${(e as Error).message})`);
  }
  const bitsPerPixel = samples * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  if (raw.length < height * (stride + 1)) bad(file, 'PNG image data is truncated');
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = out.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? out.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
      let p: number;
      switch (filter) {
        case 0: p = 0; break;
        case 1: p = a; break;
        case 2: p = b; break;
        case 3: p = (a + b) >> 1; break;
        case 4: { const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c); p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c; break; }
        default: return bad(file, `PNG row ${y} has unknown filter ${filter}`);
      }
      row[i] = (src[i] + p) & 0xff;
    }
  }
  // samples → 8-bit RGB or grey, alpha composited over black
  const sample = (y: number, i: number): number => {
    if (depth === 16) return out[y * stride + 2 * i];
    if (depth === 8) return out[y * stride + i];
    const perByte = 8 / depth, byte = out[y * stride + Math.floor(i / perByte)];
    const v = (byte >> (8 - depth * ((i % perByte) + 1))) & ((1 << depth) - 1);
    return color === 3 ? v : Math.round((v * 255) / ((1 << depth) - 1));
  };
  const grey = color === 0 || color === 4;
  const pixels = new Uint8Array(width * height * (grey ? 1 : 3));
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const i = y * width + x;
    if (color === 3) {
      const k = sample(y, x);
      for (let ch = 0; ch < 3; ch++) pixels[i * 3 + ch] = palette![k * 3 + ch] ?? 0;
    } else if (grey) {
      const v = sample(y, x * samples), alpha = color === 4 ? sample(y, x * samples + 1) : 255;
      pixels[i] = Math.round((v * alpha) / 255);
    } else {
      const alpha = color === 6 ? sample(y, x * samples + 3) : 255;
      for (let ch = 0; ch < 3; ch++) pixels[i * 3 + ch] = Math.round((sample(y, x * samples + ch) * alpha) / 255);
    }
  }
  return { width, height, channels: grey ? 1 : 3, pixels };
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

// A minimal 8-bit grey or RGB PNG (stored, unfiltered): for tests and sample images.
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Uint8Array {
  const raw = Buffer.alloc(height * (width * channels + 1));
  for (let y = 0; y < height; y++) Buffer.from(pixels.subarray(y * width * channels, (y + 1) * width * channels)).copy(raw, y * (width * channels + 1) + 1);
  const chunk = (type: string, body: Uint8Array) => {
    const b = Buffer.alloc(12 + body.length);
    b.writeUInt32BE(body.length, 0);
    b.write(type, 4, 'latin1');
    Buffer.from(body).copy(b, 8);
    b.writeUInt32BE(crc32(b.subarray(4, 8 + body.length)), 8 + body.length);
    return b;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = channels === 1 ? 0 : 2;
  return Buffer.concat([Buffer.from(PNG_SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}
