// Training in a browser or webview: TF.js on navigator.gpu (WebGPU) where the page has
// an adapter, else on TF.js's cpu backend, named. Same architectures and loop as Node;
// the result comes back as TF.js model artifacts (model.json + weights) to save.

import * as tf from '@tensorflow/tfjs';
import { inputShapeOf, referenceModel, type Arch } from '../../../models/architectures.js';
import { imageTensors, trainLoop, type EpochLog } from './loop.js';

export interface BrowserTrainOptions {
  arch: Arch;
  train: { images: Uint8Array; labels: Uint8Array };
  test: { images: Uint8Array; labels: Uint8Array };
  epochs: number;
  batch?: number;
  lr?: number;
  seed?: number;
  backend?: 'auto' | 'webgpu' | 'cpu';
  onEpoch?: (e: EpochLog) => void;
  onBatch?: (epoch: number, fraction: number, loss: number) => void;
}

export interface BrowserTrainResult {
  backend: string;
  adapter?: string;
  history: EpochLog[];
  batchLosses: number[];
  modelJson: unknown; // model.json for weights.bin
  weights: ArrayBuffer;
}

const held: { adapter?: GPUAdapter | null; device?: GPUDevice } = {};

export async function chooseBrowserBackend(wanted: 'auto' | 'webgpu' | 'cpu' = 'auto'): Promise<{ name: string; adapter?: string; note: string }> {
  if (wanted !== 'cpu') {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    // TF.js requests the adapter itself (a second adapter of ours would be dropped and
    // take the device with it in Chromium)
    if (gpu) {
      const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
      // TF.js's own registration lets go of the adapter; Chromium then loses the device
      // mid-training ("A valid external Instance reference no longer exists"). This one
      // keeps both for the page's lifetime.
      tf.removeBackend('webgpu');
      tf.registerBackend('webgpu', async () => {
        held.adapter ??= await gpu.requestAdapter({ powerPreference: 'high-performance' });
        if (!held.adapter) throw new Error('navigator.gpu gave no adapter');
        const l = held.adapter.limits;
        held.device ??= await held.adapter.requestDevice({
          requiredLimits: {
            maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize, maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
            maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxBufferSize: l.maxBufferSize,
            maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX, maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
          },
        });
        return new WebGPUBackend(held.device, held.adapter.info);
      }, 3);
      if (await tf.setBackend('webgpu').catch(() => false) && held.adapter) {
        const name = [held.adapter.info?.vendor, held.adapter.info?.architecture].filter(Boolean).join(' ') || 'a WebGPU adapter';
        return { name: 'webgpu', adapter: name, note: `WebGPU on ${name}` };
      }
    }
    if (wanted === 'webgpu') throw new Error(gpu ? 'navigator.gpu gave no adapter' : 'this browser has no navigator.gpu (WebGPU); serve the page over https or localhost, or enable WebGPU');
  }
  await tf.setBackend('cpu');
  return { name: 'cpu', note: wanted === 'cpu' ? "TF.js's cpu backend (asked for)" : "no WebGPU adapter: TF.js's cpu backend" };
}

export async function trainInBrowser(o: BrowserTrainOptions): Promise<BrowserTrainResult> {
  const backend = await chooseBrowserBackend(o.backend);
  const shape = inputShapeOf(o.arch);
  const train = imageTensors(o.train.images, o.train.labels, shape);
  const test = imageTensors(o.test.images, o.test.labels, shape);
  const model = referenceModel(tf, o.arch, 10, o.seed);
  const batchLosses: number[] = [];
  const history = await trainLoop({
    model, x: train.x, y: train.y, test: { x: test.x, labels: o.test.labels }, epochs: o.epochs, batch: o.batch ?? 64, lr: o.lr ?? 1e-3,
    onBatch: (e, f, loss) => { batchLosses.push(loss); o.onBatch?.(e, f, loss); }, onEpoch: o.onEpoch,
  });
  let modelJson: unknown, weights = new ArrayBuffer(0);
  await model.save(tf.io.withSaveHandler(async (a) => {
    weights = a.weightData as ArrayBuffer;
    modelJson = { format: 'layers-model', generatedBy: 'edgeq (browser)', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] };
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  tf.dispose([train.x, train.y, test.x, test.y]);
  model.dispose();
  return { backend: backend.name, adapter: backend.adapter, history, batchLosses, modelJson, weights };
}
