// One engine instance of `edgeq serve --threads N` (src/runtime/serve.ts): loads every
// model from the bytes it is given, then runs the batches the server posts, one at a time,
// answering with the outputs or with the HTTP status and message of the error
// (protocol.ts errorStatus: 400 for refused input, 500 for an engine fault).

import { parentPort, workerData } from 'node:worker_threads';
import { loadModel, type Model } from './node.js';
import { errorStatus } from './protocol.js';

export interface WorkerJob { id: number; name: string; input: Float32Array | Uint8Array; items: number }
export type WorkerReply = { id: number; output: Float32Array } | { id: number; status: number; message: string } | { ready: true } | { failed: string };

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
    const output = models.get(job.name)!.predict(job.input, { batch: job.items });
    port.postMessage({ id: job.id, output } satisfies WorkerReply, [output.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ id: job.id, status: errorStatus(e), message: (e as Error).message } satisfies WorkerReply);
  }
});
