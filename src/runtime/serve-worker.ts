// One engine instance of `edgeq serve --threads N` (src/runtime/serve.ts): loads every
// model from the bytes it is given, then runs the jobs the server posts, one at a time (a
// batch to predict, or one input to explain), answering with the outputs or the
// explanation, or with the HTTP status and message of the error (protocol.ts errorStatus:
// 400 for refused input, 500 for an engine fault).

import { parentPort, workerData } from 'node:worker_threads';
import { explain, type ExplainOptions, type Explanation } from './explain.js';
import { loadModel, type Model } from './node.js';
import { errorStatus } from './protocol.js';

export type WorkerJob = { id: number; name: string; input: Float32Array | Uint8Array; items: number }
  | { id: number; name: string; input: Float32Array | Uint8Array; explain: ExplainOptions };
export type WorkerReply = { id: number; output: Float32Array } | { id: number; explanation: Explanation }
  | { id: number; status: number; message: string } | { ready: true } | { failed: string };

const port = parentPort!;
const models = new Map<string, Model>();
try {
  for (const [name, bytes] of workerData.sources as [string, Uint8Array][]) models.set(name, await loadModel(bytes, { build: workerData.build }));
  port.postMessage({ ready: true } satisfies WorkerReply);
} catch (e) {
  port.postMessage({ failed: (e as Error).message } satisfies WorkerReply);
}
port.on('message', (job: WorkerJob) => {
  try {
    const model = models.get(job.name)!;
    if ('explain' in job) {
      port.postMessage({ id: job.id, explanation: explain(model, job.input, job.explain) } satisfies WorkerReply);
      return;
    }
    const output = model.predict(job.input, { batch: job.items });
    port.postMessage({ id: job.id, output } satisfies WorkerReply, [output.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ id: job.id, status: errorStatus(e), message: (e as Error).message } satisfies WorkerReply);
  }
});
