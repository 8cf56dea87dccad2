// The Worker example in the real workerd runtime (miniflare on 127.0.0.1), with the
// engine imported as a compiled module as in production, where WebAssembly.compile and
// instantiate(bytes) are refused.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorker } from '../examples/worker/build.js';
import { loadDataset } from '../src/toolchain/data/datasets.js';
import { explain, loadModel } from '../src/runtime/node.js';

const PREDICT = 'http://localhost/v1/models/cnn-mnist:predict';
const RAW = { 'content-type': 'application/octet-stream' };
const top = (y: Float32Array, i: number) => { const r = Array.from(y.subarray(i * 10, i * 10 + 10)); return r.indexOf(Math.max(...r)); };

describe('Cloudflare Worker (workerd)', () => {
  let mf: Miniflare, digits: Uint8Array, want: Float32Array;
  beforeAll(async () => {
    const script = await buildWorker();
    mf = new Miniflare({
      modules: true, scriptPath: relative(process.cwd(), script), compatibilityDate: '2025-01-01',
      modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }, { type: 'Data', include: ['**/*.edgeq'] }],
    });
    digits = (await loadDataset('mnist', 'test')).images.subarray(0, 256 * 784);
    const m = await loadModel(readFileSync(new URL('../models/cnn-mnist.edgeq', import.meta.url)), { build: 'simd' });
    want = m.predict(digits.subarray(0, 64 * 784), { batch: 64 });
    m.dispose();
  }, 120_000);
  afterAll(async () => { await mf?.dispose(); });


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
    // JSON numbers are the values the source model takes: pixels / 255 for this one
    const viaJson = await (await mf.dispatchFetch(PREDICT, { method: 'POST', body: JSON.stringify(Array.from(digits.subarray(0, 784), (p) => p / 255)), headers: { 'content-type': 'application/json' } })).json() as { top: { index: number }[][] };
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

  it(':explain gives explain()\'s attributions as in Node, bit for bit, and refuses more than one input', async () => {
    const EXPLAIN = 'http://localhost/v1/models/cnn-mnist:explain';
    const digit = Array.from(digits.subarray(0, 784), (p) => p / 255);
    const options = { method: 'lime', samples: 200, seed: 3 } as const;
    const r = await mf.dispatchFetch(EXPLAIN, { method: 'POST', body: JSON.stringify({ instances: [digit], options }), headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(200);
    const body = await r.json() as { target: number; attributions: number[]; samples: number };
    const m = await loadModel(readFileSync(new URL('../models/cnn-mnist.edgeq', import.meta.url)), { build: 'simd' });
    const local = explain(m, Float32Array.from(digit), options);
    m.dispose();
    expect(body.target).toBe(top(want, 0));
    expect(body.target).toBe(local.target);
    expect(body.samples).toBe(local.samples);
    expect(body.attributions.map(Math.fround)).toEqual(Array.from(local.attributions));
    const two = await mf.dispatchFetch(EXPLAIN, { method: 'POST', body: digits.slice(0, 2 * 784), headers: RAW });
    expect(two.status).toBe(413); // the protocol's answer to more inputs than a request may hold (here 1)
  });

  // relaxed: workerd validates relaxed SIMD, Node 20 does not without a flag, so the
  // answer is the SIMD build's (test/relaxed.test.ts: the builds agree bit for bit)
  for (const build of ['simd', 'scalar', 'relaxed'] as const) {
    it(`${build} build: the same probabilities as Node, bit for bit`, async () => {
      const m = await loadModel(readFileSync(new URL('../models/cnn-mnist.edgeq', import.meta.url)), { build: build === 'relaxed' ? 'simd' : build });
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

describe('the Worker with a user\'s own model', () => {
  it('a Keras model converted from .npy calibration: JSON floats (what TF.js takes) agree ≥ 99 % top-1 with TF.js on 256 digits; raw bytes refused', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { main } = await import('../src/runtime/cli/main.js');
    const { loadLayersModelFile } = await import('../src/toolchain/convert/load.js');
    const { npy } = await import('./helpers/npy.js');
    const dir = mkdtempSync(join(tmpdir(), 'edgeq-worker-'));
    const keras = new URL('./fixtures/keras-mnist-cnn/model.json', import.meta.url).pathname;
    const train = await loadDataset('mnist', 'train'), test = await loadDataset('mnist', 'test');
    writeFileSync(join(dir, 'cal.npy'), npy('<f4', [200, 28, 28, 1], Float32Array.from(train.images.subarray(0, 200 * 784), (p) => p / 255)));
    let err = '';
    const code = await main(['convert', keras, '--out', join(dir, 'digits.edgeq'), '--calibration', join(dir, 'cal.npy'), '--name', 'keras-digits'], { out: () => {}, err: (s) => { err += s; } });
    expect(code, err).toBe(0);
    // beside the example's own build (workerd resolves the modules relative to the working folder)
    const script = await buildWorker(new URL('../examples/worker/dist/user-model/', import.meta.url).pathname, join(dir, 'digits.edgeq'));
    const mf = new Miniflare({
      modules: true, scriptPath: relative(process.cwd(), script), compatibilityDate: '2025-01-01',
      modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }, { type: 'Data', include: ['**/*.edgeq'] }],
    });
    try {
      await tf.setBackend('cpu');
      const { model } = await loadLayersModelFile(keras);
      const n = 256, floats = Float32Array.from(test.images.subarray(0, n * 784), (p) => p / 255);
      const source = (model.predict(tf.tensor(floats, [n, 28, 28, 1])) as import('@tensorflow/tfjs').Tensor).dataSync() as Float32Array;
      model.dispose();
      const url = 'http://localhost/v1/models/keras-digits:predict';
      let same = 0;
      for (let at = 0; at < n; at += 64) {
        const part = floats.subarray(at * 784, (at + 64) * 784);
        const r = await mf.dispatchFetch(url, { method: 'POST', body: JSON.stringify({ instances: Array.from({ length: 64 }, (_, i) => Array.from(part.subarray(i * 784, (i + 1) * 784))) }), headers: { 'content-type': 'application/json' } });
        expect(r.status).toBe(200);
        const body = await r.json() as { top: { index: number }[][] };
        body.top.forEach((t, i) => { if (t[0].index === top(source, at + i)) same++; });
      }
      console.log(`Worker with a Keras model converted from .npy, JSON floats: top-1 agreement with TF.js ${same}/${n}`);
      expect(same / n).toBeGreaterThanOrEqual(0.99);
      const raw = await mf.dispatchFetch(url, { method: 'POST', body: test.images.slice(0, 784), headers: RAW });
      expect(raw.status).toBe(400);
      expect(((await raw.json()) as { error: string }).error).toMatch(/no pixel rule/);
    } finally {
      await mf.dispose();
    }
  }, 120_000);
});
