// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zlib and PNG use it.
// Slicing by 8 (eight tables, eight bytes a step): a fresh engine runs model_load in
// V8's baseline code, where the byte-at-a-time loop took 0.2 ms of a 33 KB model's load.

const table: usize = memory.data(8 * 256 * 4, 16);
for (let n: u32 = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  store<u32>(table + (<usize>n << 2), c);
}
// table k: the CRC of byte n followed by k zero bytes
for (let n: usize = 0; n < 256; n++) {
  let c = load<u32>(table + (n << 2));
  for (let k: usize = 1; k < 8; k++) {
    c = load<u32>(table + (<usize>(c & 0xff) << 2)) ^ (c >>> 8);
    store<u32>(table + (k << 10) + (n << 2), c);
  }
}

// @ts-ignore: decorator
@inline function t(k: usize, b: u32): u32 {
  return load<u32>(table + (k << 10) + (<usize>(b & 0xff) << 2));
}

export function crc32(ptr: usize, len: usize): u32 {
  let c: u32 = 0xffffffff;
  let i: usize = 0;
  for (; i + 8 <= len; i += 8) {
    const a = load<u32>(ptr + i) ^ c;
    const b = load<u32>(ptr + i, 4);
    c = t(7, a) ^ t(6, a >>> 8) ^ t(5, a >>> 16) ^ t(4, a >>> 24) ^ t(3, b) ^ t(2, b >>> 8) ^ t(1, b >>> 16) ^ t(0, b >>> 24);
  }
  for (; i < len; i++) c = t(0, c ^ load<u8>(ptr + i)) ^ (c >>> 8);
  return c ^ 0xffffffff;
}
