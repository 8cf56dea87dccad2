// Format 1 → format 2 (docs/FORMAT.md, version history), keeping every weight, op and
// metadata byte. A format-1 file scales every input, floats too, by one input mul / add;
// format 2 keeps float inputs as they are and applies the same numbers to pixel inputs
// only, as the pixel rule tensor [2, 1] appended to the tensor table. Pixel inputs give
// bit-identical outputs before and after; float inputs now mean what the source model's
// predict takes.

import * as F from '../../../assembly/format.js';
import { ModelFormatError } from '../../runtime/errors.js';
import { crc32 } from './crc32.js';

export function upgradeToV2(file: Uint8Array): Uint8Array {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const u32 = (at: number) => v.getUint32(at, true);
  if (file.length < F.HEADER_SIZE || u32(F.H_MAGIC) !== F.MAGIC) throw new ModelFormatError('E_MAGIC', 'not an .edgeq model');
  const version = u32(F.H_VERSION);
  if (version === 2) return file.slice();
  if (version !== 1) throw new ModelFormatError('E_VERSION', `format version ${version}: only version 1 files are upgraded`);
  if (u32(F.H_FILE_SIZE) !== file.length || crc32(file.subarray(16)) !== u32(F.H_CRC32)) {
    throw new ModelFormatError('E_CHECKSUM', 'the file is truncated or corrupted: re-convert the model');
  }
  const tensorCount = u32(F.H_TENSOR_COUNT);
  const tensorsAt = u32(F.H_TENSORS_OFFSET), opsAt = u32(F.H_OPS_OFFSET), metaAt = u32(F.H_META_OFFSET);
  const metaSize = u32(F.H_META_SIZE), dataAt = u32(F.H_DATA_OFFSET);
  // the writer's layout: header, tensors, ops, metadata, data (16-aligned)
  if (tensorsAt !== F.HEADER_SIZE || opsAt !== tensorsAt + tensorCount * F.TENSOR_RECORD_SIZE || metaAt !== opsAt + u32(F.H_OP_COUNT) * F.OP_RECORD_SIZE || dataAt < metaAt + metaSize) {
    throw new ModelFormatError('E_HEADER', 'the sections are not laid out as edgeq writes them: re-convert the model');
  }
  const align = (n: number) => Math.ceil(n / F.DATA_ALIGN) * F.DATA_ALIGN;
  const shift = F.TENSOR_RECORD_SIZE;
  const dataLen = file.length - dataAt;
  const ruleAt = align(dataLen); // the rule's offset in the data section
  const newDataAt = align(metaAt + shift + metaSize);
  const out = new Uint8Array(newDataAt + ruleAt + 8);
  const o = new DataView(out.buffer);
  out.set(file.subarray(0, opsAt), 0); // header and tensor records
  out.set(file.subarray(opsAt, metaAt + metaSize), opsAt + shift); // op records, metadata
  out.set(file.subarray(dataAt), newDataAt);
  const r = opsAt; // the new tensor record: float32 constant [2, 1], raw
  out[r + F.T_DTYPE] = F.DTYPE_FLOAT32;
  out[r + F.T_KIND] = F.KIND_CONSTANT;
  out[r + F.T_RANK] = 2;
  out[r + F.T_ENCODING] = F.ENCODING_RAW;
  o.setUint32(r + F.T_DIMS, 2, true);
  o.setUint32(r + F.T_DIMS + 4, 1, true);
  o.setUint32(r + F.T_DATA_OFFSET, ruleAt, true);
  o.setUint32(r + F.T_DATA_SIZE, 8, true);
  o.setFloat32(newDataAt + ruleAt, v.getFloat32(F.H_INPUT_MUL, true), true);
  o.setFloat32(newDataAt + ruleAt + 4, v.getFloat32(F.H_INPUT_ADD, true), true);
  o.setUint32(F.H_VERSION, 2, true);
  o.setUint32(F.H_FILE_SIZE, out.length, true);
  o.setUint32(F.H_TENSOR_COUNT, tensorCount + 1, true);
  o.setInt32(F.H_PIXEL_RULE, tensorCount, true);
  o.setUint32(F.H_RESERVED, 0, true);
  o.setUint32(F.H_OPS_OFFSET, opsAt + shift, true);
  o.setUint32(F.H_META_OFFSET, metaAt + shift, true);
  o.setUint32(F.H_DATA_OFFSET, newDataAt, true);
  o.setUint32(F.H_CRC32, crc32(out.subarray(16)), true);
  return out;
}
