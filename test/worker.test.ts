// The Worker example in the real workerd runtime (miniflare on 127.0.0.1), with the
// engine imported as a compiled module as in production, where WebAssembly.compile and
// instantiate(bytes) are refused.

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorker } from '../examples/worker/build.js';
import { loadDataset } from '../src/toolchain/data/datasets.js';
import { loadModel } from '../src/runtime/node.js';

const PREDICT = 'http://localhost/v1/models/cnn-mnist:predict';
const RAW = { 'content-type': 'application/octet-stream' };

describe('Cloudflare Worker (workerd)', () => {
  let mf: Miniflare, digits: Uint8Array, want: Float32Array;
  beforeAll(async () => {
    const script = await buildWorker();
    mf = new Miniflare({
      modules: true, scriptPath: relative(process.cwd(), script), compatibilityDate: '2025-01-01',
      modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }, { type: 'Data', include: ['**/*.edgeq'] }],
    });
    digits = (await loadDataset('mnist', 'test')).images.subarray(0, 64 * 784);
    const m = await loadModel(readFileSync(new URL('../models/cnn-mnist.edgeq', import.meta.url)), { build: 'simd' });
    want = m.predict(digits, { batch: 64 });
    m.dispose();
  }, 120_000);
  afterAll(async () => { await mf?.dispose(); });

  const top = (y: Float32Array, i: number) => { const r = Array.from(y.subarray(i * 10, i * 10 + 10)); return r.indexOf(Math.max(...r)); };

  it('serves /health and correct predictions, and answers bad requests with 400', async () => {
    const health = await (await mf.dispatchFetch('http://localhost/health')).json() as { status: string; build: string };
    expect(health).toMatchObject({ status: 'ok', build: 'simd' });
    const res = await mf.dispatchFetch(PREDICT, { method: 'POST', body: digits.slice(0, 3 * 784), headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(200);
    const body = await res.json() as { top: { index: number; score: number }[][] };
    for (let i = 0; i < 3; i++) {
      expect(body.top[i][0].index).toBe(top(want, i));
      expect(Math.fround(body.top[i][0].score)).toBe(want[i * 10 + top(want, i)]);
    }
    const viaJson = await (await mf.dispatchFetch(PREDICT, { method: 'POST', body: JSON.stringify(Array.from(digits.subarray(0, 784))), headers: { 'content-type': 'application/json' } })).json() as { top: { index: number }[][] };
    expect(viaJson.top[0][0].index).toBe(top(want, 0));
    for (const [init, message] of [
      [{ method: 'POST', body: new Uint8Array(10), headers: { 'content-type': 'application/octet-stream' } }, /multiple of 784/],
      [{ method: 'POST', body: '{"inst', headers: { 'content-type': 'application/json' } }, /not JSON/],
      [{ method: 'POST', body: '[1,2,3]', headers: { 'content-type': 'application/json' } }, /has 3 values; the model takes \[28, 28, 1\] = 784/],
    ] as const) {
      const r = await mf.dispatchFetch(PREDICT, init as never);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(message);
    }
  });

  for (const build of ['simd', 'scalar'] as const) {
    it(`${build} build: the same probabilities as Node, bit for bit`, async () => {
      const m = await loadModel(readFileSync(new URL('../models/cnn-mnist.edgeq', import.meta.url)), { build });
      const expected = m.predict(digits.subarray(0, 16 * 784), { batch: 16 });
      m.dispose();
      const r = await mf.dispatchFetch(`${PREDICT}?build=${build}`, { method: 'POST', body: digits.slice(0, 16 * 784), headers: RAW });
      const health = await (await mf.dispatchFetch(`http://localhost/health?build=${build}`)).json() as { build: string };
      expect(health.build).toBe(build);
      expect(((await r.json()) as { predictions: number[][] }).predictions.flat().map(Math.fround)).toEqual(Array.from(expected));
    });
  }

  it('1,000 requests with 50 in flight all succeed', async () => {
    let next = 0, ok = 0;
    const worker = async () => {
      while (next < 1000) {
        const i = next++ % 64;
        const r = await mf.dispatchFetch(PREDICT, { method: 'POST', body: digits.slice(i * 784, (i + 1) * 784), headers: RAW });
        expect(r.status).toBe(200);
        expect(((await r.json()) as { top: { index: number }[][] }).top[0][0].index).toBe(top(want, i));
        ok++;
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    expect(ok).toBe(1000);
  });
});
