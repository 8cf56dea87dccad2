// The one timing protocol of the benchmarks (bench/compare.ts, bench/edge.ts): every
// runtime gets the same warm-up calls, then the same number of timed calls, each awaited,
// interleaved across runtimes in rounds so that drift of a shared machine hits all alike.
// call(k) runs the k-th call of one runtime.

export interface Stat { median: number; p90: number; runs: number }

export const stat = (t: number[]): Stat => {
  const s = t.slice().sort((a, b) => a - b);
  return { median: s[s.length >> 1], p90: s[Math.floor(0.9 * s.length)], runs: s.length };
};

export async function timeInterleaved(calls: ((k: number) => unknown)[], count: number, o: { warmup: number; rounds: number }): Promise<Stat[]> {
  for (const call of calls) for (let k = 0; k < o.warmup; k++) await call(k);
  const times: number[][] = calls.map(() => []);
  const per = Math.ceil(count / o.rounds);
  for (let round = 0; round < o.rounds; round++) {
    for (let i = 0; i < calls.length; i++) {
      for (let k = 0; k < per; k++) { const s = performance.now(); await calls[i](k); times[i].push(performance.now() - s); }
    }
  }
  return times.map(stat);
}

// The i32x4.dot_i16x8_s peak of this engine in GMAC/s (assembly/peak.ts: operands in
// registers, 12 dots of 8 MACs per iteration), the best of three: the int8 bound of a
// model is its MACs at this rate (bench/edge.ts, bench/sequence.ts).
export function dotPeakGmacs(engine: { peak_dot_i16x8(iterations: number, seed: number): unknown }): number {
  const once = () => { const n = 200_000, s = performance.now(); engine.peak_dot_i16x8(n, 3); return (n * 12 * 8) / ((performance.now() - s) / 1000) / 1e9; };
  return Math.max(once(), once(), once());
}
