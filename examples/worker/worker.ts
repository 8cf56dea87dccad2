// A Cloudflare Worker serving an edgeq model. Workers cannot compile wasm from bytes,
// so the engine is imported as a compiled module (wrangler's CompiledWasm rule) and the
// model as data (the Data rule); both ship inside the Worker.
//
//   POST /predict   a JSON array of 784 numbers (pixels 0–255), {"instances": [...]}, or
//                   784 raw bytes per image → {"top": [[{index, label, score}, ...]]}
//   GET  /health    {"status": "ok", "model": ..., "build": ...}
// ?build=scalar runs the engine build for hosts without wasm SIMD (workerd has SIMD);
// ?probabilities=1 adds every class's probability.

import scalarEngine from '../../build/edgeq.scalar.wasm';
import simdEngine from '../../build/edgeq.simd.wasm';
import modelBytes from '../../models/cnn-mnist.edgeq';
import { EdgeqError, loadModel, type Model } from '../../src/runtime/index.js';

const models = new Map<string, Promise<Model>>();

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const build = url.searchParams.get('build') === 'scalar' ? 'scalar' : 'simd';
    if (!models.has(build)) {
      const engine = (build === 'simd' ? simdEngine : scalarEngine) as unknown as WebAssembly.Module;
      models.set(build, loadModel(new Uint8Array(modelBytes as unknown as ArrayBuffer), { engine }));
    }
    const m = await models.get(build)!;
    if (url.pathname === '/health') {
      if (request.method !== 'GET') return json(405, { error: 'use GET /health' });
      return json(200, { status: 'ok', model: m.name, build: m.info.build });
    }
    if (url.pathname !== '/predict') return json(404, { error: `no route ${url.pathname}: POST /predict or GET /health` });
    if (request.method !== 'POST') return json(405, { error: 'POST an image to /predict' });
    const per = m.inputShape.reduce((a, b) => a * b, 1);
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.length > 64 * per) return json(413, { error: `at most 64 images (${64 * per} bytes) per request` });
    let input: Uint8Array | Float32Array;
    let items: number;
    if ((request.headers.get('content-type') ?? '').startsWith('application/json')) {
      let parsed: unknown;
      try { parsed = JSON.parse(new TextDecoder().decode(body)); } catch { return json(400, { error: 'the body is not JSON: send an array of numbers or {"instances": [...]}' }); }
      const instances = Array.isArray(parsed) && typeof parsed[0] === 'number' ? [parsed] : (parsed as { instances?: unknown })?.instances;
      if (!Array.isArray(instances) || instances.length === 0) return json(400, { error: 'send an array of numbers or {"instances": [[...], ...]}' });
      const flat = instances.flat(8);
      if (flat.length !== instances.length * per || flat.some((v) => typeof v !== 'number')) return json(400, { error: `each instance must have ${per} numbers` });
      input = Float32Array.from(flat as number[]);
      items = instances.length;
    } else {
      if (body.length === 0 || body.length % per !== 0) return json(400, { error: `raw input must be a multiple of ${per} bytes, got ${body.length}` });
      input = body;
      items = body.length / per;
    }
    try {
      const y = m.predict(input, { batch: items });
      const classes = m.outputShape[0];
      const top = Array.from({ length: items }, (_, i) => Array.from(y.subarray(i * classes, (i + 1) * classes), (score, index) => ({ index, label: m.labels[index] ?? String(index), score }))
        .sort((a, b) => b.score - a.score).slice(0, 3));
      return json(200, url.searchParams.get('probabilities') === '1' ? { top, probabilities: Array.from(y) } : { top });
    } catch (e) {
      return json(e instanceof EdgeqError ? 400 : 500, { error: (e as Error).message });
    }
  },
};
