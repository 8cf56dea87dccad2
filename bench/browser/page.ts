// The timed page of the browser benchmark (bench/browser.ts drives it through
// globalThis.edgeqBench): every candidate of one model loaded into one page, their
// outputs on the 64 test images handed back for the checks, then timed with the
// benchmarks' one protocol (bench/timing.ts timeInterleaved, bundled in).

import { relaxedSimdSupported } from '../../src/runtime/engine.js';
import { timeInterleaved, type Stat } from '../timing.js';
import { fetchModel, importRuntime, instantiate, type Candidate, type Run } from './runtimes.js';

const PX = 784;
let runs: Run[] = [];
let images = new Uint8Array(0);

// batch 1 cycles through the 64 images; batch 64 takes them all (as bench/compare.ts)
const input = (batch: number, k: number) => (batch === 1 ? images.subarray((k % 64) * PX, (k % 64 + 1) * PX) : images.subarray(0, 64 * PX));

async function outputs(run: Run, batch: number): Promise<number[]> {
  const out: number[] = [];
  for (let k = 0; k < 64 / batch; k++) out.push(...(await run(input(batch, k), batch)));
  return out;
}

const bench = {
  // crossOriginIsolated: performance.now() to 5 µs rather than 100 µs
  env: () => ({ relaxed: relaxedSimdSupported(), crossOriginIsolated }),
  // each candidate's scores for the 64 images, at batch 64 and one by one at batch 1
  async load(candidates: Candidate[], imagesUrl: string): Promise<{ batch64: number[]; batch1: number[] }[]> {
    images = new Uint8Array(await (await fetch(imagesUrl)).arrayBuffer());
    if (images.length !== 64 * PX) throw new Error(`${imagesUrl}: ${images.length} bytes, expected 64 images of ${PX}`);
    runs = [];
    for (const c of candidates) runs.push(await instantiate(c, await importRuntime(c), await fetchModel(c)));
    const out = [];
    for (const run of runs) out.push({ batch64: await outputs(run, 64), batch1: await outputs(run, 1) });
    return out;
  },
  async time(T: { warmup: number; runs1: number; runs64: number; rounds: number }): Promise<{ batch1: Stat[]; batch64: Stat[] }> {
    const all = (batch: number, count: number) => timeInterleaved(runs.map((r) => (k: number) => r(input(batch, k), batch)), count, T);
    return { batch1: await all(1, T.runs1), batch64: await all(64, T.runs64) };
  },
};
export type PageBench = typeof bench;
(globalThis as unknown as { edgeqBench: PageBench }).edgeqBench = bench;
