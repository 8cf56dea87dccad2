// Test-side quantization helpers: make random float tensors, quantize them the way the
// converter will (docs/QUANTIZATION.md), and dequantize kernel outputs.

import { Heap, type Quant } from './kernels.js';
import type { EngineBuild, EngineExports } from '../../src/runtime/engine.js';
import { loadEngine } from '../../src/runtime/node.js';
import { activationQuant } from '../../src/toolchain/convert/quantize.js';
import { rng } from '../../src/runtime/rng.js';

export { rng };
export { quantizeRows } from '../../src/toolchain/convert/quantize.js';

export const BUILDS: EngineBuild[] = ['simd', 'scalar'];

const engines = new Map<EngineBuild, Promise<EngineExports>>();
export function engine(build: EngineBuild): Promise<EngineExports> {
  if (!engines.has(build)) engines.set(build, loadEngine(build));
  return engines.get(build)!;
}

// A fresh heap on a reset engine.
export async function heapFor(build: EngineBuild): Promise<Heap> {
  const e = await engine(build);
  e.mem_reset();
  return new Heap(e);
}


export function randomInt8(r: () => number, n: number, lo = -128, hi = 127): Int8Array {
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor(r() * (hi - lo + 1));
  return a;
}

export function randomInt32(r: () => number, n: number, lo: number, hi: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor(r() * (hi - lo + 1));
  return a;
}

export function randomFloat(r: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + r() * (hi - lo);
  return a;
}

// Asymmetric per-tensor parameters covering the values (and 0): the converter's rule.
export function quantFor(values: ArrayLike<number>): Quant {
  let lo = 0, hi = 0;
  for (let i = 0; i < values.length; i++) { lo = Math.min(lo, values[i]); hi = Math.max(hi, values[i]); }
  return activationQuant(lo, hi);
}

export function quantize(values: ArrayLike<number>, q: Quant): Int8Array {
  const out = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    out[i] = Math.max(-128, Math.min(127, Math.round(values[i] / q.scale) + q.zeroPoint));
  }
  return out;
}

export function dequantize(codes: ArrayLike<number>, q: Quant): Float32Array {
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = q.scale * (codes[i] - q.zeroPoint);
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// First index where two code arrays differ, for a readable failure.
export function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>): string {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return 'none';
}
