// `edgeq serve`: an offline HTTP inference server for gateways (node:http and
// node:worker_threads, nothing else). Requests to one model are batched: they queue for
// up to `batchWaitMs` or until `maxBatch` items, then run as one engine call, in this
// thread or (threads > 0) on the first free engine thread. A full queue answers 429 with
// Retry-After; an engine fault is a 500, refused input a 400.
//
//   POST /v1/models/<name>:predict   the predict protocol (src/runtime/protocol.ts)
//   POST /v1/models/<name>:explain   explain() on one input, on an engine (with --threads:
//                                    never the last free one, so that its hundreds of
//                                    inferences do not hold up predictions)
//   GET  /health                     {"status": "ok", "models": [...]}
//   GET  /metrics                    requests, errors, latency percentiles, batches

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EngineError } from './errors.js';
import { explain, type ExplainOptions, type Explanation } from './explain.js';
import { errorStatus, explainResponse, parseExplainOptions, parsePredictBody, predictResponse, PREDICT_PATH, EXPLAIN_PATH, ProtocolError } from './protocol.js';
import type { Model } from './model.js';
import type { WorkerJob, WorkerReply } from './serve-worker.js';

export interface ServeOptions {
  port?: number;
  host?: string;
  maxBodyBytes?: number; // default 4 MiB
  maxBatch?: number; // default 64
  batchWaitMs?: number; // default 2
  topK?: number; // default 3
  // engine instances in worker threads, each with every model (0: run in this thread, the
  // default of the API; `edgeq serve` defaults to one per core). Needs the models' bytes.
  threads?: number;
  sources?: Map<string, Uint8Array>;
  // items a model's queue may hold waiting for an engine; beyond it a request gets 429
  // with Retry-After instead of a latency without bound (default 16 × maxBatch)
  maxQueue?: number;
}

interface Pending { input: Float32Array | Uint8Array; items: number; resolve: (y: Float32Array) => void; reject: (e: unknown) => void }

// Where batches run: this thread (the models themselves), or a pool of worker threads.
interface Executor {
  idle(): boolean; // can take a batch now
  run(name: string, input: Float32Array | Uint8Array, items: number): Promise<Float32Array>;
  explain(name: string, input: Float32Array | Uint8Array, options: ExplainOptions): Promise<Explanation>;
  close(): Promise<void>;
}

class InThread implements Executor {
  constructor(private readonly models: Map<string, Model>) {}
  idle() { return true; }
  // (a throw inside a Promise's executor rejects it)
  run(name: string, input: Float32Array | Uint8Array, items: number) {
    return new Promise<Float32Array>((resolve) => resolve(this.models.get(name)!.predict(input, { batch: items })));
  }
  explain(name: string, input: Float32Array | Uint8Array, options: ExplainOptions) {
    return new Promise<Explanation>((resolve) => resolve(explain(this.models.get(name)!, input, options)));
  }
  async close() {}
}

// Engine instances in worker threads (serve-worker.ts): a batch goes to an idle one. An
// explanation (hundreds of inferences) runs on one too, but never on the last free one
// when there are two or more: predictions always keep an engine. It waits in a queue of
// its own, bounded by `maxExplains` (429 beyond); a thread freed by an explanation goes
// to the batches first, one freed by a batch to a waiting explanation first, so that
// with one thread the two take turns.
class WorkerPool implements Executor {
  private readonly free: Worker[] = [];
  private readonly jobs = new Map<number, { resolve: (v: never) => void; reject: (e: unknown) => void; worker: Worker; explain: boolean }>();
  private readonly explains: (() => void)[] = [];
  private readonly maxExplaining: number;
  private nextId = 0;
  private closing = false;
  replaced = 0; // threads that died and were started again
  onIdle = () => {};
  private constructor(private readonly workers: Worker[], private readonly spawn: () => Promise<Worker>, private readonly maxExplains: number) {
    this.maxExplaining = Math.max(1, workers.length - 1);
    for (const w of workers) this.adopt(w);
    this.free.push(...workers);
  }

  static async start(count: number, sources: Map<string, Uint8Array>, maxExplains: number): Promise<WorkerPool> {
    // from source (tsx, vitest) the worker is TypeScript: it registers tsx's loader first
    // (a development dependency; the package runs serve-worker.js)
    const ts = import.meta.url.endsWith('.ts');
    const file = new URL(ts ? './serve-worker.ts' : './serve-worker.js', import.meta.url);
    const tsx = ts ? pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href : '';
    const source = ts ? new URL(`data:text/javascript,import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(file.href)});`) : file;
    const spawn = () => new Promise<Worker>((resolve, reject) => {
      const w = new Worker(source, { workerData: { sources: [...sources] } });
      w.once('message', (m: WorkerReply) => ('ready' in m ? resolve(w) : reject(new EngineError('E_WORKER', `an engine thread failed to start: ${'failed' in m ? m.failed : 'no reply'}`))));
      w.once('error', reject);
    });
    return new WorkerPool(await Promise.all(Array.from({ length: count }, spawn)), spawn, maxExplains);
  }

