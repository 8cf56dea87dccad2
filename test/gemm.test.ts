import { describe, expect, it } from 'vitest';
import { BUILDS, heapFor, firstMismatch, randomInt32, randomInt8, rng } from './helpers/quant.js';

const GEMM_OUT_S32 = 1;

// The gemm core against plain integer arithmetic in JavaScript, across the K at which
// the packed layout switches from 2x8c2 (K < 16) to 2x4c8, and every tile remainder.
describe.each(BUILDS)('gemm_s8 on the %s build', (build) => {
  it('int32 outputs equal Σ (a − zp)·w + bias for every K, N and M remainder', async () => {
    const r = rng(77);
    const heap = await heapFor(build);
    const e = heap.e;
    let cases = 0;
    for (const k of [1, 2, 3, 7, 8, 9, 14, 15, 16, 17, 23, 24, 25, 64, 65]) {
      for (const n of [1, 3, 4, 5, 7, 8, 9, 12, 16, 17]) {
        for (const m of [1, 2, 3, 5]) {
          e.mem_reset();
          const zp = [-128, 0, 127][cases % 3];
          const a = randomInt8(r, m * k), w = randomInt8(r, n * k, -127, 127), bias = randomInt32(r, n, -1e6, 1e6);
          const pa = heap.put(a), pw = heap.put(w), pb = heap.put(bias), ps = heap.put(new Float32Array(n).fill(1));
          const packed = heap.alloc(e.gemm_packed_size(n, k));
          e.gemm_pack(pw, n, k, pb, ps, 1, zp, 1, packed);
          const pc = heap.alloc(m * n * 4);
          e.gemm_s8(m, n, k, pa, k, packed, pc, n, GEMM_OUT_S32, 0, 0, 0);
          const got = new Int32Array(e.memory.buffer, pc, m * n).slice();
          const want = new Int32Array(m * n);
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
            let s = bias[j];
            for (let t = 0; t < k; t++) s += (a[i * k + t] - zp) * w[j * k + t];
            want[i * n + j] = s;
          }
          expect(firstMismatch(got, want), `m ${m} n ${n} k ${k}`).toBe('none');
          cases++;
        }
      }
    }
    expect(cases).toBe(600);
  });
});
