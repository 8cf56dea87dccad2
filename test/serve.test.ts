// The gateway server under bounded load on 127.0.0.1: 2,000 requests, 64 in flight,
// mixed with malformed ones. Every valid request gets exactly the engine's answer, every
// bad one a 4xx with a message, and the process neither crashes nor grows.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../src/toolchain/data/datasets.js';
import { loadModel, type Model } from '../src/runtime/node.js';
import { EngineError, InputError } from '../src/runtime/errors.js';
import { explain } from '../src/runtime/explain.js';
import { errorStatus } from '../src/runtime/protocol.js';
import { InferenceServer, type ServeOptions } from '../src/runtime/serve.js';

const MODEL = new URL('../models/cnn-mnist.edgeq', import.meta.url);

describe('edgeq serve', () => {
  let server: InferenceServer, base: string, reference: Model, digits: Uint8Array;
  beforeAll(async () => {
    const models = new Map([['digits', await loadModel(readFileSync(MODEL))]]);
    server = new InferenceServer(models, { port: 0, maxBodyBytes: 64 * 1024 });
    const a = await server.listen();
    base = `http://127.0.0.1:${a.port}`;
    reference = await loadModel(readFileSync(MODEL));
    digits = (await loadDataset('mnist', 'test')).images.subarray(0, 50 * 784);
  });
  afterAll(async () => {
    await server.close();
    reference.dispose();
  });

  it('answers 2,000 requests with 64 in flight, malformed ones mixed in', async () => {
    const bad: [RequestInit & { path?: string }, number, RegExp][] = [
      [{ method: 'POST', body: '{"instances": [[1,2,3]]}', headers: { 'content-type': 'application/json' } }, 400, /instance 0 has 3 values; the model takes \[28, 28, 1\] = 784/],
      [{ method: 'POST', body: '{"instan', headers: { 'content-type': 'application/json' } }, 400, /not JSON/],
      [{ method: 'POST', body: new Uint8Array(100), headers: { 'content-type': 'application/octet-stream' } }, 400, /multiple of 784/],
      [{ method: 'POST', body: new Uint8Array(70 * 1024), headers: { 'content-type': 'application/octet-stream' } }, 413, /limit/],
      [{ method: 'POST', path: '/v1/models/nope:predict', body: '[]' }, 404, /no model 'nope': this server has digits/],
      [{ method: 'GET' }, 405, /predict takes POST/],
      [{ method: 'POST', path: '/v2/whatever', body: '' }, 404, /no route/],
    ];
    const rssBefore = process.memoryUsage().rss;
    let next = 0, ok = 0, rejected = 0;
    const worker = async () => {
      while (next < 2000) {
        const i = next++;
        if (i % 10 === 9) {
          const [init, status, message] = bad[(i / 10) % bad.length | 0];
          const res = await fetch(`${base}${init.path ?? '/v1/models/digits:predict'}`, init);
          expect(res.status).toBe(status);
          expect((await res.json()).error).toMatch(message);
          rejected++;
          continue;
        }
        const k = i % 50, n = 1 + (i % 3);
        const items = Array.from({ length: n }, (_, j) => (k + j) % 50);
        const raw = i % 2 === 0;
        const pixels = new Uint8Array(n * 784);
        items.forEach((d, j) => pixels.set(digits.subarray(d * 784, (d + 1) * 784), j * 784));
        const res = await fetch(`${base}/v1/models/digits:predict`, raw
          ? { method: 'POST', body: pixels, headers: { 'content-type': 'application/octet-stream' } }
          : { method: 'POST', body: JSON.stringify({ instances: items.map((d) => Array.from(digits.subarray(d * 784, (d + 1) * 784), (p) => p / 255)) }), headers: { 'content-type': 'application/json' } });
        expect(res.status).toBe(200);
        const body = await res.json() as { predictions: number[][]; top: { index: number }[][] };
        // raw bytes are pixels (the model's pixel rule scales them); JSON numbers are the
        // values the source model takes (pixels / 255 for this one)
        const want = reference.predict(raw ? pixels : Float32Array.from(pixels, (p) => p / 255), { batch: n });
        expect(body.predictions.flat().map(Math.fround)).toEqual(Array.from(want));
        expect(body.top[0][0].index).toBe(Array.from(want.subarray(0, 10)).indexOf(Math.max(...want.subarray(0, 10))));
        ok++;
      }
    };
    const t = performance.now();
    await Promise.all(Array.from({ length: 64 }, worker));
    const seconds = (performance.now() - t) / 1000;
    const metrics = await (await fetch(`${base}/metrics`)).json();
    const health = await (await fetch(`${base}/health`)).json();
    console.log(`serve: ${ok} answered, ${rejected} rejected in ${seconds.toFixed(1)} s; ${metrics.batches.digits} engine batches; p50 ${metrics.latencyMs.p50.toFixed(2)} ms, p99 ${metrics.latencyMs.p99.toFixed(2)} ms; rss +${((process.memoryUsage().rss - rssBefore) / 1048576).toFixed(1)} MiB`);
    expect(ok + rejected).toBe(2000);
    expect(rejected).toBe(200);
    expect(health).toEqual({ status: 'ok', models: ['digits'] });
    expect(metrics.requests).toBeGreaterThanOrEqual(2001);
    expect(metrics.errors).toBe(200);
    expect(metrics.batches.digits).toBeLessThan(ok); // requests were batched together
    // a second round on a warm server: the process does not keep growing
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const warm = process.memoryUsage();
    next = 0;
    ok = 0;
    rejected = 0;
    await Promise.all(Array.from({ length: 64 }, worker));
    gc?.();
    const after = process.memoryUsage();
    const heap = after.heapUsed - warm.heapUsed, rss = after.rss - warm.rss;
    // client and server share this process: the JS heap is the server's state plus
    // the client's; the rss also holds the allocator's retained pages
    console.log(`serve: second round of 2,000 requests: heap ${(heap / 1048576).toFixed(1)} MiB, rss ${(rss / 1048576).toFixed(1)} MiB`);
    expect(ok + rejected).toBe(2000);
    expect(heap).toBeLessThan(8 * 1048576);
    expect(rss).toBeLessThan(64 * 1048576);
  });

  it(':explain answers explain() on one input, with its options; bad ones are 400s', async () => {
    const values = Array.from(digits.subarray(0, 784), (p) => p / 255);
    const options = { method: 'lime', samples: 200, patch: 7, seed: 3 } as const;
    const post = (body: unknown) => fetch(`${base}/v1/models/digits:explain`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const res = await post({ instances: [values], options });
    expect(res.status).toBe(200);
    const got = await res.json();
    const want = explain(reference, Float32Array.from(values), options);
    expect(got).toMatchObject({ model: 'digits', method: 'lime', target: want.target, samples: 202, shape: [28, 28, 1], settings: { patch: 7, seed: 3, kernelWidth: 0.25 } });
    expect(got.baseScore).toBe(want.baseScore);
    expect(Float32Array.from(got.attributions)).toEqual(want.attributions);
    expect(got.segmentWeights).toHaveLength(16);
    // raw pixels: the default options (lime, 1,000 samples)
    const raw = await fetch(`${base}/v1/models/digits:explain`, { method: 'POST', body: digits.slice(0, 784), headers: { 'content-type': 'application/octet-stream' } });
    expect((await raw.json()).samples).toBe(1002);
    for (const [body, status, message] of [
      [{ instances: [values], options: { method: 'gradcam' } }, 400, /method must be 'occlusion', 'lime' or 'shap'/],
      [{ instances: [values], options: { sample: 10 } }, 400, /unknown explain option sample/],
      [{ instances: [values, values] }, 413, /at most 1 instances/],
    ] as const) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body).slice(-60)).toBe(status);
      expect((await r.json()).error).toMatch(message);
    }
    expect((await fetch(`${base}/v1/models/digits:explain`)).status).toBe(405);
  });

  it('the command exits 0 on SIGTERM after serving', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/cli/edgeq.ts', 'serve', new URL(MODEL).pathname, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('http://')) resolve(d.toString()); });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const url = /http:\/\/[\d.]+:\d+/.exec(line)![0];
    expect((await (await fetch(`${url}/health`)).json()).models).toEqual(['cnn-mnist']);
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  describe('engine threads and overload', () => {
    const bytes = readFileSync(MODEL);
    // a server with engine threads for one test, closed after it whatever happens
    const threaded = async (options: ServeOptions, test: (base: string, server: InferenceServer) => Promise<void>) => {
      const server = new InferenceServer(new Map([['digits', await loadModel(bytes)]]), { port: 0, sources: new Map([['digits', bytes]]), ...options });
      try {
        await test(`http://127.0.0.1:${(await server.listen()).port}`, server);
      } finally {
        await server.close();
      }
    };
    const post = (base: string, pixels: Uint8Array) => fetch(`${base}/v1/models/digits:predict`, { method: 'POST', body: pixels as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/octet-stream' } });

    it('--threads 2: 400 requests, 32 in flight, each the engine\'s answer', async () => {
      await threaded({ threads: 2 }, async (base) => {
        let next = 0;
        await Promise.all(Array.from({ length: 32 }, async () => {
          while (next < 400) {
            const i = next++, n = 1 + (i % 4);
            const pixels = digits.slice((i % 40) * 784, (i % 40 + n) * 784);
            const res = await post(base, pixels);
            expect(res.status).toBe(200);
            expect((await res.json() as { predictions: number[][] }).predictions.flat().map(Math.fround)).toEqual(Array.from(reference.predict(pixels, { batch: n })));
          }
        }));
        const metrics = await (await fetch(`${base}/metrics`)).json();
        expect(metrics.threads).toBe(2);
        expect(metrics.errors).toBe(0);
      });
    });

    it(':explain runs on an engine thread, never the last free one: predictions keep being answered meanwhile, and the explanation is explain()\'s', async () => {
      await threaded({ threads: 2 }, async (base) => {
        const values = Array.from(digits.subarray(784, 2 * 784), (p) => p / 255);
        const options = { method: 'lime', samples: 10000, patch: 4, seed: 5 } as const;
        let explained = false;
        const explanation = fetch(`${base}/v1/models/digits:explain`, { method: 'POST', body: JSON.stringify({ instances: [values], options }), headers: { 'content-type': 'application/json' } })
          .then(async (r) => { explained = true; return { status: r.status, body: await r.json() }; });
        // one-image predictions, one after another, while the explanation's 10,000 inferences run
        let answered = 0;
        for (let i = 0; i < 10; i++) {
          const res = await post(base, digits.slice(i * 784, (i + 1) * 784));
          expect(res.status).toBe(200);
          await res.json();
          if (!explained) answered++;
        }
        const got = await explanation;
        console.log(`serve :explain on a thread: ${answered} of 10 predictions answered before the 10,000-sample explanation`);
        expect(answered).toBe(10);
        expect(got.status).toBe(200);
        const want = explain(reference, Float32Array.from(values), options);
        expect(got.body.baseScore).toBe(want.baseScore);
        expect(Float32Array.from(got.body.attributions)).toEqual(want.attributions);
        const bad = await fetch(`${base}/v1/models/digits:explain`, { method: 'POST', body: JSON.stringify({ instances: [values], options: { method: 'gradcam' } }), headers: { 'content-type': 'application/json' } });
        expect(bad.status).toBe(400);
        expect((await bad.json()).error).toMatch(/method must be 'occlusion', 'lime' or 'shap'/);
      });
    });

    it('one thread: explanations wait in a queue of 4 (429 beyond) and take turns with predictions', async () => {
      await threaded({ threads: 1 }, async (base) => {
        const values = Array.from(digits.subarray(0, 784), (p) => p / 255);
        const done: string[] = [];
        // 7 explanations of 3,000 inferences at once: one runs, 4 wait, 2 are refused
        const explains = Array.from({ length: 7 }, (_, i) => fetch(`${base}/v1/models/digits:explain`, { method: 'POST', body: JSON.stringify({ instances: [values], options: { samples: 3000, seed: i } }), headers: { 'content-type': 'application/json' } })
          .then(async (r) => { if (r.status === 200) done.push(`explain ${i}`); return { status: r.status, retry: r.headers.get('retry-after'), body: await r.json() }; }));
        await new Promise((r) => setTimeout(r, 30));
        const res = await post(base, digits.slice(0, 784));
        expect(res.status).toBe(200);
        done.push('predict');
        const results = await Promise.all(explains);
        const statuses = results.map((r) => r.status).sort();
        console.log(`serve, one thread: 7 explanations at once: ${statuses.filter((x) => x === 200).length} answered, ${statuses.filter((x) => x === 429).length} told to retry; order ${done.join(', ')}`);
        expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
        expect(results.filter((r) => r.status === 429).every((r) => r.retry === '1' && /explanations waiting/.test(r.body.error))).toBe(true);
        // the prediction went between the first explanation and the second
        expect(done.indexOf('predict')).toBe(1);
      });
    });

    it('an engine thread that dies is replaced: requests go on being answered by the engine', async () => {
      await threaded({ threads: 2 }, async (base, server) => {
        // as if it had crashed (private: reached around TypeScript, as nothing else may)
        await (server as unknown as { exec: { workers: { terminate(): Promise<number> }[] } }).exec.workers[0].terminate();
        const metrics = async () => (await fetch(`${base}/metrics`)).json() as Promise<{ threadRestarts: number; errors: number }>;
        for (let i = 0; i < 100 && (await metrics()).threadRestarts < 1; i++) await new Promise((r) => setTimeout(r, 50));
        expect((await metrics()).threadRestarts).toBe(1);
        await Promise.all(Array.from({ length: 40 }, async (_, i) => {
          const pixels = digits.slice((i % 40) * 784, (i % 40 + 1) * 784);
          const res = await post(base, pixels);
          expect(res.status).toBe(200);
          expect((await res.json() as { predictions: number[][] }).predictions.flat().map(Math.fround)).toEqual(Array.from(reference.predict(pixels)));
        }));
        expect((await metrics()).errors).toBe(0);
      });
    });

    it('a full queue answers 429 with Retry-After, not a growing latency; the rest are answered', async () => {
      // one engine thread; each request is 32 images, a whole engine call and the whole
      // queue: while one request runs (~3 ms) and one waits, any other is refused. (With
      // one-image requests the engine kept up whenever the HTTP thread was the slower,
      // as on a loaded CI machine, and nothing was refused.)
      await threaded({ threads: 1, maxBatch: 32, maxQueue: 32, batchWaitMs: 0 }, async (base) => {
        const results = await Promise.all(Array.from({ length: 48 }, async (_, i) => {
          const res = await post(base, digits.slice((i % 18) * 784, (i % 18 + 32) * 784));
          return { status: res.status, retry: res.headers.get('retry-after'), body: await res.json() as { error?: string } };
        }));
        const busy = results.filter((r) => r.status === 429), ok = results.filter((r) => r.status === 200);
        console.log(`serve overload: 48 requests of 32 images at once against 1 thread and a queue of 32: ${ok.length} answered, ${busy.length} told to retry`);
        expect(busy.length + ok.length).toBe(48);
        expect(busy.length).toBeGreaterThan(0);
        expect(ok.length).toBeGreaterThanOrEqual(2); // the first and the one that waited
        expect(busy.every((r) => r.retry === '1' && /at capacity .* retry after a second/.test(r.body.error!))).toBe(true);
        expect((await (await fetch(`${base}/metrics`)).json()).rejected).toBe(busy.length);
      });
    });

    it('status of a failure: an engine fault is a 500, refused input a 400', () => {
      expect(errorStatus(new EngineError('E_ENGINE', 'the engine failed to run (status -3)'))).toBe(500);
      expect(errorStatus(new InputError('E_INPUT_LENGTH', 'input has 3 values'))).toBe(400);
      expect(errorStatus(new Error('anything unexpected'))).toBe(500);
    });
  });
});
