// The runtime bundles: no Node built-ins, within the size budget, and in a real
// browser (headless Chromium, under a Content-Security-Policy without 'unsafe-eval')
// they give bit-identical outputs to Node, with both engine builds.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundles, type BundleSizes } from '../src/toolchain/bundle.js';
import { loadDataset } from '../src/toolchain/data/datasets.js';
import { loadModel } from '../src/runtime/node.js';
import { capability } from './helpers/capabilities.js';
import { launchChromium, serveDir } from './helpers/pages.js';

const MODEL = new URL('../models/cnn-mnist.edgeq', import.meta.url);

describe('runtime bundles', () => {
  let dir: string, sizes: BundleSizes[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgeq-web-'));
    sizes = await buildBundles(dir);
  });

  it('import nothing from Node and stay within the size budget (engine ≤ 64 KB raw, runtime JS ≤ 20 KB gzip)', () => {
    const js = readFileSync(join(dir, 'edgeq.js'), 'utf8');
    const node = /\bnode:|\brequire\(|\bprocess\.|(?<![A-Za-z])Buffer\b/.exec(js);
    expect(node?.[0], 'a Node built-in in edgeq.js').toBeUndefined();
    const size = (f: string) => sizes.find((s) => s.file === f)!;
    console.log(sizes.map((s) => `${s.file}: ${s.raw} B raw, ${s.gzip} B gzip`).join('; '));
    expect(size('edgeq.simd.wasm').raw).toBeLessThanOrEqual(64 * 1024);
    expect(size('edgeq.scalar.wasm').raw).toBeLessThanOrEqual(64 * 1024);
    expect(size('edgeq.relaxed.wasm').raw).toBeLessThanOrEqual(64 * 1024);
    expect(size('edgeq.js').gzip).toBeLessThanOrEqual(20 * 1024);
  });

  const chromium = capability('chromium');
  describe.skipIf(chromium.skip)('in Chromium', () => {
    let server: Server, browser: Browser, url: string;
    beforeAll(async () => {
      if (!chromium.available) return; // (on CI) each test fails with the reason: chromium.require()
      writeFileSync(join(dir, 'model.edgeq'), readFileSync(MODEL));
      const test = await loadDataset('mnist', 'test');
      writeFileSync(join(dir, 'digits.bin'), test.images.subarray(0, 16 * 784));
      writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>edgeq</title><p>parity</p>');
      ({ server, url } = await serveDir(dir, "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"));
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      server?.close();
    });

    // relaxed: Chromium validates relaxed SIMD; Node 20 does not without a flag, so its
    // answer is the SIMD build's (test/relaxed.test.ts: the two builds agree bit for bit)
    for (const [bundle, build] of [['edgeq.js', 'simd'], ['edgeq.js', 'scalar'], ['edgeq.inline.js', 'simd'], ['edgeq.js', 'relaxed']] as const) {
      it(`${bundle} (${build}): the same 16 × 10 probabilities as Node, bit for bit`, async () => {
        chromium.require();
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
        await page.goto(url);
        // a string, so that the test runner does not rewrite the page's import()
        const got = await page.evaluate(`(async () => {
          const edgeq = await import('./${bundle}');
          const model = await edgeq.loadModel(await fetch('./model.edgeq'), { build: '${build}' });
          const digits = new Uint8Array(await (await fetch('./digits.bin')).arrayBuffer());
          const y = model.predict(digits, { batch: 16 });
          const out = { build: model.info.build, bits: Array.from(new Uint32Array(y.buffer)) };
          model.dispose();
          return out;
        })()`) as { build: string; bits: number[] };
        const model = await loadModel(readFileSync(MODEL), { build: build === 'relaxed' ? 'simd' : build });
        const want = model.predict(readFileSync(join(dir, 'digits.bin')), { batch: 16 });
        model.dispose();
        expect(errors).toEqual([]);
        expect(got.build).toBe(build);
        expect(got.bits).toEqual(Array.from(new Uint32Array(want.buffer)));
        await page.close();
      });
    }

    it("edgeq.inline.js refuses build 'relaxed' (it inlines simd and scalar only) with E_ENGINE_BUILD, not another build's answer", async () => {
      chromium.require();
      const page = await browser.newPage();
      await page.goto(url);
      const got = await page.evaluate(`(async () => {
        const edgeq = await import('./edgeq.inline.js');
        try { await edgeq.loadModel(await fetch('./model.edgeq'), { build: 'relaxed' }); return 'loaded'; }
        catch (e) { return e.code + ': ' + e.message; }
      })()`) as string;
      expect(got).toMatch(/^E_ENGINE_BUILD: edgeq\.inline\.js holds the simd and scalar builds only.*edgeq\.js/);
      await page.close();
    });
  });
});
