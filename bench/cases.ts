// What bench/compare.ts (Node) and bench/browser.ts (Chromium) share, so that the two
// measure the same thing: the reference models, the timing protocol, and the dense int8
// quantization that ONNX Runtime Web int8 runs.

import * as tf from '@tensorflow/tfjs';
import { loadDataset, take } from '../src/toolchain/data/datasets.js';
import type { FloatGraph } from '../src/toolchain/convert/graph.js';
import { quantizeGraph } from '../src/toolchain/convert/quantize.js';
import type { EdgeqModel } from '../src/toolchain/format/model.js';

export interface Case { name: string; edgeq: string; float: string; data: string; shape: number[]; int8: boolean }
export const CASES: Case[] = [
  { name: 'reference CNN (Fashion-MNIST)', edgeq: 'models/cnn-fashion-mnist.edgeq', float: 'models/float/cnn-fashion-mnist/model.json', data: 'fashion-mnist', shape: [28, 28, 1], int8: true },
  // ONNX's int8 LSTM (DynamicQuantizeLSTM) is a com.microsoft contrib op that ORT-web lacks
  { name: 'reference LSTM (mnist rows)', edgeq: 'models/lstm-mnist.edgeq', float: 'models/float/lstm-mnist/model.json', data: 'mnist', shape: [28, 28], int8: false },
];

// the one timing protocol: warm-up calls per runtime, then timed calls in rounds; cold
// starts per runtime
export const protocol = (quick: boolean) => (quick
  ? { warmup: 20, runs1: 200, runs64: 20, rounds: 4, cold: 3 }
  : { warmup: 50, runs1: 1000, runs64: 100, rounds: 10, cold: 7 });

// The int8 weights ORT-web int8 also gets: the converter's quantization of the float
// graph, unpruned, calibrated on 500 training images.
export async function denseInt8(c: Case, graph: FloatGraph): Promise<EdgeqModel> {
  const train = take(await loadDataset(c.data, 'train'), 500);
  const cal = tf.tensor(train.images, [500, ...c.shape], 'float32').div(255);
  const int8 = quantizeGraph(graph, cal, { metadata: { name: c.name }, pixelRule: { mul: [1 / 255], add: [0] } }); // pixels 0–255 → 0–1
  cal.dispose();
  return int8;
}
