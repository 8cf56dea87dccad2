// The webview page in headless Chromium with phone emulation, under a CSP without
// 'unsafe-eval': draw a digit with touch-like pointer strokes, classify, check the
// answer; tap a sample digit and get the engine's answer for it; the attribution heat
// map drawn after the answer points at the drawing.

import { mkdtempSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devices, type Browser, type BrowserContext, type Page } from 'playwright-core';
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

  // The page on an emulated phone, its errors collected, once the sample digits are in.
  async function openPage(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ ...devices['Pixel 7'] });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(url);
    await page.waitForSelector('#samples img');
    return { context, page, errors };
  }

  // A straight pointer stroke on the pad from `from` to `to` (fractions of its size).
  async function stroke(page: Page, from: [number, number], to: [number, number], steps: number): Promise<void> {
    const box = (await page.locator('#pad').boundingBox())!;
    const at = (t: number) => [box.x + box.width * (from[0] + (to[0] - from[0]) * t), box.y + box.height * (from[1] + (to[1] - from[1]) * t)] as const;
    await page.mouse.move(...at(0));
    await page.mouse.down();
    for (let i = 1; i <= steps; i++) await page.mouse.move(...at(i / steps));
    await page.mouse.up();
  }

  it('a drawn 1 is classified as 1, and a tapped sample gets the engine\'s answer', async () => {
    chromium.require();
    const { context, page, errors } = await openPage();
    // a vertical stroke: "1"
    await stroke(page, [0.5, 0.15], [0.5, 0.85], 20);
    await page.click('#classify');
    await page.waitForSelector('#top li');
    const first = await page.locator('#top li').first().getAttribute('data-index');
    expect(first).toBe('1');
    const kb = (readFileSync(new URL('../models/cnn-mnist.edgeq', import.meta.url)).length / 1024).toFixed(1);
    await expect(page.locator('#time').textContent()).resolves.toMatch(new RegExp(`ms \\(simd build, ${kb.replace('.', '\\.')} KB model\\)`));

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

  it('after the answer, a heat map whose positive attribution lies on the drawing', async () => {
    chromium.require();
    const { context, page, errors } = await openPage();
    // a short, steep stroke in the pad's top-right quarter: off the centre (where a map
    // that ignores the drawing might sit) and not symmetric under x ↔ y (a swapped map
    // or canvas would miss it)
    await stroke(page, [0.65, 0.08], [0.75, 0.43], 10);
    type Hooks = { edgeqClassify(i: Uint8Array): Promise<{ index: number }[]>; edgeqPixels(): Uint8Array; edgeqExplain(i: Uint8Array, t: number): Promise<{ map: number[]; ms: number }> };
    // the top 3 comes first: when classify returns the heat map is not drawn yet
    const first = await page.evaluate(async () => {
      const w = window as unknown as Hooks;
      const top = await w.edgeqClassify(w.edgeqPixels());
      return { target: top[0].index, heatHidden: (document.getElementById('heat') as HTMLCanvasElement).hidden };
    });
    expect(first.heatHidden).toBe(true);
    await page.waitForSelector('#heat', { state: 'visible' });
    await expect(page.locator('#explain-time').textContent()).resolves.toMatch(/in [\d.]+ ms \(occlusion/);
    const heatBox = (await page.locator('#heat').boundingBox())!;
    expect(heatBox.width).toBeGreaterThan(50);
    // the drawn map's red pixels (positive attribution), by their 28×28 cell
    const red = await page.evaluate(() => {
      const c = document.getElementById('heat') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const cells: number[] = [];
      for (let i = 0; i < d.length; i += 4) if (d[i] > d[i + 2] + 60) cells.push(Math.floor((i / 4 / c.width) * 28 / c.height) * 28 + Math.floor(((i / 4) % c.width) * 28 / c.width));
      return cells;
    });
    expect(red.length).toBeGreaterThan(100);

    const { input, map, ms } = await page.evaluate(async (target) => {
      const w = window as unknown as Hooks;
      const input = w.edgeqPixels();
      return { input: Array.from(input), ...(await w.edgeqExplain(input, target)) };
    }, first.target);
    // the drawn pixels' bounding box, dilated by the occlusion patch (4)
    let x0 = 28, y0 = 28, x1 = -1, y1 = -1;
    input.forEach((v, i) => { if (v > 0) { const x = i % 28, y = Math.floor(i / 28); x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); } });
    const inBox = (x: number, y: number) => x >= x0 - 4 && x <= x1 + 4 && y >= y0 - 4 && y <= y1 + 4;
    const share = (m: number[]) => {
      let all = 0, inside = 0;
      m.forEach((v, i) => { if (v > 0) { all += v; if (inBox(i % 28, Math.floor(i / 28))) inside += v; } });
      return inside / all;
    };
    const area = input.filter((_, i) => inBox(i % 28, Math.floor(i / 28))).length / 784;
    // the same map moved to the opposite corner: what a map that ignores the drawing could be
    const shifted = map.map((_, i) => { const x = 27 - (i % 28), y = 27 - Math.floor(i / 28); return map[y * 28 + x]; });
    const swapped = map.map((_, i) => map[(i % 28) * 28 + Math.floor(i / 28)]);
    const redInside = red.filter((c) => inBox(c % 28, Math.floor(c / 28))).length / red.length;
    console.log(`webview explain: ${ms.toFixed(1)} ms, positive mass in the stroke's box ${(100 * share(map)).toFixed(1)} % (box ${(100 * area).toFixed(1)} % of the pad; mirrored map ${(100 * share(shifted)).toFixed(1)} %, x ↔ y ${(100 * share(swapped)).toFixed(1)} %), red canvas pixels inside ${(100 * redInside).toFixed(1)} %`);
    // occlusion with the black baseline gives blank pad far from the ink no attribution,
    // so ≥ 90 % holds with margin; a uniform map would put `area` (< 40 %) inside, and
    // the controls below show the bound fails for maps that miss the stroke
    expect(area).toBeLessThan(0.4);
    expect(share(map)).toBeGreaterThanOrEqual(0.9);
    expect(share(shifted)).toBeLessThan(0.9);
    expect(share(swapped)).toBeLessThan(0.9);
    expect(redInside).toBeGreaterThanOrEqual(0.9);
    expect(errors).toEqual([]);
    await context.close();
  });
});
