// Cold start of edgeq: from model bytes to the first result in a fresh process, engine
// compile included, and a warm reload of the same bytes.
//
// Node: fresh processes (bench/cold.mjs, runtime 'edgeq-bytes'), interleaved across the
// cases so that drift of a shared machine hits all alike; the engine and model files
// are read before the clock starts. Each case runs with the engine as bytes (compiled in
// the timed span) and as a compiled WebAssembly.Module given (as a Worker, or an
// application holding the module, passes it). Processes of one kind time the whole span
// untouched (the headline, and then the warm reloads); processes of another wrap the
// WebAssembly API and model_load / model_run with timers for the phase breakdown.
//
// workerd (the Cloudflare Workers runtime, through miniflare): a fresh workerd per
// measurement running examples/worker with the model, and its first request (POST
// predict, one image of raw pixels: load and first result). Workers' performance.now()
// does not advance while code runs, so the figure is CPU time from the kernel's
// per-thread accounting (/proc/<pid>/task/*/schedstat) over that request: of the
// isolate's thread (the one that ran the most during it) and of every workerd thread
// (background compilation included), each less the same figure for a no-op Worker's
// first request. Workers get the engine as a compiled module only (they refuse
// compiling wasm from bytes).
//
//   npx tsx bench/cold.ts [--runs N] [--json FILE] [--no-workerd] [--engine FILE] [--bundle FILE]
//   (--engine, --bundle: time another engine build or runtime bundle, e.g. a commit's,
//   for before / after figures; the Node part only)
//   npm run bench:cold      (writes bench/results/cold.json and the README table)

import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Miniflare } from 'miniflare';
import { buildWorker } from '../examples/worker/build.js';
import * as F from '../assembly/format.js';
import { engineFile } from '../src/runtime/node.js';
import { stat, type Stat } from './timing.js';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const runs = Number(opt('--runs') ?? 15);
const engine = opt('--engine') ?? engineFile('simd');
const RELOADS = 20;

const MODELS = [
  { name: 'reference CNN, Fashion-MNIST (pruned)', file: 'models/cnn-fashion-mnist.edgeq' },
  { name: 'reference LSTM, mnist rows', file: 'models/lstm-mnist.edgeq' },
];

// under the repository (.scratch/ is ignored): workerd reads the Workers' files below
// its working directory only
mkdirSync(join(root, '.scratch'), { recursive: true });
const dir = mkdtempSync(join(root, '.scratch', 'cold-'));
const bundle = opt('--bundle') ?? join(dir, 'edgeq.mjs');
if (!opt('--bundle')) await esbuild.build({ entryPoints: [join(root, 'src/runtime/node.ts')], bundle: true, format: 'esm', platform: 'node', outfile: bundle, logLevel: 'error' });

// ---- Node: fresh processes ------------------------------------------------------------

type Sample = Record<string, number>;
const child = (spec: Record<string, unknown>): Sample =>
  JSON.parse(execFileSync(process.execPath, [join(root, 'bench/cold.mjs'), JSON.stringify({ runtime: 'edgeq-bytes', bundle, engine, ...spec })], { cwd: root, encoding: 'utf8' }));

interface Case { model: string; file: string; given: boolean; whole: Sample[]; phases: Sample[] }
const cases: Case[] = MODELS.flatMap((m) => [false, true].map((given) => ({ model: m.name, file: m.file, given, whole: [], phases: [] })));
for (let i = 0; i < runs; i++) {
  process.stderr.write(`\rNode: fresh processes, round ${i + 1} of ${runs}`);
  for (const c of cases) {
    c.whole.push(child({ model: join(root, c.file), given: c.given, reloads: RELOADS }));
    c.phases.push(child({ model: join(root, c.file), given: c.given, phases: true }));
  }
}
process.stderr.write('\n');