  private adopt(w: Worker): void {
    w.on('message', (m: WorkerReply) => {
      if (!('id' in m)) return;
      const job = this.jobs.get(m.id)!;
      this.jobs.delete(m.id);
      this.free.push(job.worker);
      if ('output' in m) job.resolve(m.output as never);
      else if ('explanation' in m) job.resolve(m.explanation as never);
      else job.reject(new ProtocolError(m.status, m.message));
      if (job.explain) {
        this.onIdle();
        this.startExplains();
      } else {
        this.startExplains();
        this.onIdle();
      }
    });
    // a thread that dies (out of memory, a bug) fails its job with a 500, not a hang, and
    // another takes its place
    w.once('exit', (code) => {
      if (this.closing) return;
      this.workers.splice(this.workers.indexOf(w), 1);
      const f = this.free.indexOf(w);
      if (f >= 0) this.free.splice(f, 1);
      for (const [id, job] of this.jobs) {
        if (job.worker !== w) continue;
        this.jobs.delete(id);
        job.reject(new EngineError('E_WORKER', `an engine thread stopped (exit code ${code}) while running this request`));
      }
      void this.spawn().then((fresh) => {
        if (this.closing) { void fresh.terminate(); return; }
        this.replaced++;
        this.workers.push(fresh);
        this.free.push(fresh);
        this.adopt(fresh);
        this.startExplains();
        this.onIdle();
      }, () => {}); // it started once with these models: a failure here leaves one thread fewer
    });
  }

  idle() { return this.free.length > 0; }

  run(name: string, input: Float32Array | Uint8Array, items: number): Promise<Float32Array> {
    return new Promise((resolve, reject) => this.post({ id: this.nextId++, name, input, items }, resolve, reject));
  }

  explain(name: string, input: Float32Array | Uint8Array, options: ExplainOptions): Promise<Explanation> {
    if (this.explains.length >= this.maxExplains) {
      return Promise.reject(new ProtocolError(429, `the server is at capacity (${this.explains.length} explanations waiting): retry after a second`, { 'retry-after': '1' }));
    }
    return new Promise((resolve, reject) => {
      // a copy of its own to hand over (the parsed input may be a view of a pooled buffer)
      const copy = input.slice();
      this.explains.push(() => this.post({ id: this.nextId++, name, input: copy, explain: options }, resolve, reject));
      this.startExplains();
    });
  }

  private startExplains(): void {
    const running = () => [...this.jobs.values()].filter((j) => j.explain).length; // at most one job per thread
    while (this.explains.length && this.free.length && running() < this.maxExplaining) this.explains.shift()!();
  }

  private post(job: WorkerJob, resolve: (v: never) => void, reject: (e: unknown) => void): void {
    const worker = this.free.pop()!;
    this.jobs.set(job.id, { resolve, reject, worker, explain: 'explain' in job });
    worker.postMessage(job, [job.input.buffer as ArrayBuffer]);
  }

  async close() {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

// One model's queue: requests wait up to `waitMs` or until `maxBatch` items, then run as
// one engine call when an engine is free; more than `maxQueue` items waiting: 429.
class Batcher {
  private queue: Pending[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private due = false;
  batches = 0;
  constructor(private readonly name: string, private readonly model: Model, private readonly exec: Executor,
    private readonly maxBatch: number, private readonly waitMs: number, private readonly maxQueue: number) {}

  run(input: Float32Array | Uint8Array, items: number): Promise<Float32Array> {
    if (this.queued + items > this.maxQueue) {
      return Promise.reject(new ProtocolError(429, `the server is at capacity (${this.queued} items waiting for '${this.name}'): retry after a second`, { 'retry-after': '1' }));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ input, items, resolve, reject });
      this.queued += items;
      if (this.queued >= this.maxBatch) { this.due = true; this.flush(); }
      else this.timer ??= setTimeout(() => { this.timer = undefined; this.due = true; this.flush(); }, this.waitMs);
    });
  }

