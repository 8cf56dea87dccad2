// The browser benchmark's site and its driving from Node, shared by bench/browser.ts and
// test/browser-bench.test.ts: the pages and runtime bundles in one directory, served on
// 127.0.0.1 to Debian's Chromium through playwright-core (test/helpers/pages.ts).

import * as esbuild from 'esbuild';
import { copyFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildBundles } from '../../src/toolchain/bundle.js';
import type { ColdResult } from './cold.js';
import type { PageBench } from './page.js';
import type { Candidate } from './runtimes.js';

const here = dirname(new URL(import.meta.url).pathname);
const require = createRequire(import.meta.url);

// edgeq.js and its engines as shipped (buildBundles), the pages, and with `others` TF.js
// and ONNX Runtime Web with their .wasm files.
export async function buildSite(dir: string, { others }: { others: boolean }): Promise<void> {
  await buildBundles(dir);
  const common = { bundle: true, format: 'esm' as const, platform: 'browser' as const, target: 'es2022', minify: true, logLevel: 'error' as const, outdir: dir };
  await esbuild.build({ ...common, entryPoints: [join(here, 'page.ts'), join(here, 'cold.ts')] });
  if (others) {
    await esbuild.build({ ...common, entryPoints: [join(here, 'tfjs.ts'), join(here, 'ort.ts')] });
    copyFileSync(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist', 'tfjs-backend-wasm-simd.wasm'), join(dir, 'tfjs-backend-wasm-simd.wasm'));
    copyFileSync(join(dirname(require.resolve('onnxruntime-web')), 'ort-wasm-simd-threaded.wasm'), join(dir, 'ort-wasm-simd-threaded.wasm'));
  }
  const html = (script: string) => `<!doctype html><meta charset="utf-8"><title>edgeq browser bench</title><script type="module" src="${script}"></script>`;
  writeFileSync(join(dir, 'index.html'), html('page.js'));
  writeFileSync(join(dir, 'cold.html'), html('cold.js'));
}

// Cross-origin isolation, so that performance.now() resolves 5 µs, not 100 µs (Chromium
// coarsens it otherwise): the batch-1 calls take tens of µs.
export const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

// A page's uncaught errors and console errors fail the run that saw them.
function watch(page: Page): () => void {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return () => { if (errors.length) throw new Error(`the page reported: ${errors.join('; ')}`); };
}

export interface BenchPage {
  env(): Promise<ReturnType<PageBench['env']>>;
  load(candidates: Candidate[], images: string): ReturnType<PageBench['load']>;
  time(T: Parameters<PageBench['time']>[0]): ReturnType<PageBench['time']>;
  close(): Promise<void>;
}

export async function openBenchPage(browser: Browser, url: string): Promise<BenchPage> {
  const page = await browser.newPage();
  const check = watch(page);
  await page.goto(`${url}index.html`);
  await page.waitForFunction('globalThis.edgeqBench');
  const call = async <T>(fn: string, ...args: unknown[]): Promise<T> => {
    const r = await page.evaluate(([f, a]) => (globalThis as unknown as { edgeqBench: Record<string, (...x: unknown[]) => unknown> }).edgeqBench[f as string](...(a as unknown[])), [fn, args] as const);
    check();
    return r as T;
  };
  return {
    env: () => call('env'),
    load: (candidates, images) => call('load', candidates, images),
    time: (T) => call('time', T),
    close: () => page.close(),
  };
}

// One cold start: a new browser context (its own, empty caches) and page.
export async function coldStart(browser: Browser, url: string, c: Candidate): Promise<ColdResult> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const check = watch(page);
    await page.goto(`${url}cold.html#${encodeURIComponent(JSON.stringify(c))}`);
    const r = await (await page.waitForFunction('globalThis.coldResult', undefined, { timeout: 60_000 })).jsonValue() as ColdResult | { error: string };
    check();
    if ('error' in r) throw new Error(`cold start of ${JSON.stringify(c)}: ${r.error}`);
    return r;
  } finally {
    await context.close();
  }
}
