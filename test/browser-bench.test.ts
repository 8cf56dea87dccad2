// The browser benchmark's page harness (bench/browser/), with edgeq alone: in headless
// Chromium it feeds each build the 64 images at batch 64 and one by one at batch 1, and
// gets Node's scores bit for bit (so bench/browser.ts times the calls it checked), its
// timer is the isolated page's, and a cold start in a fresh context reports its times.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSite, coldStart, ISOLATION, openBenchPage } from '../bench/browser/site.js';
import type { Candidate } from '../bench/browser/runtimes.js';
import { loadModel } from '../src/runtime/node.js';
import { loadDataset } from '../src/toolchain/data/datasets.js';
import { capability } from './helpers/capabilities.js';
import { launchChromium, serveDir } from './helpers/pages.js';

const MODEL = new URL('../models/lstm-mnist.edgeq', import.meta.url);

const chromium = capability('chromium');
describe.skipIf(chromium.skip)('browser benchmark harness (edgeq in Chromium)', () => {
  let dir: string, server: Server, browser: Browser, url: string, images: Uint8Array;
  beforeAll(async () => {
    if (!chromium.available) return; // (on CI) each test fails with the reason: chromium.require()
    dir = mkdtempSync(join(tmpdir(), 'edgeq-bench-browser-'));
    await buildSite(dir, { others: false });
    writeFileSync(join(dir, 'model.edgeq'), readFileSync(MODEL));
    images = (await loadDataset('mnist', 'test')).images.subarray(0, 64 * 784);
    writeFileSync(join(dir, 'images.bin'), images);
    ({ server, url } = await serveDir(dir, undefined, ISOLATION));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cand = (build: Candidate['build']): Candidate => ({ runtime: 'edgeq', model: 'model.edgeq', build, shape: [28, 28] });

  it("scores every build's 64 images as Node does, bit for bit, then times them", async () => {
    chromium.require();
    const page = await openBenchPage(browser, url);
    const env = await page.env();
    expect(env).toEqual({ relaxed: true, crossOriginIsolated: true });
    const out = await page.load([cand('simd'), cand('scalar'), cand('relaxed')], 'images.bin');
    const m = await loadModel(readFileSync(MODEL), { build: 'simd' });
    const want64 = Array.from(m.predict(images, { batch: 64 }));
    const want1 = Array.from({ length: 64 }, (_, k) => Array.from(m.predict(images.subarray(k * 784, (k + 1) * 784)))).flat();
    m.dispose();
    const bits = (v: number[]) => Array.from(new Uint32Array(Float32Array.from(v).buffer));
    for (const o of out) {
      expect(bits(o.batch64)).toEqual(bits(want64));
      expect(bits(o.batch1)).toEqual(bits(want1));
    }
    const t = await page.time({ warmup: 2, runs1: 8, runs64: 2, rounds: 2 });
    await page.close();
    expect(t.batch1.map((s) => s.runs)).toEqual([8, 8, 8]);
    expect(t.batch64.map((s) => s.runs)).toEqual([2, 2, 2]);
    for (const s of [...t.batch1, ...t.batch64]) expect(s.median).toBeGreaterThan(0);
  });

  it('cold start: a fresh context loads edgeq.js, the model and the engine, and times the first result', async () => {
    chromium.require();
    const r = await coldStart(browser, url, cand('simd'));
    expect(r.bytesToFirstMs).toBeGreaterThan(0);
    expect(r.scriptToFirstMs).toBeGreaterThanOrEqual(r.bytesToFirstMs);
    expect(r.navigationToFirstMs).toBeGreaterThanOrEqual(r.scriptToFirstMs);
  });
});
