// A Cloudflare Worker serving an edgeq model. Workers cannot compile wasm from bytes,
// so the engine is imported as a compiled module (wrangler's CompiledWasm rule) and the
// model as data (the Data rule); both ship inside the Worker.
//
//   POST /v1/models/<name>:predict       the predict protocol of `edgeq serve`
//                                        (src/runtime/protocol.ts): JSON instances (the
//                                        values the source model takes) or raw pixels →
//                                        {"model", "predictions", "top"}; <name> is the
//                                        model's name (cnn-mnist for the shipped one)
//   POST /v1/models/<name>:explain       one input (+ JSON "options": method, target,
//                                        samples, patch, …) → explain()'s attributions,
//                                        one per input value (src/runtime/explain.ts)
//   GET  /health                         {"status": "ok", "model": ..., "build": ...}
// ?build=scalar runs the engine build for hosts without wasm SIMD (workerd has SIMD);
// ?build=relaxed the relaxed-SIMD build (workerd validates it; the same results).

import relaxedEngine from '../../build/edgeq.relaxed.wasm';
import scalarEngine from '../../build/edgeq.scalar.wasm';
import simdEngine from '../../build/edgeq.simd.wasm';
import modelBytes from '../../models/cnn-mnist.edgeq';
import { explain, loadModel, type Model } from '../../src/runtime/index.js';
import { errorStatus, EXPLAIN_PATH, explainResponse, parseExplainOptions, parsePredictBody, predictResponse, PREDICT_PATH } from '../../src/runtime/protocol.js';

const MAX_ITEMS = 64;
const models = new Map<string, Promise<Model>>();

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const asked = url.searchParams.get('build');
    const build = asked === 'scalar' || asked === 'relaxed' ? asked : 'simd';
    if (!models.has(build)) {
      const engine = ({ simd: simdEngine, scalar: scalarEngine, relaxed: relaxedEngine })[build] as unknown as WebAssembly.Module;
      models.set(build, loadModel(new Uint8Array(modelBytes as unknown as ArrayBuffer), { engine }));
    }
    const m = await models.get(build)!;
    const NAME = m.name || 'model';
    if (url.pathname === '/health') {
      if (request.method !== 'GET') return json(405, { error: 'use GET /health' });
      return json(200, { status: 'ok', model: NAME, build: m.info.build });
    }
    const predict = PREDICT_PATH.exec(url.pathname), route = predict ?? EXPLAIN_PATH.exec(url.pathname);
    if (!route || decodeURIComponent(route[1]) !== NAME) return json(404, { error: `no route ${url.pathname}: POST /v1/models/${NAME}:predict, POST /v1/models/${NAME}:explain or GET /health` });
    if (request.method !== 'POST') return json(405, { error: `${predict ? 'predict' : 'explain'} takes POST` });
    try {
      const body = new Uint8Array(await request.arrayBuffer());
      const contentType = request.headers.get('content-type') ?? '';
      // explain: one input, its perturbations run through the engine in batches
      const { input, items } = parsePredictBody(body, contentType, m.inputShape, predict ? MAX_ITEMS : 1);
      if (!predict) return json(200, explainResponse(NAME, m, explain(m, input, parseExplainOptions(body, contentType))));
      return json(200, predictResponse(NAME, m, m.predict(input, { batch: items }), items, 3));
    } catch (e) {
      return json(errorStatus(e), { error: (e as Error).message });
    }
  },
};
