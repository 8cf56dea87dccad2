// The webview page in headless Chromium with phone emulation, under a CSP without
// 'unsafe-eval': draw a digit with touch-like pointer strokes, classify, check the
// answer; tap a sample digit and get the engine's answer for it.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { chromium, devices, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebview } from '../examples/build.js';
import { loadDataset } from '../src/data/datasets.js';
import { loadModel } from '../src/node.js';

const CHROMIUM = '/usr/bin/chromium';
const have = existsSync(CHROMIUM);
if (!have && !process.env.CI) console.warn(`\n*** SKIPPED webview: ${CHROMIUM} not installed (apt-get install chromium) ***\n`);

describe.skipIf(!have && !process.env.CI)('mobile webview page', () => {
  let server: Server, browser: Browser, url: string, dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgeq-webview-'));
    await buildWebview(dir);
    const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
    server = createServer((req, res) => {
      if (req.url === '/favicon.ico') { res.statusCode = 204; res.end(); return; }
      const file = join(dir, (req.url ?? '/').split('?')[0].replace(/^\/$/, '/index.html'));
      if (!file.startsWith(dir) || !existsSync(file)) { res.statusCode = 404; res.end(); return; }
      res.setHeader('content-type', types[extname(file)] ?? 'application/octet-stream');
      res.setHeader('content-security-policy', "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
      res.end(readFileSync(file));
    }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('a drawn 1 is classified as 1, and a tapped sample gets the engine\'s answer', async () => {
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
    await expect(page.locator('#time').textContent()).resolves.toMatch(/ms \(simd build, 18\.6 KB model\)/);

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
