// One cold start of the browser benchmark, in a fresh page (bench/browser.ts opens a new
// browser context per measurement: empty HTTP and code caches). The candidate comes in
// the URL's hash; the result is left in globalThis.coldResult.
//   scriptToFirstMs: this script starts → first result (import the runtime's script,
//     fetch the model, fetch and compile the engine, load, first result)
//   bytesToFirstMs: the model's bytes in hand → first result
//   navigationToFirstMs: the page's navigation start → first result

import { fetchModel, importRuntime, instantiate, type Candidate } from './runtimes.js';

export interface ColdResult { scriptToFirstMs: number; bytesToFirstMs: number; navigationToFirstMs: number }

const t0 = performance.now();
const g = globalThis as unknown as { coldResult: ColdResult | { error: string } };
(async () => {
  const c = JSON.parse(decodeURIComponent(location.hash.slice(1))) as Candidate;
  const rt = await importRuntime(c);
  const files = await fetchModel(c);
  const tb = performance.now();
  const run = await instantiate(c, rt, files);
  // one input of the model's size (a fixed pattern, as bench/cold.mjs)
  const px = new Uint8Array(784).map((_, i) => (i * 37) & 255);
  const y = await run(px, 1);
  const t1 = performance.now();
  if (y.length !== 10) throw new Error(`expected 10 scores, got ${y.length}`);
  g.coldResult = { scriptToFirstMs: t1 - t0, bytesToFirstMs: t1 - tb, navigationToFirstMs: t1 };
})().catch((e: unknown) => { g.coldResult = { error: String(e instanceof Error ? e.stack ?? e.message : e) }; });
