// Training in a real browser on navigator.gpu: the example page, built with esbuild,
// served on 127.0.0.1, driven in headless Chromium. Without a GPU, Chromium's bundled
// SwiftShader gives WebGPU an adapter (--enable-unsafe-webgpu).

import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTrainBrowser } from '../examples/build.js';
import { capability } from './helpers/capabilities.js';
import { launchChromium, serveDir } from './helpers/pages.js';

// Chromium brings its own SwiftShader for navigator.gpu; the test fails (never skips)
// when the page gets no WebGPU adapter.
const chromium = capability('chromium');

describe.skipIf(chromium.skip)('training in a browser', () => {
  let server: Server, browser: Browser, url: string;
  beforeAll(async () => {
    if (!chromium.available) return; // (on CI) each test fails with the reason: chromium.require()
    const dir = mkdtempSync(join(tmpdir(), 'edgeq-page-'));
    await buildTrainBrowser(dir);
    ({ server, url } = await serveDir(dir));
    browser = await launchChromium(['--enable-unsafe-webgpu']);
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('the reference CNN trains on navigator.gpu and its loss goes down', async () => {
    chromium.require();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    const r = await page.evaluate(async () => {
      const w = window as unknown as { edgeqTrain: (o: object) => Promise<{ backend: string; adapter?: string; batchLosses: number[]; history: unknown[]; weights: ArrayBuffer }> };
      const res = await w.edgeqTrain({ arch: 'cnn', subset: 32, testSubset: 32, epochs: 4, batch: 32, seed: 7, backend: 'webgpu' });
      return { backend: res.backend, adapter: res.adapter, losses: res.batchLosses, epochs: res.history.length, weightBytes: res.weights.byteLength };
    });
    console.log(`browser training: ${r.backend} on ${r.adapter}; losses ${r.losses.map((l) => l.toFixed(4)).join(', ')}`);
    expect(errors).toEqual([]);
    expect(r.backend).toBe('webgpu');
    expect(r.epochs).toBe(4);
    expect(r.losses).toHaveLength(4);
    expect(r.losses[3]).toBeLessThan(r.losses[0]);
    expect(r.weightBytes).toBe(93_322 * 4);
    await page.close();
  });
});
