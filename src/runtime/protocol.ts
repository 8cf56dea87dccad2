// The HTTP predict protocol, in one place: `edgeq serve` (src/runtime/serve.ts) and the
// Cloudflare Worker example (examples/worker/worker.ts) both speak it. No Node
// built-ins: it runs in every host the runtime does.
//
//   POST /v1/models/<name>:predict
//     body  application/json: {"instances": [input, …]} (or one input as a bare array),
//           each input an array (nested arrays are flattened) of the model's input
//           values (in the source model's own units, as its predict takes them); or
//           application/octet-stream: raw bytes, one pixel per value, a whole number of
//           inputs, turned into values by the model's pixel rule
//     200   {"model": name, "predictions": [[output, …], …], "top": [[{index, label, score}, …], …]}
//           ("top" for classifiers only: Model.isClassifier)
//     4xx   {"error": "what was wrong and what to send"}; 5xx: the engine failed
//
//   POST /v1/models/<name>:explain
//     body  as :predict with exactly one instance, and in JSON an "options" object:
//           method, target, samples, patch, stride, baseline, seed, kernelWidth
//           (explain()'s options, src/runtime/explain.ts)
//     200   {"model": name, "method", "target", "label"?, "baseScore", "baselineScore",
//           "samples", "shape", "settings", "attributions": [one per input value],
//           "segmentWeights"?}

import { topClasses } from './classes.js';
import { EdgeqError, EngineError } from './errors.js';
import type { ExplainOptions, Explanation } from './explain.js';
import type { Model } from './model.js';

export const PREDICT_PATH = /^\/v1\/models\/([^/:]+):predict$/;
export const EXPLAIN_PATH = /^\/v1\/models\/([^/:]+):explain$/;

// An HTTP status and the message to send with it.
export class ProtocolError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) { super(message); }
}

export interface PredictRequest { input: Float32Array | Uint8Array; items: number }

export function parsePredictBody(body: Uint8Array, contentType: string, inputShape: readonly number[], maxItems: number): PredictRequest {
  const per = inputShape.reduce((a, b) => a * b, 1);
  const shape = `[${inputShape.join(', ')}]`;
  if (contentType.startsWith('application/octet-stream')) {
    if (body.length === 0 || body.length % per !== 0) throw new ProtocolError(400, `raw input has ${body.length} bytes: send a multiple of ${per} (one byte per value of ${shape})`);
    if (body.length / per > maxItems) throw new ProtocolError(413, `at most ${maxItems} items per request`);
    return { input: body, items: body.length / per };
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch (e) {
    throw new ProtocolError(400, `the body is not JSON (${(e as Error).message}): send {"instances": [[...]]} as application/json, or raw bytes as application/octet-stream`);
  }
  const instances = Array.isArray(json) ? [json] : (json as { instances?: unknown })?.instances;
  if (!Array.isArray(instances) || instances.length === 0) throw new ProtocolError(400, 'send {"instances": [input, ...]}, each input an array of numbers');
  if (instances.length > maxItems) throw new ProtocolError(413, `at most ${maxItems} instances per request`);
  const input = new Float32Array(instances.length * per);
  instances.forEach((inst, i) => {
    const flat = Array.isArray(inst) ? (inst as unknown[]).flat(8) : [];
    if (flat.length !== per) throw new ProtocolError(400, `instance ${i} has ${flat.length} values; the model takes ${shape} = ${per}`);
    flat.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtocolError(400, `instance ${i} value ${j} is not a finite number`);
      input[i * per + j] = v;
    });
  });
  return { input, items: instances.length };
}

export function predictResponse(name: string, model: Model, scores: Float32Array, items: number, topK: number) {
  const out = model.outputShape.reduce((a, b) => a * b, 1);
  const predictions = Array.from({ length: items }, (_, i) => Array.from(scores.subarray(i * out, (i + 1) * out)));
  return { model: name, predictions, ...(model.isClassifier ? { top: predictions.map((p) => topClasses(p, model.labels, topK)) } : {}) };
}

// The status for an error: the protocol's own; 500 when the engine failed (EngineError)
// or anything unexpected did; 400 for input the runtime refused (any other EdgeqError).
export function errorStatus(e: unknown): number {
  if (e instanceof ProtocolError) return e.status;
  return e instanceof EdgeqError && !(e instanceof EngineError) ? 400 : 500;
}

const MAX_EXPLAIN_SAMPLES = 10_000;
const EXPLAIN_OPTIONS = ['method', 'target', 'samples', 'patch', 'stride', 'baseline', 'seed', 'kernelWidth'];

// An :explain body's options (explain() checks their values; this, that only its own
// options arrive).
export function parseExplainOptions(body: Uint8Array, contentType: string): ExplainOptions {
  if (contentType.startsWith('application/octet-stream')) return {};
  const options = (JSON.parse(new TextDecoder().decode(body)) as { options?: unknown }).options;
  if (options === undefined) return {};
  if (!options || typeof options !== 'object' || Array.isArray(options)) throw new ProtocolError(400, `"options" must be an object with any of ${EXPLAIN_OPTIONS.join(', ')}`);
  const unknown = Object.keys(options).filter((k) => !EXPLAIN_OPTIONS.includes(k));
  if (unknown.length) throw new ProtocolError(400, `unknown explain option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: use ${EXPLAIN_OPTIONS.join(', ')}`);
  // one request holds an engine (the server's only one without --threads): bound its
  // inferences (explain() itself allows 65,536)
  const samples = (options as { samples?: unknown }).samples;
  if (typeof samples === 'number' && samples > MAX_EXPLAIN_SAMPLES) throw new ProtocolError(400, `"samples" ${samples} is more than a server runs per request (${MAX_EXPLAIN_SAMPLES}); run edgeq explain locally for more`);
  return options as ExplainOptions;
}

export function explainResponse(name: string, model: Model, e: Explanation) {
  const label = model.labels[e.target];
  return {
    model: name, method: e.method, target: e.target, ...(label === undefined ? {} : { label }), baseScore: e.baseScore, baselineScore: e.baselineScore,
    samples: e.samples, shape: e.shape, settings: e.settings, attributions: Array.from(e.attributions),
    ...(e.segmentWeights ? { segmentWeights: Array.from(e.segmentWeights) } : {}),
  };
}
