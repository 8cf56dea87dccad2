// NumPy .npy arrays (npyjs parses the header and views the data). edgeq takes the
// dtypes models are fed with — float32, float64, uint8, int8, int16, int32, and int64
// (NumPy's default integer, as labels usually are) — little endian, C order; anything
// else is refused by name rather than misread.

import { parse } from 'npyjs';
import { DataError } from '../../runtime/errors.js';

export type NpyData = Float32Array | Float64Array | Uint8Array | Int8Array | Int16Array | Int32Array;
export interface NpyArray { shape: number[]; dtype: NpyDtype; data: NpyData }

const DTYPES = { f4: 'float32', f8: 'float64', u1: 'uint8', i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64' } as const;
export type NpyDtype = (typeof DTYPES)[keyof typeof DTYPES];

export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const bad = (what: string): never => { throw new DataError('E_NPY', `${file}: ${what}`); };
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') bad('not a .npy file (it does not start with \\x93NUMPY)');
  // The header is a Python dict literal; read its descr here, since npyjs drops the
  // byte-order mark and would read big-endian data as little-endian.
  const headerEnd = Math.min(bytes.length, bytes[6] >= 2 ? 12 + (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) : 10 + (bytes[8] | (bytes[9] << 8)));
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, headerEnd));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  if (descr === undefined) bad('the header has no descr (dtype): the file is truncated or not written by NumPy');
  const code = descr!.slice(1) as keyof typeof DTYPES;
  if (!(code in DTYPES) || !'<|'.includes(descr![0])) {
    bad(`dtype '${descr}' is not supported: save float32, float64, uint8, int8, int16, int32 or int64, little-endian (e.g. x.astype('<f4'))`);
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(bytes.slice().buffer);
  } catch (e) {
    return bad(`malformed .npy (${(e as Error).message})`);
  }
  if (parsed.fortranOrder) bad("the array is in Fortran order: save it in C order (np.ascontiguousarray(x))");
  const shape = parsed.shape;
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) bad(`malformed shape (${shape.join(', ')})`);
  const want = shape.reduce((a, b) => a * b, 1);
  let data = parsed.data as NpyData | BigInt64Array;
  if (data instanceof BigInt64Array) {
    // int64 as float64: exact up to 2^53, far beyond any label or input value
    const big = data;
    const at = big.findIndex((v) => v > 2n ** 53n || v < -(2n ** 53n));
    if (at >= 0) bad(`int64 value ${at} (${big[at]}) is beyond ±2^53 and cannot be represented exactly`);
    data = Float64Array.from(big, Number);
  }
  if (data.length !== want) {
    bad(`the header says shape (${shape.join(', ')}) = ${want} values, the file holds ${data.length}${data.length < want ? ': it is truncated' : ''}`);
  }
  return { shape, dtype: DTYPES[code], data };
}
