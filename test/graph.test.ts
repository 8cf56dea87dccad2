// Graphs, not chains: a functional Keras-style model with a residual add, a channel
// concatenation and a squeeze-and-excitation gate (multiply by a per-channel vector),
// from TF.js through the converter into the engine. Plus what the engine refuses.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as F from '../assembly/format.js';
import { accuracy, argmaxRows } from '../src/runtime/classes.js';
import { loadModel, ModelFormatError } from '../src/runtime/node.js';
import { lowerLayersModel } from '../src/toolchain/convert/graph.js';
import { crc32 } from '../src/toolchain/format/crc32.js';
import { rng } from './helpers/quant.js';
import { loweringError } from './helpers/tf.js';
import { predictBothBuilds, trainAndConvert } from './helpers/models.js';

// 12×12 RGB, 3 classes: a bright horizontal bar, a vertical bar, or a blob
function images(n: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const r = rng(seed);
  const x = new Float32Array(n * 12 * 12 * 3), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = Math.floor(r() * 3), at = 2 + Math.floor(r() * 8);
    labels[i] = label;
    for (let y = 0; y < 12; y++) for (let xx = 0; xx < 12; xx++) for (let c = 0; c < 3; c++) {
      const on = label === 0 ? y === at : label === 1 ? xx === at : Math.abs(y - 6) < 2 && Math.abs(xx - 6) < 2;
      x[((i * 12 + y) * 12 + xx) * 3 + c] = (on ? 0.7 : 0) + 0.3 * r();
    }
  }
  return { x, labels };
}

function residualModel(): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
  const input = tf.input({ shape: [12, 12, 3] });
  const stem = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }).apply(input) as tf.SymbolicTensor;
  // residual block: two convs, added to the block's input, then ReLU
  let h = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(2) }).apply(stem) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: init(3) }).apply(h) as tf.SymbolicTensor;
  let res = tf.layers.add().apply([h, stem]) as tf.SymbolicTensor;
  res = tf.layers.activation({ activation: 'relu' }).apply(res) as tf.SymbolicTensor;
  // two branches concatenated on the channel axis
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'relu', kernelInitializer: init(4) }).apply(res) as tf.SymbolicTensor;
  const b = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu', depthwiseInitializer: init(5) }).apply(res) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor; // 4 + 8 channels
  // squeeze-and-excitation: a per-channel gate from the global average
  const squeeze = tf.layers.globalAveragePooling2d({}).apply(cat) as tf.SymbolicTensor;
  const gate = tf.layers.dense({ units: 12, activation: 'relu', kernelInitializer: init(6) }).apply(squeeze) as tf.SymbolicTensor;
  const gate3 = tf.layers.reshape({ targetShape: [1, 1, 12] }).apply(gate) as tf.SymbolicTensor;
  const gated = tf.layers.multiply().apply([cat, gate3]) as tf.SymbolicTensor;
  const pooled = tf.layers.maxPooling2d({ poolSize: 2 }).apply(gated) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(pooled) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(7) }).apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

let model: tf.LayersModel, bytes: Uint8Array;
const test = images(300, 21);

beforeAll(async () => {
  model = residualModel();
  bytes = await trainAndConvert(model, images(600, 20), [12, 12, 3], 5, 'residual');
}, 240_000);

