// A .npy file as NumPy writes it (format 1.0: header padded with spaces to a multiple of
// 64 bytes), for tests that give edgeq data the way users have it.
export function npy(descr: string, shape: number[], data: ArrayBufferView, opts: { fortran?: boolean } = {}): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0, dict.length & 255, dict.length >> 8]);
  out.set(Buffer.from(dict, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}
