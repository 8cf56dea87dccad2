// The IDX format of MNIST and Fashion-MNIST (gzipped or not): a big-endian header
// (two zero bytes, a type byte, the number of dimensions, then each dimension as u32)
// followed by the values. Only unsigned bytes (type 0x08) occur in these datasets.

import { gunzipSync } from 'node:zlib';
import { ConvertError } from '../../runtime/errors.js';

export interface IdxArray { dims: number[]; data: Uint8Array }

export function parseIdx(raw: Uint8Array, file: string): IdxArray {
  let bytes = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(raw);
    } catch (e) {
      throw new ConvertError('E_IDX', `${file}: the gzip stream is corrupt or truncated (${(e as Error).message}); download the file again`);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new ConvertError('E_IDX', `${file} is not an IDX file (it does not start with two zero bytes)`);
  if (bytes[2] !== 0x08) throw new ConvertError('E_IDX', `${file}: IDX type 0x${bytes[2].toString(16)} is not supported (unsigned bytes, 0x08, only)`);
  const rank = bytes[3];
  if (rank < 1 || bytes.length < 4 + 4 * rank) throw new ConvertError('E_IDX', `${file}: the IDX header is truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const n = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * rank;
  if (bytes.length - start < n) throw new ConvertError('E_IDX', `${file} is truncated: the header says ${dims.join('×')} = ${n} values, the file holds ${bytes.length - start}`);
  return { dims, data: bytes.subarray(start, start + n) };
}