describe('a functional model with a residual add, a concatenation and a gate', () => {
  it('lowers to a graph whose float run equals TF.js (BatchNormalization folded, the ReLU after the add fused into it)', async () => {
    const graph = lowerLayersModel(model);
    expect(graph.layers.map((l) => `${l.type}${l.inputs ? `<${l.inputs.join(',')}` : ''}`)).toEqual([
      'conv2d', 'conv2d', 'conv2d', 'add<2,0', 'conv2d', 'depthwise_conv2d<3', 'concatenate<4,5', 'global_avg_pool2d', 'dense', 'reshape', 'multiply<6,9', 'max_pool2d', 'flatten', 'dense', 'softmax',
    ]);
    expect(graph.layers[3]).toMatchObject({ type: 'add', activation: 'relu' });
    expect(await loweringError(model, graph, tf.tensor(test.x.subarray(0, 20 * 432), [20, 12, 12, 3]))).toBeLessThan(1e-5);
  });

  it('agrees ≥ 99 % top-1 with TF.js on its float inputs; SIMD and scalar builds bit-identical', async () => {
    const float = tf.tidy(() => (model.predict(tf.tensor(test.x, [300, 12, 12, 3])) as tf.Tensor).dataSync() as Float32Array);
    const want = argmaxRows(float, 300, 3);
    expect(accuracy(want, test.labels)).toBeGreaterThan(0.9);
    const agreement = accuracy(argmaxRows(await predictBothBuilds(bytes, test.x, 300), 300, 3), want);
    console.log(`residual / concat / gate model: int8 top-1 agreement with TF.js ${(100 * agreement).toFixed(1)} % on 300 images`);
    expect(agreement).toBeGreaterThanOrEqual(0.99);
  });

  it('inspect shows each op\'s two inputs; the arena keeps the skip connection alive across the block', async () => {
    const m = await loadModel(bytes);
    const layers = m.layers();
    const add = layers.find((l) => l.type === 'add')!;
    expect(add.input2?.shape).toEqual([12, 12, 8]);
    expect(add.activation).toBe('relu');
    expect(layers.find((l) => l.type === 'concatenate')!.output.shape).toEqual([12, 12, 12]);
    expect(layers.find((l) => l.type === 'multiply')!.input2?.shape).toEqual([1, 1, 12]);
    // the stem's output lives from op 0 to the add (op 3): at the add, it, the block's
    // second conv output and the add's output are alive at once (3 × 1,152 bytes), and
    // the planned arena holds at least what is alive at once
    expect(m.info.arenaLivePeak).toBeGreaterThanOrEqual(3 * 12 * 12 * 8);
    expect(m.info.arenaBytes - m.info.scratchBytes).toBeGreaterThanOrEqual(m.info.arenaLivePeak);
    m.dispose();
  });

  it('a file whose add reads a tensor not yet written, or of another shape, is refused with a typed error', async () => {
    const patch = (edit: (v: DataView, op: number) => void) => {
      const broken = bytes.slice();
      const v = new DataView(broken.buffer);
      const ops = v.getUint32(F.H_OPS_OFFSET, true);
      let o = 0;
      while (v.getInt32(ops + o * F.OP_RECORD_SIZE + F.O_TYPE, true) !== F.OP_ADD) o++;
      edit(v, ops + o * F.OP_RECORD_SIZE);
      v.setUint32(F.H_CRC32, crc32(broken.subarray(16)), true);
      return broken;
    };
    const out = (v: DataView, r: number) => v.getInt32(r + F.O_OUTPUT, true);
    // the second input: the output of the op after it, written later
    const later = patch((v, r) => v.setInt32(r + F.O_INPUT2, v.getInt32(r + F.OP_RECORD_SIZE + F.O_OUTPUT, true), true));
    await expect(loadModel(later)).rejects.toThrow(ModelFormatError);
    await expect(loadModel(later)).rejects.toThrow(/graph is invalid at tensor\/layer 3: a tensor is used before it is produced/);
    // its own output
    await expect(loadModel(patch((v, r) => v.setInt32(r + F.O_INPUT2, out(v, r), true)))).rejects.toThrow(/layer 3/);
    // the model input: 12×12×3 against 12×12×8
    await expect(loadModel(patch((v, r) => v.setInt32(r + F.O_INPUT2, 0, true)))).rejects.toThrow(/layer 3 is invalid: shapes/);
  });
});

describe('pruning a graph: the residual model at 60 % sparsity', () => {
  it('prunes while fine-tuning and converts; the sparse conv kernel runs inside the graph; int8 agrees with the pruned float model', async () => {
    const { convertLayersModel } = await import('../src/toolchain/convert/convert.js');
    const pruned = residualModel();
    pruned.setWeights(model.getWeights());
    const train = images(600, 20);
    const x = tf.tensor(train.x, [600, 12, 12, 3]), y = tf.tensor1d(train.labels, 'float32');
    const { bytes: prunedBytes } = await convertLayersModel(pruned, {
      name: 'residual-pruned', sparsity: 0.6, fineTune: { x, y, epochs: 4, batchSize: 32, learningRate: 0.002 }, calibration: x.slice(0, 200),
    });
    tf.dispose([x, y]);
    const m = await loadModel(prunedBytes);
    const convs = m.layers().filter((l) => l.type === 'conv2d');
    // the first conv stays dense (protect 'auto'); the residual block's 3×3 convs, pruned, run sparse
    expect(convs.filter((l) => l.kernel === 'sparse').length).toBeGreaterThanOrEqual(2);
    const zeros = convs.slice(1).flatMap((l) => l.weights!.filter((w) => w.role === 'weights').map((w) => 1 - w.nonZero! / w.shape.reduce((a, b) => a * b, 1)));
    expect(Math.max(...zeros)).toBeGreaterThan(0.55);
    expect(prunedBytes.length).toBeLessThan(bytes.length);
    m.dispose();
    // its predictions spread over the classes, so agreeing with them can fail
    const float = tf.tidy(() => (pruned.predict(tf.tensor(test.x, [300, 12, 12, 3])) as tf.Tensor).dataSync() as Float32Array);
    const want = argmaxRows(float, 300, 3);
    const counts = [0, 1, 2].map((c) => want.filter((v) => v === c).length);
    expect(Math.max(...counts)).toBeLessThan(0.9 * 300);
    const agreement = accuracy(argmaxRows(await predictBothBuilds(prunedBytes, test.x, 300), 300, 3), want);
    console.log(`residual model, 60 % pruned and fine-tuned: float accuracy ${(100 * accuracy(want, test.labels)).toFixed(1)} % (classes ${counts.join(' / ')}), int8 agreement ${(100 * agreement).toFixed(1)} %`);
    expect(accuracy(want, test.labels)).toBeGreaterThan(0.8);
    // fine-tuning shuffles (not seeded), so the pruned model differs run to run and some
    // runs leave a few images near a class boundary: 98.7–100 % seen
    expect(agreement).toBeGreaterThanOrEqual(0.97);
  }, 300_000);
});

