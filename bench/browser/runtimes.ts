// Page side of the browser benchmark (bench/browser.ts): each runtime from its model's
// bytes to a predict function, the same steps for the timed page (page.ts) and the
// cold-start pages (cold.ts). The runtimes are separate modules next to the page
// (edgeq.js as shipped, tfjs.js and ort.js bundled by bench/browser.ts), imported at run
// time, so that a cold start loads only its own runtime's script.

import type * as Edgeq from '../../src/runtime/browser.js';
import type * as Tfjs from './tfjs.js';
import type * as Ort from './ort.js';

export interface Candidate {
  runtime: 'edgeq' | 'tfjs' | 'ort';
  model: string; // URL, relative to the page: .edgeq, model.json or .onnx
  weights?: string; // tfjs: weights.bin
  build?: 'simd' | 'scalar' | 'relaxed'; // edgeq
  shape: number[]; // one input's shape, as the runtime takes it
  input?: 'uint8' | 'float32'; // ort: what the graph's input is
}

export type Run = (x: Uint8Array, n: number) => Float32Array | Promise<Float32Array>;

// a variable specifier, so that esbuild leaves the import to the browser
const runtime = <T>(file: string): Promise<T> => import(/* @vite-ignore */ new URL(file, location.href).href);
const bytes = async (url: string) => {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
};
const base = () => new URL('./', location.href).href;

export type Loaded = { edgeq: typeof Edgeq } | { tfjs: typeof Tfjs } | { ort: typeof Ort };
export async function importRuntime(c: Candidate): Promise<Loaded> {
  if (c.runtime === 'edgeq') return { edgeq: await runtime<typeof Edgeq>('./edgeq.js') };
  if (c.runtime === 'tfjs') return { tfjs: await runtime<typeof Tfjs>('./tfjs.js') };
  return { ort: await runtime<typeof Ort>('./ort.js') };
}

export async function fetchModel(c: Candidate): Promise<Uint8Array[]> {
  return Promise.all([c.model, ...(c.weights ? [c.weights] : [])].map(bytes));
}

// Model bytes → a predict function; the engine's .wasm is fetched and compiled here
// (never handed in compiled), as on a page's first visit.
export async function instantiate(c: Candidate, rt: Loaded, files: Uint8Array[]): Promise<Run> {
  if ('edgeq' in rt) {
    const m = await rt.edgeq.loadModel(files[0], { build: c.build });
    if (m.info.build !== c.build) throw new Error(`edgeq loaded build ${m.info.build}, asked for ${c.build}`);
    return (x, n) => m.predict(x, { batch: n });
  }
  if ('tfjs' in rt) {
    const tf = rt.tfjs;
    tf.setWasmPaths(base());
    // one thread: the page is cross-origin isolated (for its timer), where TF.js would
    // otherwise take its multithreaded build
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!(await tf.setBackend('wasm'))) throw new Error('TF.js: the wasm backend did not initialize');
    tf.enableProdMode();
    const json = JSON.parse(new TextDecoder().decode(files[0]));
    const w = files[1];
    const model = await tf.loadLayersModel({ load: async () => ({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights), weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.length) as ArrayBuffer }) });
    return (x, n) => tf.tidy(() => (model.predict(tf.tensor(x, [n, ...c.shape], 'float32').div(255)) as Tfjs.Tensor).dataSync() as Float32Array);
  }
  const ort = rt.ort;
  ort.env.wasm.numThreads = 1;
  // the .wasm only: the JavaScript glue is in ort.js (onnxruntime-web/wasm, bundled)
  ort.env.wasm.wasmPaths = { wasm: `${base()}ort-wasm-simd-threaded.wasm` };
  const session = await ort.InferenceSession.create(files[0], { executionProviders: ['wasm'] });
  return async (x, n) => {
    const t = c.input === 'uint8' ? new ort.Tensor('uint8', x, [n, ...c.shape]) : new ort.Tensor('float32', Float32Array.from(x, (p) => p / 255), [n, ...c.shape]);
    return Object.values(await session.run({ input: t }))[0].data as Float32Array;
  };
}
