// Training in a real browser on navigator.gpu: the example page, built with esbuild,
// served on 127.0.0.1, driven in headless Chromium. Without a GPU, Chromium's bundled
// SwiftShader gives WebGPU an adapter (--enable-unsafe-webgpu).

import { existsSync, mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTrainBrowser } from '../examples/build.js';
import { CHROMIUM, launchChromium, serveDir } from './helpers/pages.js';

const have = existsSync(CHROMIUM);
if (!have) {
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  console.warn(`\n*** SKIPPED browser training: ${CHROMIUM} not installed (apt-get install chromium) ***\n`);
}

describe.skipIf(!have)('training in a browser', () => {
  let server: Server, browser: Browser, url: string;
  beforeAll(async () => {
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