const of = (xs: Sample[], k: string): Stat => stat(xs.map((x) => x[k] ?? 0));
const nodeRows = cases.map((c) => ({
  model: c.model, file: c.file, moduleGiven: c.given,
  firstResultMs: of(c.whole, 'firstMs'),
  firstResultProcessCpuMs: of(c.whole, 'firstProcessCpuMs'),
  // the phases, from the processes with timers: compile (engine bytes only), instantiate,
  // model_load, the rest of loadModel (JavaScript), model_run, the rest of predict; the
  // total there includes the timers' wrapping of the exports
  phases: {
    compile: of(c.phases, 'compile'), instantiate: of(c.phases, 'instantiate'), modelLoad: of(c.phases, 'model_load'),
    loadModelJs: stat(c.phases.map((x) => x.loadModelMs - (x.compile ?? 0) - x.instantiate - x.wrap - x.model_load)),
    modelRun: of(c.phases, 'model_run'), predictJs: stat(c.phases.map((x) => x.predictMs - x.model_run)),
    total: of(c.phases, 'firstMs'),
  },
  warmReloadMs: of(c.whole, 'reloadMs'), warmReloadFirstResultMs: of(c.whole, 'reloadFirstMs'),
}));

// ---- workerd: a fresh runtime per first request -----------------------------------------

const schedstat = (pid: number): Map<string, number> => {
  const m = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try { m.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6); } catch { /* thread gone */ }
  }
  return m;
};
const workerdPid = (): number => {
  const kids = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  const pid = kids.find((k) => { try { return readFileSync(`/proc/${k}/comm`, 'utf8').trim() === 'workerd'; } catch { return false; } });
  if (!pid) throw new Error('workerd process not found among this process\'s children');
  return pid;
};

// one image of raw pixels, as bench/cold.mjs predicts
const PIXELS = new Uint8Array(784).map((_, i) => (i * 37) & 255);
interface WorkerCase { name: string; script: string; url: string; headers?: Record<string, string> }
async function firstRequestCpu(w: WorkerCase): Promise<{ isolateMs: number; allMs: number; wallMs: number }> {
  const mf = new Miniflare({
    modules: true, scriptPath: relative(process.cwd(), w.script), compatibilityDate: '2025-01-01',
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }, { type: 'Data', include: ['**/*.edgeq'] }],
  });
  try {
    await mf.ready;
    const pid = workerdPid();
    await new Promise((r) => setTimeout(r, 200)); // startup's background work settles
    const before = schedstat(pid);
    const t = performance.now();
    const res = await mf.dispatchFetch(w.url, { method: 'POST', body: PIXELS, headers: w.headers });
    const wallMs = performance.now() - t;
    if (res.status !== 200) throw new Error(`${w.name}: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    const after = schedstat(pid);
    let isolateMs = 0, allMs = 0;
    for (const [tid, ms] of after) { const d = ms - (before.get(tid) ?? 0); allMs += d; isolateMs = Math.max(isolateMs, d); }
    return { isolateMs, allMs, wallMs };
  } finally {
    await mf.dispose();
  }
}

let workerdRows: unknown[] = [];
let workerdBaseline: unknown = null;
if (!args.includes('--no-workerd')) {
  const noop = join(dir, 'noop');
  mkdirSync(noop, { recursive: true });
  writeFileSync(join(noop, 'worker.js'), "export default { async fetch(request) { await request.arrayBuffer(); return new Response(JSON.stringify({ predictions: [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]] }), { headers: { 'content-type': 'application/json' } }); } };\n");
  const workers: WorkerCase[] = [{ name: 'no-op', script: join(noop, 'worker.js'), url: 'http://localhost/' }];
  for (const m of MODELS) {
    const script = await buildWorker(join(dir, `worker-${workers.length}`), join(root, m.file));
    const name = readModelName(join(root, m.file));
    workers.push({ name: m.name, script, url: `http://localhost/v1/models/${name}:predict`, headers: { 'content-type': 'application/octet-stream' } });
  }
  const samples = workers.map(() => [] as { isolateMs: number; allMs: number; wallMs: number }[]);
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`\rworkerd: fresh runtimes, round ${i + 1} of ${runs}`);
    for (let j = 0; j < workers.length; j++) samples[j].push(await firstRequestCpu(workers[j]));
  }
  process.stderr.write('\n');
  const s = (j: number, k: 'isolateMs' | 'allMs' | 'wallMs') => stat(samples[j].map((x) => x[k]));
  workerdBaseline = { isolateCpuMs: s(0, 'isolateMs'), allThreadsCpuMs: s(0, 'allMs'), wallMs: s(0, 'wallMs') };
  workerdRows = MODELS.map((m, i) => ({
    model: m.name, file: m.file, moduleGiven: true,
    isolateCpuMs: s(i + 1, 'isolateMs'), allThreadsCpuMs: s(i + 1, 'allMs'), wallMs: s(i + 1, 'wallMs'),
    // the edgeq part: less the no-op Worker's medians
    isolateCpuOverNoopMs: s(i + 1, 'isolateMs').median - s(0, 'isolateMs').median,
    allThreadsCpuOverNoopMs: s(i + 1, 'allMs').median - s(0, 'allMs').median,
  }));
}

