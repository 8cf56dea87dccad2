// One cold start, run by bench/compare.ts in a fresh Node process per measurement:
// import the runtime, load the model from its file, first result on one image. Prints
// JSON: the absolute time of the first result (performance.timeOrigin-based, so the
// parent can subtract the moment it spawned this process), import → first result, RSS.
//
//   node bench/cold.mjs '<json spec>'   (spec: see compare.ts, coldStart)
import { readFile } from 'node:fs/promises';

const spec = JSON.parse(process.argv[2]);
const px = new Uint8Array(784).fill(0).map((_, i) => (i * 37) & 255);
let tImport, out;
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
