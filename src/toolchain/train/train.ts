// Training the reference models: data by name, a backend (WebGPU first), progress per
// epoch, and a TF.js Layers model (model.json + weights.bin) plus a JSON training log and
// its picture (training-curves.svg).

import * as tf from '@tensorflow/tfjs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inputShapeOf, referenceModel, type Arch } from '../../../models/architectures.js';
import { loadDataset, take, type Dataset } from '../data/datasets.js';
import { EDGEQ_VERSION } from '../../runtime/version.js';
import { chooseBackend, type BackendChoice } from './backend.js';
import { imageTensors, testMetrics, trainLoop, type EpochLog } from './loop.js';
import { svgChart } from '../report/svg.js';

export type { EpochLog };

export interface TrainOptions {
  arch: Arch;
  data: string;
  dataDir?: string;
  epochs: number;
  batch: number;
  lr: number;
  subset?: number; // training examples (default: all)
  backend?: 'auto' | 'webgpu' | 'wasm' | 'cpu';
  out: string;
  seed?: number;
  onBackend?: (b: BackendChoice) => void;
  onBatch?: (epoch: number, fraction: number, loss: number, acc: number) => void;
  onEpoch?: (e: EpochLog) => void;
}

export interface TrainLog {
  arch: Arch; dataset: string; backend: string; adapter?: string; epochs: number; batch: number; learningRate: number;
  trainExamples: number; testExamples: number; history: EpochLog[]; testAccuracy: number; seconds: number;
  started: string; finished: string; edgeq: string; node: string;
}

export function tensorsOf(d: Dataset, arch: Arch): { x: tf.Tensor; y: tf.Tensor } {
  return imageTensors(d.images, d.labels, inputShapeOf(arch));
}

// model.json + weights.bin, as tf.io would write them to disk.
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
    const json = {
      format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version['tfjs-layers']}`, convertedBy: `edgeq ${EDGEQ_VERSION}`,
      modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await writeFile(join(dir, 'weights.bin'), weights);
    files.push(join(dir, 'model.json'), join(dir, 'weights.bin'));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
  }));
  return files;
}

export async function trainReference(o: TrainOptions): Promise<{ model: tf.Sequential; log: TrainLog }> {
  const started = new Date();
  tf.enableProdMode(); // no development warnings in a command's output
  const backend = await chooseBackend(o.backend ?? 'auto');
  o.onBackend?.(backend);
  const trainSet = await loadDataset(o.data, 'train', { dir: o.dataDir });
  const train = o.subset ? take(trainSet, Math.min(o.subset, trainSet.count)) : trainSet;
  const test = await loadDataset(o.data, 'test', { dir: o.dataDir });
  const { x, y } = tensorsOf(train, o.arch);
  const t = tensorsOf(test, o.arch);
  const model = referenceModel(tf, o.arch, train.classes.length, o.seed);
  const history = await trainLoop({ model, x, y, test: { x: t.x, labels: test.labels }, epochs: o.epochs, batch: o.batch, lr: o.lr, onBatch: o.onBatch, onEpoch: o.onEpoch });
  const finished = new Date();
  const log: TrainLog = {
    arch: o.arch, dataset: o.data, backend: backend.name, adapter: backend.adapter, epochs: o.epochs, batch: o.batch, learningRate: o.lr,
    trainExamples: train.count, testExamples: test.count, history, testAccuracy: history.at(-1)?.testAccuracy ?? (await testMetrics(model, t.x, test.labels)).accuracy,
    seconds: (finished.getTime() - started.getTime()) / 1000, started: started.toISOString(), finished: finished.toISOString(),
    edgeq: EDGEQ_VERSION, node: process.version,
  };
  await saveLayersModel(model, o.out);
  await writeFile(join(o.out, 'training-log.json'), JSON.stringify(log, null, 2));
  await writeFile(join(o.out, 'training-curves.svg'), trainingCurves(log));
  tf.dispose([x, y, t.x, t.y]);
  return { model, log };
}

// training-curves.svg: loss and accuracy per epoch, training's against the test split's,
// so that over- and underfitting show at a glance.
export function trainingCurves(log: TrainLog): string {
  const series = (name: string, value: (e: EpochLog) => number) => ({ name, points: log.history.map((e) => [e.epoch, value(e)] as const) });
  const epoch = { label: 'epoch', integer: true };
  return svgChart({
    title: `${log.arch} on ${log.dataset}: ${log.trainExamples.toLocaleString('en-US')} training examples, ${log.backend}`,
    panels: [
      { title: 'loss', x: epoch, y: { label: 'cross-entropy' }, series: [series('train', (e) => e.loss), series(`test (${log.testExamples.toLocaleString('en-US')})`, (e) => e.testLoss)] },
      { title: 'accuracy', x: epoch, y: { label: 'accuracy', percent: true }, series: [series('train', (e) => e.accuracy), series(`test (${log.testExamples.toLocaleString('en-US')})`, (e) => e.testAccuracy)] },
    ],
  });
}
