// `edgeq serve --threads N` under load on 127.0.0.1: requests per second and latency
// (p50, p99) for each thread count, with a load generator in this process (keep-alive
// connections, a fixed number of requests in flight) against the server in its own
// process. Bounded: a fixed request count per run, and a time limit.
//
//   npx tsx bench/serve.ts [--model FILE.edgeq] [--items N] [--requests N] [--in-flight N] [--threads 1,2] [--json FILE]

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../src/runtime/node.js';

const { values: opt } = parseArgs({ options: {
  model: { type: 'string', default: 'models/edge/resnet-8.edgeq' }, requests: { type: 'string', default: '6000' },
  'in-flight': { type: 'string', default: '64' }, items: { type: 'string', default: '1,8' }, threads: { type: 'string', default: '1,2' }, json: { type: 'string' }, help: { type: 'boolean' },
} });
if (opt.help) { console.log('usage: npx tsx bench/serve.ts [--model FILE.edgeq] [--items N] [--requests N] [--in-flight N] [--threads 1,2] [--json FILE]'); process.exit(0); }
const root = new URL('..', import.meta.url).pathname;
const total = Number(opt.requests), inFlight = Number(opt['in-flight']);
// the request count and in-flight limit apply per configuration
const model = await loadModel(readFileSync(opt.model));
const per = model.inputShape.reduce((a, b) => a * b, 1);
const name = opt.model.replace(/^.*\//, '').replace(/\.edgeq$/, '');
// raw-pixel items per request (one: a camera or sensor client; more: a client that
// batches frames or windows itself)
const itemCounts = opt.items.split(',').map(Number);
let body = Buffer.alloc(0);

async function server(threads: number): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/cli/edgeq.ts', 'serve', opt.model, '--port', '0', '--threads', String(threads)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => { const m = /http:\/\/[\d.]+:\d+/.exec(d.toString()); if (m) resolve(m[0]); });
    child.on('exit', (code) => reject(new Error(`edgeq serve exited ${code}`)));
  });
  return { url, stop: () => new Promise((resolve) => { child.on('exit', () => resolve()); child.kill('SIGTERM'); }) };
}

function post(agent: Agent, url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/octet-stream', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const rows = [];
for (const items of itemCounts) for (const threads of opt.threads.split(',').map(Number)) {
  body = Buffer.from(Uint8Array.from({ length: items * per }, (_, i) => (i * 37) % 256));
  const s = await server(threads);
  const url = new URL(`/v1/models/${name}:predict`, s.url);
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const lat: number[] = [];
  let next = 0, ok = 0, busy = 0;
  const deadline = performance.now() + 60_000;
  // warm-up: a few hundred requests not counted
  await Promise.all(Array.from({ length: inFlight }, async () => { for (let i = 0; i < 5; i++) await post(agent, url); }));
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < total && performance.now() < deadline) {
      next++;
      const t = performance.now();
      const status = await post(agent, url);
      lat.push(performance.now() - t);
      if (status === 200) ok++;
      else if (status === 429) busy++;
      else throw new Error(`status ${status}`);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  await s.stop();
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  rows.push({ items, threads, requests: lat.length, ok, busy, seconds, perSecond: ok / seconds, p50: pct(0.5), p99: pct(0.99) });
  process.stderr.write(`${items} item(s) per request, threads ${threads}: ${(ok / seconds).toFixed(0)} req/s\n`);
}
const f = (v: number, d = 1) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
console.log(`\nedgeq serve, ${name} (items of ${per} raw pixels), ${inFlight} requests in flight, ${total} requests per run, ${cpus().length} cores, Node ${process.version}\n`);
console.log('| items per request | engine threads | requests/s | items/s | × 1 thread | p50, ms | p99, ms | 429s |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const one = rows.find((x) => x.items === r.items)!;
  console.log(`| ${r.items} | ${r.threads} | ${f(r.perSecond, 0)} | ${f(r.perSecond * r.items, 0)} | ${f(r.perSecond / one.perSecond, 2)}× | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${r.busy} |`);
}
if (opt.json) {
  mkdirSync(dirname(opt.json), { recursive: true });
  writeFileSync(opt.json, JSON.stringify({ date: new Date().toISOString(), node: process.version, machine: `${cpus().length} cores`, model: name, inFlight, total, rows }, null, 2) + '\n');
}
model.dispose();
