// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zlib and PNG use it.

const table: usize = memory.data(256 * 4, 4);
for (let n: u32 = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  store<u32>(table + (<usize>n << 2), c);
}

export function crc32(ptr: usize, len: usize): u32 {
  let c: u32 = 0xffffffff;
  for (let i: usize = 0; i < len; i++) {
    c = load<u32>(table + (<usize>((c ^ load<u8>(ptr + i)) & 0xff) << 2)) ^ (c >>> 8);
  }
  return c ^ 0xffffffff;
}