  // Starts batches while an engine is free (called again when one frees up).
  flush(): void {
    while (this.due && this.queue.length && this.exec.idle()) {
      // one engine call per input kind (pixels and reals cannot share a call)
      const kind = this.queue[0].input instanceof Uint8Array;
      const group: Pending[] = [];
      let items = 0;
      this.queue = this.queue.filter((p) => {
        if ((p.input instanceof Uint8Array) !== kind || (group.length && items + p.items > this.maxBatch)) return true;
        group.push(p);
        items += p.items;
        return false;
      });
      this.queued -= items;
      if (!this.queue.length) { this.due = false; clearTimeout(this.timer); this.timer = undefined; }
      const per = this.model.inputShape.reduce((a, b) => a * b, 1);
      const out = this.model.outputShape.reduce((a, b) => a * b, 1);
      const input = kind ? new Uint8Array(items * per) : new Float32Array(items * per);
      let at = 0;
      for (const p of group) { input.set(p.input, at); at += p.input.length; }
      this.batches++;
      this.exec.run(this.name, input, items).then((y) => {
        let row = 0;
        for (const p of group) { p.resolve(y.subarray(row * out, (row + p.items) * out)); row += p.items; }
      }, (e) => { for (const p of group) p.reject(e); });
    }
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

export class InferenceServer {
  private readonly server: Server;
  private readonly batchers = new Map<string, Batcher>();
  private readonly latencies: number[] = []; // ring of the last 10,000, ms
  private requests = 0;
  private errors = 0;
  private rejected = 0; // 429s
  private inFlight = 0;
  private closing = false;
  private readonly o: Required<Omit<ServeOptions, 'sources'>> & Pick<ServeOptions, 'sources'>;
  private exec: Executor | undefined;

  constructor(private readonly models: Map<string, Model>, options: ServeOptions = {}) {
    const maxBatch = options.maxBatch ?? 64;
    this.o = { port: 8080, host: '127.0.0.1', maxBodyBytes: 4 << 20, maxBatch, batchWaitMs: 2, topK: 3, threads: 0, maxQueue: 16 * maxBatch, ...options };
    if (this.o.threads > 0 && (!this.o.sources || [...models.keys()].some((n) => !this.o.sources!.has(n)))) {
      throw new EngineError('E_SERVE_OPTIONS', 'threads > 0 needs { sources }: every model\'s .edgeq bytes, for the engine threads to load');
    }
    this.server = createServer((req, res) => { void this.handle(req, res); });
    this.server.keepAliveTimeout = 5000;
  }

  // Starts the engine threads (if any), then listens.
  async listen(): Promise<AddressInfo> {
    if (!this.exec) {
      const pool = this.o.threads > 0 ? await WorkerPool.start(this.o.threads, this.o.sources!, 4 * this.o.threads) : undefined;
      this.exec = pool ?? new InThread(this.models);
      for (const [name, m] of this.models) this.batchers.set(name, new Batcher(name, m, this.exec, this.o.maxBatch, this.o.batchWaitMs, this.o.maxQueue));
      if (pool) pool.onIdle = () => { for (const b of this.batchers.values()) b.flush(); };
    }
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port, this.o.host, () => resolve(this.server.address() as AddressInfo));
    });
  }

  // Stops accepting connections, lets requests in flight finish, then resolves.
  async close(): Promise<void> {
    this.closing = true;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
    await this.exec?.close();
  }

  metrics() {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const batches = Object.fromEntries([...this.batchers].map(([n, b]) => [n, b.batches]));
    return {
      requests: this.requests, errors: this.errors, rejected: this.rejected, inFlight: this.inFlight, threads: this.o.threads,
      threadRestarts: this.exec instanceof WorkerPool ? this.exec.replaced : 0, batches,
      latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0, window: sorted.length },
      memory: { rss: process.memoryUsage().rss },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const start = performance.now();
    this.requests++;
    this.inFlight++;
    try {
      if (this.closing) throw new ProtocolError(503, 'the server is shutting down');
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/health') {
        if (req.method !== 'GET') throw new ProtocolError(405, 'use GET /health');
        return send(res, 200, { status: 'ok', models: [...this.models.keys()] });
      }
      if (url.pathname === '/metrics') {
        if (req.method !== 'GET') throw new ProtocolError(405, 'use GET /metrics');
        return send(res, 200, this.metrics());
      }
      const predict = PREDICT_PATH.exec(url.pathname), m = predict ?? EXPLAIN_PATH.exec(url.pathname);
      if (!m) throw new ProtocolError(404, `no route ${url.pathname}: use POST /v1/models/<name>:predict, POST /v1/models/<name>:explain, GET /health, GET /metrics`);
      if (req.method !== 'POST') throw new ProtocolError(405, `${predict ? 'predict' : 'explain'} takes POST`);
      const name = decodeURIComponent(m[1]);
      const model = this.models.get(name), batcher = this.batchers.get(name);
      if (!model || !batcher) throw new ProtocolError(404, `no model '${name}': this server has ${[...this.models.keys()].join(', ')}`);
      const body = await readBody(req, this.o.maxBodyBytes);
      const contentType = req.headers['content-type'] ?? '';
      if (!predict) {
        const { input } = parsePredictBody(body, contentType, model.inputShape, 1);
        // outside the batcher: one explanation is hundreds of inferences, run in the
        // engine's own batches
        return send(res, 200, explainResponse(name, model, await this.exec!.explain(name, input, parseExplainOptions(body, contentType))));
      }
      const { input, items } = parsePredictBody(body, contentType, model.inputShape, this.o.maxBatch * 16);
      send(res, 200, predictResponse(name, model, await batcher.run(input, items), items, this.o.topK));
    } catch (e) {
      this.errors++;
      if (e instanceof ProtocolError && e.status === 429) this.rejected++;
      send(res, errorStatus(e), { error: (e as Error).message }, e instanceof ProtocolError ? e.headers : {});
    } finally {
      this.inFlight--;
      if (this.latencies.length >= 10000) this.latencies.shift();
      this.latencies.push(performance.now() - start);
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) { req.resume(); reject(new ProtocolError(413, `the body is ${declared} bytes; the limit is ${limit}`)); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) { req.destroy(); reject(new ProtocolError(413, `the body is over the ${limit}-byte limit`)); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => reject(new ProtocolError(400, 'the request body broke off')));
  });
}