// The name the Worker serves the model under (its metadata's, as the runtime reads it).
function readModelName(file: string): string {
  const b = readFileSync(file);
  const at = b.readUInt32LE(F.H_META_OFFSET), size = b.readUInt32LE(F.H_META_SIZE);
  return JSON.parse(b.subarray(at, at + size).toString('utf8')).name;
}

// ---- report ---------------------------------------------------------------------------

const f = (v: number, d = 2) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const ms = (s: Stat) => `${f(s.median)} (${f(s.p90)})`;
const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}`;
console.log(`\nedgeq cold start — ${new Date().toISOString()} — ${machine}, Node ${process.version}; ${runs} fresh processes per row, median (p90), ms\n`);
console.log('| model | engine | bytes → first result | its process CPU | compile | instantiate | model_load | loadModel JS | model_run | predict JS | warm reload | warm reload → result |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of nodeRows) {
  const p = r.phases;
  console.log(`| ${r.model} | ${r.moduleGiven ? 'module given' : 'bytes'} | ${ms(r.firstResultMs)} | ${ms(r.firstResultProcessCpuMs)} | ${r.moduleGiven ? '–' : ms(p.compile)} | ${ms(p.instantiate)} | ${ms(p.modelLoad)} | ${ms(p.loadModelJs)} | ${ms(p.modelRun)} | ${ms(p.predictJs)} | ${ms(r.warmReloadMs)} | ${ms(r.warmReloadFirstResultMs)} |`);
}
if (workerdRows.length) {
  console.log('\nworkerd, first request of a fresh runtime: CPU ms, median (p90)\n');
  console.log('| Worker | isolate thread | all threads | wall | isolate less no-op | all less no-op |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  const b = workerdBaseline as { isolateCpuMs: Stat; allThreadsCpuMs: Stat; wallMs: Stat };
  console.log(`| no-op | ${ms(b.isolateCpuMs)} | ${ms(b.allThreadsCpuMs)} | ${ms(b.wallMs)} | – | – |`);
  for (const r of workerdRows as { model: string; isolateCpuMs: Stat; allThreadsCpuMs: Stat; wallMs: Stat; isolateCpuOverNoopMs: number; allThreadsCpuOverNoopMs: number }[]) {
    console.log(`| ${r.model} | ${ms(r.isolateCpuMs)} | ${ms(r.allThreadsCpuMs)} | ${ms(r.wallMs)} | ${f(r.isolateCpuOverNoopMs)} | ${f(r.allThreadsCpuOverNoopMs)} |`);
  }
}
const json = opt('--json');
if (json) {
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify({
    date: new Date().toISOString(), machine, cores: cpus().length, node: process.version, runs, reloads: RELOADS,
    engine: relative(root, engine), rows: nodeRows, workerd: { baseline: workerdBaseline, rows: workerdRows },
  }, null, 2) + '\n');
}
