// The cold-start processes of the benchmarks, one fresh Node process per measurement.
//
// compare.ts (coldStart): import a runtime, load the model from its file, first result
// on one image. Prints JSON: the absolute time of the first result (performance.timeOrigin-
// based, so the parent can subtract the moment it spawned this process), import → first
// result, RSS.
//
// cold.ts (runtime 'edgeq-bytes'): edgeq from model bytes to the first result, the file
// reading outside the timed span: engine compile (unless the compiled module is given),
// instantiate, load, first predict. With `phases`, WebAssembly's compile / instantiate
// and the engine's model_load / model_run are wrapped with timers (a few µs of wrapping,
// so the total comes from processes without them); with `reloads`, the same bytes are
// then loaded again in this warm process and the median reload is reported.
//
//   node bench/cold.mjs '<json spec>'
import { readFile } from 'node:fs/promises';

const spec = JSON.parse(process.argv[2]);
const px = new Uint8Array(784).fill(0).map((_, i) => (i * 37) & 255);
let tImport, out;
if (spec.runtime === 'edgeq-bytes') {
  process.stdout.write(JSON.stringify(await edgeqBytes(spec)));
  process.exit(0);
}
if (spec.runtime === 'none') {
  // Node itself: the floor under every (a) figure
  tImport = performance.now();
  out = new Float32Array(10);
} else if (spec.runtime === 'edgeq') {
  const { loadModel } = await import(spec.bundle);
  tImport = performance.now();
  const m = await loadModel(await readFile(spec.model), { engine: await readFile(spec.engine) });
  out = m.predict(px);
} else if (spec.runtime === 'tfjs') {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  tImport = performance.now();
  await tf.setBackend('wasm');
  const json = JSON.parse(await readFile(spec.model, 'utf8'));
  const weights = await readFile(spec.weights);
  const model = await tf.loadLayersModel({ load: async () => ({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length) }) });
  out = tf.tidy(() => model.predict(tf.tensor(px, [1, ...spec.shape], 'float32').div(255)).dataSync());
} else {
  const ort = await import('onnxruntime-web');
  tImport = performance.now();
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(await readFile(spec.model), { executionProviders: ['wasm'] });
  const t = spec.input === 'uint8' ? new ort.Tensor('uint8', px, [1, ...spec.shape]) : new ort.Tensor('float32', Float32Array.from(px, (v) => v / 255), [1, ...spec.shape]);
  out = Object.values(await session.run({ input: t }))[0].data;
}
const now = performance.now();
if (out.length !== 10) throw new Error(`expected 10 scores, got ${out.length}`);
process.stdout.write(JSON.stringify({ firstResultAt: performance.timeOrigin + now, importToFirstMs: now - tImport, rss: process.memoryUsage().rss }));


async function edgeqBytes(spec) {
  const engineBytes = await readFile(spec.engine);
  const bytes = await readFile(spec.model);
  const input = spec.input === 'pixels' ? px : Float32Array.from(px, (v) => v / 255);
  // given: what a Worker or an application holding the compiled module passes
  const engine = spec.given ? new WebAssembly.Module(engineBytes) : engineBytes;
  const phases = {};
  if (spec.phases) timeEngine(phases);
  const { loadModel } = await import(spec.bundle);
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  const m = await loadModel(bytes, { engine });
  const t1 = performance.now();
  const y = m.predict(input);
  const t2 = performance.now();
  const u = process.cpuUsage(u0);
  if (y.length !== 10) throw new Error(`expected 10 scores, got ${y.length}`);
  const r = {
    firstMs: t2 - t0, loadModelMs: t1 - t0, predictMs: t2 - t1, ...phases,
    // CPU time of the whole process over the same span: the main thread and V8's
    // background compilation (TurboFan tiering up the hot functions)
    firstProcessCpuMs: (u.user + u.system) / 1000,
  };
  if (spec.reloads) {
    m.dispose();
    const load = [], first = [];
    for (let i = 0; i < 2 * spec.reloads; i++) {
      const s = performance.now();
      const w = await loadModel(bytes, { engine });
      const l = performance.now();
      w.predict(input);
      const e = performance.now();
      w.dispose();
      // the first half warms the process (tier-up); the second is measured
      if (i >= spec.reloads) { load.push(l - s); first.push(e - s); }
    }
    const med = (a) => a.sort((x, z) => x - z)[a.length >> 1];
    Object.assign(r, { reloadMs: med(load), reloadFirstMs: med(first) });
  }
  return r;
}

// Wraps the WebAssembly API and the engine's exports with timers (phases mode only).
function timeEngine(p) {
  const add = (k, t) => { p[k] = (p[k] ?? 0) + performance.now() - t; };
  const wrapExports = (ex) => {
    const o = { ...ex };
    for (const k of ['model_load', 'model_run']) o[k] = (...a) => { const t = performance.now(); const v = ex[k](...a); add(k, t); return v; };
    return o;
  };
  const { compile, instantiate, Module, Instance } = WebAssembly;
  WebAssembly.compile = async (b) => { const t = performance.now(); const m = await compile(b); add('compile', t); return m; };
  WebAssembly.Module = function (b) { const t = performance.now(); const m = new Module(b); add('compile', t); return m; };
  WebAssembly.Module.prototype = Module.prototype;
  // the wrapping itself (copying the exports) is timed apart, as 'wrap'
  const wrapped = (ex) => { const t = performance.now(); const o = wrapExports(ex); add('wrap', t); return o; };
  WebAssembly.instantiate = async (m, i) => { const t = performance.now(); const r = await instantiate(m, i); add('instantiate', t); return r instanceof Instance ? { exports: wrapped(r.exports) } : { module: r.module, instance: { exports: wrapped(r.instance.exports) } }; };
  WebAssembly.Instance = function (m, i) { const t = performance.now(); const r = new Instance(m, i); add('instantiate', t); return { exports: wrapped(r.exports) }; };
}
