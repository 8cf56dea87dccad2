// `edgeq serve`: an offline HTTP inference server for gateways (node:http, nothing
// else). Requests to one model are batched: they queue for up to `batchWaitMs` or until
// `maxBatch` items, then run as one engine call.
//
//   POST /v1/models/<name>:predict   the predict protocol (src/runtime/protocol.ts)
//   GET  /health                     {"status": "ok", "models": [...]}
//   GET  /metrics                    requests, errors, latency percentiles, batches

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorStatus, parsePredictBody, predictResponse, PREDICT_PATH, ProtocolError } from './protocol.js';
import type { Model } from './model.js';

export interface ServeOptions {
  port?: number;
  host?: string;
  maxBodyBytes?: number; // default 4 MiB
  maxBatch?: number; // default 64
  batchWaitMs?: number; // default 2
  topK?: number; // default 3
}

interface Pending { input: Float32Array | Uint8Array; items: number; resolve: (y: Float32Array) => void; reject: (e: unknown) => void }

class Batcher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  batches = 0;
  constructor(private readonly model: Model, private readonly maxBatch: number, private readonly waitMs: number) {}

  run(input: Float32Array | Uint8Array, items: number): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, items, resolve, reject });
      const queued = this.queue.reduce((a, p) => a + p.items, 0);
      if (queued >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.waitMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length) {
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
      const per = this.model.inputShape.reduce((a, b) => a * b, 1);
      const out = this.model.outputShape.reduce((a, b) => a * b, 1);
      const input = kind ? new Uint8Array(items * per) : new Float32Array(items * per);
      let at = 0;
      for (const p of group) { input.set(p.input, at); at += p.input.length; }
      try {
        const y = this.model.predict(input, { batch: items });
        this.batches++;
        let row = 0;
        for (const p of group) { p.resolve(y.subarray(row * out, (row + p.items) * out)); row += p.items; }
      } catch (e) {
        for (const p of group) p.reject(e);
      }
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
  private inFlight = 0;
  private closing = false;
  private readonly o: Required<ServeOptions>;

  constructor(private readonly models: Map<string, Model>, options: ServeOptions = {}) {
    this.o = { port: 8080, host: '127.0.0.1', maxBodyBytes: 4 << 20, maxBatch: 64, batchWaitMs: 2, topK: 3, ...options };
    for (const [name, m] of models) this.batchers.set(name, new Batcher(m, this.o.maxBatch, this.o.batchWaitMs));
    this.server = createServer((req, res) => { void this.handle(req, res); });
    this.server.keepAliveTimeout = 5000;
  }

  listen(): Promise<AddressInfo> {
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
  }

  metrics() {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const batches = Object.fromEntries([...this.batchers].map(([n, b]) => [n, b.batches]));
    return {
      requests: this.requests, errors: this.errors, inFlight: this.inFlight, batches,
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
      const m = PREDICT_PATH.exec(url.pathname);
      if (!m) throw new ProtocolError(404, `no route ${url.pathname}: use POST /v1/models/<name>:predict, GET /health, GET /metrics`);
      if (req.method !== 'POST') throw new ProtocolError(405, 'predict takes POST');
      const name = decodeURIComponent(m[1]);
      const model = this.models.get(name), batcher = this.batchers.get(name);
      if (!model || !batcher) throw new ProtocolError(404, `no model '${name}': this server has ${[...this.models.keys()].join(', ')}`);
      const body = await readBody(req, this.o.maxBodyBytes);
      const { input, items } = parsePredictBody(body, req.headers['content-type'] ?? '', model.inputShape, this.o.maxBatch * 16);
      send(res, 200, predictResponse(name, model, await batcher.run(input, items), items, this.o.topK));
    } catch (e) {
      this.errors++;
      send(res, errorStatus(e), { error: (e as Error).message });
    } finally {
      this.inFlight--;
      if (this.latencies.length >= 10000) this.latencies.shift();
      this.latencies.push(performance.now() - start);
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
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
