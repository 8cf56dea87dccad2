// The engine's heap: a bump allocator over linear memory.
//
// Kernels never allocate. The host and the model loader allocate every buffer up front
// (Prepare) and release them all at once with mem_reset; one model per instance.
// Every block is 16-byte aligned (one v128) and is followed by MEM_SLACK readable
// bytes, because the optimized kernels read up to 7 bytes past the end of an input
// row and the fused conv + pool gathers up to 12 past its scratch (docs/KERNELS.md,
// and the over-read notes at the top of each kernel).

export const MEM_ALIGN: usize = 16;
export const MEM_SLACK: usize = 16;

let heapTop: usize = (__heap_base + MEM_ALIGN - 1) & ~(MEM_ALIGN - 1);
const heapStart: usize = (__heap_base + MEM_ALIGN - 1) & ~(MEM_ALIGN - 1);

// Returns a 16-byte aligned block of `size` bytes, or 0 when memory cannot grow.
export function mem_alloc(size: usize): usize {
  if (size > 0x7fff0000) return 0;
  const ptr = heapTop;
  const end = ptr + ((size + MEM_SLACK + MEM_ALIGN - 1) & ~(MEM_ALIGN - 1));
  const have = (<usize>memory.size()) << 16;
  if (end > have) {
    const pages = <i32>((end - have + 0xffff) >>> 16);
    if (memory.grow(pages) < 0) return 0;
  }
  heapTop = end;
  return ptr;
}

// Releases `ptr` and every block allocated after it (stack discipline: temporaries).
export function mem_release(ptr: usize): void {
  if (ptr >= heapStart && ptr <= heapTop) heapTop = ptr;
}

// Releases every block.
export function mem_reset(): void {
  heapTop = heapStart;
}

// Bytes currently allocated (for leak checks by hosts).
export function mem_used(): usize {
  return heapTop - heapStart;
}
