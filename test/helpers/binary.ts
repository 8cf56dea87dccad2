// Shared checks of the two-input ops (add, multiply, concat): hand-computed cases are in
// each op's test file; here the sweep that holds the optimized kernel to the reference.
import { expect } from 'vitest';
import { prepareBinary, type BinarySpec, type FusedActivation } from './kernels.js';
import type { EngineBuild } from '../../src/runtime/engine.js';
import { firstMismatch, heapFor, randomInt8, rng } from './quant.js';

export async function runBinary(build: EngineBuild, s: BinarySpec, a: ArrayLike<number>, b: ArrayLike<number>, variant: 'ref' | 'opt'): Promise<number[]> {
  const heap = await heapFor(build);
  heap.e.mem_reset();
  const op = prepareBinary(heap, s, variant);
  op.setInput([...Array.from(a), ...Array.from(b)]);
  op.run();
  return Array.from(op.output());
}

// ref against optimized over lengths around the 16-value step, broadcasts, zero points,
// scales and activations; returns how many values hit each end of the int8 range.
export async function sweepBinary(build: EngineBuild, opName: BinarySpec['op'], seed: number): Promise<{ cases: number; low: number; high: number }> {
  const r = rng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const heap = await heapFor(build);
  let cases = 0, low = 0, high = 0;
  for (const n of [1, 7, 15, 16, 17, 31, 32, 33, 48, 100]) {
    for (const shape of opName === 'concatenate' ? ['a', 'b', 'c'] : ['same', 'vector']) {
      for (const activation of (opName === 'concatenate' ? ['none'] : ['none', 'relu', 'relu6']) as FusedActivation[]) {
        const nb = opName === 'concatenate' ? pick([1, 5, 16, 17, 40]) : shape === 'same' ? n : pick([1, 16].filter((d) => n % d === 0).concat(n));
        const rows = opName === 'concatenate' ? 1 + Math.floor(r() * 4) : 1;
        const s: BinarySpec = {
          op: opName, batch: opName === 'concatenate' ? rows : 1 + Math.floor(r() * 3), n: opName === 'concatenate' ? n : n * (shape === 'vector' ? 3 : 1), nb,
          a: { scale: pick([0.01, 0.05, 0.3]), zeroPoint: pick([-128, -7, 0, 127]) },
          b: { scale: pick([0.01, 0.05, 0.3]), zeroPoint: pick([-128, 3, 0, 127]) },
          output: { scale: pick([0.004, 0.05, 0.5]), zeroPoint: pick([-128, -1, 0, 100]) },
          activation,
        };
        if (shape === 'c') s.b = s.output = s.a; // same quantization: an exact copy
        heap.e.mem_reset();
        const a = randomInt8(r, s.batch * s.n), b = randomInt8(r, s.batch * s.nb);
        const x = prepareBinary(heap, s, 'ref'), y = prepareBinary(heap, s, 'opt');
        const input = [...a, ...b];
        x.setInput(input); y.setInput(input); x.run(); y.run();
        const want = x.output(), got = y.output();
        expect(firstMismatch(want, got), JSON.stringify(s)).toBe('none');
        if (shape === 'c') expect(Array.from(want)).toEqual(Array.from({ length: s.batch }, (_, i) => [...a.subarray(i * s.n, (i + 1) * s.n), ...b.subarray(i * s.nb, (i + 1) * s.nb)]).flat());
        low += want.filter((v) => v === -128).length;
        high += want.filter((v) => v === 127).length;
        cases++;
      }
    }
  }
  return { cases, low, high };
}
