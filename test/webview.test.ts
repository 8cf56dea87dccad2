// The webview page in headless Chromium with phone emulation, under a CSP without
// 'unsafe-eval': draw a digit with touch-like pointer strokes, classify, check the
// answer and its heat map over the drawing; tap a sample digit and get the engine's
// answer for it.

import { mkdtempSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devices, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebview } from '../examples/build.js';
import { loadDataset } from '../src/toolchain/data/datasets.js';
import { loadModel } from '../src/runtime/node.js';
import { capability } from './helpers/capabilities.js';
import { launchChromium, serveDir } from './helpers/pages.js';

const chromium = capability('chromium');

describe.skipIf(chromium.skip)('mobile webview page', () => {
  let server: Server, browser: Browser, url: string, dir: string;
  beforeAll(async () => {
    if (!chromium.available) return; // (on CI) each test fails with the reason: chromium.require()
    dir = mkdtempSync(join(tmpdir(), 'edgeq-webview-'));
    await buildWebview(dir);
    ({ server, url } = await serveDir(dir, "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('a drawn 1 is classified as 1, and a tapped sample gets the engine\'s answer', async () => {
    chromium.require();
    const context = await browser.newContext({ ...devices['Pixel 7'] });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(url);
    await page.waitForSelector('#samples img');
    const box = (await page.locator('#pad').boundingBox())!;
    // a vertical stroke: "1"
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await page.mouse.down();
    for (let i = 1; i <= 20; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.15 + 0.7 * i / 20));
    await page.mouse.up();
    await page.click('#classify');
    await page.waitForSelector('#top li');
    const first = await page.locator('#top li').first().getAttribute('data-index');
    expect(first).toBe('1');
    const kb = (readFileSync(new URL('../models/cnn-mnist.edgeq', import.meta.url)).length / 1024).toFixed(1);
    await expect(page.locator('#time').textContent()).resolves.toMatch(new RegExp(`ms \\(simd build, ${kb.replace('.', '\\.')} KB model\\)`));

    // the explanation: a heat map appears, and it points where the drawing is. Patches of
    // background are black like the baseline, so switching them off changes nothing: a
    // map that reads the drawing puts its mass on the stroke's patches (measured: 80 %
    // inside the box below; the rest is LIME's sampling noise on patches that do
    // nothing); a uniform map would put about a third there, a shifted one less.
    await page.waitForSelector('#heat', { state: 'visible' });
    const { map, drawn } = await page.evaluate(async () => {
      const w = window as unknown as { edgeqExplanation: () => Promise<{ map: Float32Array }>; edgeqPixels: () => Uint8Array };
      return { map: Array.from((await w.edgeqExplanation()).map), drawn: Array.from(w.edgeqPixels()) };
    });
    const ys = drawn.flatMap((v, i) => (v > 0 ? [Math.floor(i / 28)] : [])), xs = drawn.flatMap((v, i) => (v > 0 ? [i % 28] : []));
    const PATCH = 4; // explain()'s default patch for 28 × 28
    const inBox = (i: number) => {
      const y = Math.floor(i / 28), x = i % 28;
      return y >= Math.min(...ys) - PATCH && y <= Math.max(...ys) + PATCH && x >= Math.min(...xs) - PATCH && x <= Math.max(...xs) + PATCH;
    };
    const mass = map.reduce((a, v) => a + Math.abs(v), 0), inside = map.reduce((a, v, i) => a + (inBox(i) ? Math.abs(v) : 0), 0);
    const boxShare = map.filter((_, i) => inBox(i)).length / 784;
    console.log(`heat map: ${(100 * inside / mass).toFixed(1)} % of |attribution| inside the drawing's box (dilated by a patch), which is ${(100 * boxShare).toFixed(0)} % of the image`);
    expect(mass).toBeGreaterThan(0);
    expect(boxShare).toBeLessThan(0.5);
    expect(inside / mass).toBeGreaterThanOrEqual(0.7);
    // drawn on the page: some pixel of the heat canvas is red (supports the class)
    const red = await page.evaluate(() => {
      const c = document.getElementById('heat') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] < 120 && d[i + 2] < 120) n++;
      return n;
    });
    expect(red).toBeGreaterThan(0);
    await expect(page.locator('#why-text').textContent()).resolves.toMatch(/^Why 1: LIME, 1,000 samples in \d+ ms/);

    await page.locator('#samples img').nth(3).click();
    await page.waitForFunction(() => document.querySelectorAll('#top li').length === 3);
    const tapped = Number(await page.locator('#top li').first().getAttribute('data-index'));
    const digit = (await loadDataset('mnist', 'test')).images.subarray(3 * 784, 4 * 784);
    const m = await loadModel(readFileSync(join(dir, 'cnn-mnist.edgeq')));
    expect(tapped).toBe(m.classify(digit, 1)[0].index);
    m.dispose();
    expect(page.viewportSize()!.width).toBeLessThan(500);
    expect(errors).toEqual([]);
    await context.close();
  });
});