describe('image-to-image: a small U-Net with zero padding, upsampling and a skip concatenation', () => {
  it('lowers exactly in float, and the int8 model\'s output is within 30 dB SNR of TF.js float', async () => {
    await tf.setBackend('cpu');
    const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
    const input = tf.input({ shape: [16, 16, 2] });
    const e1 = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(11) }).apply(input) as tf.SymbolicTensor;
    // not the pads 'same' would add ([0, 1]), so it is not folded into the conv: its own op
    const padded = tf.layers.zeroPadding2d({ padding: 1 }).apply(e1) as tf.SymbolicTensor;
    const down = tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu', kernelInitializer: init(12) }).apply(padded) as tf.SymbolicTensor;
    const up = tf.layers.upSampling2d({ size: [2, 2] }).apply(down) as tf.SymbolicTensor;
    const merged = tf.layers.concatenate().apply([up, e1]) as tf.SymbolicTensor;
    const out = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', kernelInitializer: init(13) }).apply(merged) as tf.SymbolicTensor;
    const unet = tf.model({ inputs: input, outputs: out });
    const graph = lowerLayersModel(unet);
    expect(graph.layers.map((l) => l.type)).toEqual(['conv2d', 'pad2d', 'conv2d', 'upsample2d', 'concatenate', 'conv2d']);
    const r = rng(77);
    const x = Float32Array.from({ length: 100 * 512 }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.3 * r());
    expect(await loweringError(unet, graph, tf.tensor(x.subarray(0, 8 * 512), [8, 16, 16, 2]))).toBeLessThan(1e-5);
    const { bytes } = await (await import('../src/toolchain/convert/convert.js')).convertLayersModel(unet, { name: 'unet', calibration: tf.tensor(x.subarray(0, 50 * 512), [50, 16, 16, 2]) });
    const test = x.subarray(50 * 512);
    const float = (unet.predict(tf.tensor(test, [50, 16, 16, 2])) as tf.Tensor).dataSync();
    const int8 = await predictBothBuilds(bytes, test, 50);
    let signal = 0, noise = 0;
    for (let i = 0; i < float.length; i++) { signal += float[i] ** 2; noise += (float[i] - int8[i]) ** 2; }
    const snr = 10 * Math.log10(signal / noise);
    console.log(`U-Net: int8 output SNR ${snr.toFixed(1)} dB against TF.js float`);
    expect(snr).toBeGreaterThanOrEqual(30);
    const m = await loadModel(bytes);
    expect(m.isClassifier).toBe(false);
    expect(m.layers().map((l) => [l.type, l.factors ?? l.pads ?? null])).toEqual([
      ['conv2d', null], ['pad2d', [1, 1, 1, 1]], ['conv2d', null], ['upsample2d', [2, 2]], ['concatenate', null], ['conv2d', null],
    ]);
    m.dispose();
  });

  it('GlobalMaxPooling2D lowers to the engine\'s global max pool', async () => {
    const m = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 3 }), tf.layers.globalMaxPooling2d({}), tf.layers.dense({ units: 2 })] });
    const graph = lowerLayersModel(m);
    expect(graph.layers.map((l) => l.type)).toEqual(['conv2d', 'global_max_pool2d', 'dense']);
    expect(await loweringError(m, graph, tf.randomNormal([4, 6, 6, 3], 0, 1, 'float32', 3))).toBeLessThan(1e-5);
  });
});
