// TF.js Graph models: the MNIST CNN as tensorflowjs_converter would write it, and
// hand-written graphs of the ops of real edge image models (MobileNet blocks, residual
// adds, concatenation, squeeze-and-excitation gates, upsampling), lowered to edgeq's
// float graph, converted, and compared with TF.js executing the same graph model; shapes
// computed in the graph (Keras' Flatten with a dynamic batch) and input normalization as
// SavedModels carry them. Also zero padding folded into the convolution after it, from
// Layers and Graph models.

import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { argmaxRows } from '../src/runtime/classes.js';
import { main } from '../src/runtime/cli/main.js';
import { convertLayersModel, encodeFloatGraph } from '../src/toolchain/convert/convert.js';
import { lowerLayersModel, runFloat, type FloatGraph, type FloatLayer } from '../src/toolchain/convert/graph.js';
import { loadGraphModelFile } from '../src/toolchain/convert/graph-model.js';
import { loadLayersModelFile } from '../src/toolchain/convert/load.js';
import { ConvertError, UnsupportedOpError } from '../src/runtime/node.js';
import { attrs, GraphWriter, writeGraphModel } from './helpers/graph-model.js';
import { predictBothBuilds } from './helpers/models.js';
import { npy } from './helpers/npy.js';
import { rng } from './helpers/quant.js';
import { loweringError } from './helpers/tf.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.enableProdMode();
});

describe('TF.js Graph models', () => {
  it('recovers the layers of a conv / pool / dense graph, fused and unfused ops alike', async () => {
    const path = writeGraphModel();
    const { model, graph } = await loadGraphModelFile(path);
    expect(graph.layers.map((l) => `${l.type}${'activation' in l ? `:${l.activation}` : ''}`)).toEqual(
      ['conv2d:relu', 'max_pool2d', 'conv2d:relu', 'max_pool2d', 'flatten', 'dense:relu', 'dense:relu', 'dense:none', 'softmax']);
    const x = tf.randomUniform([6, 28, 28, 1], 0, 1, 'float32', 4);
    const want = (model.predict(x) as tf.Tensor).dataSync();
    const outs = runFloat(graph, x);
    const got = outs[outs.length - 1].dataSync();
    const layers = await loadLayersModelFile(new URL('./fixtures/keras-mnist-cnn/model.json', import.meta.url).pathname);
    const keras = (layers.model.predict(x) as tf.Tensor).dataSync();
    let err = 0, errKeras = 0;
    for (let i = 0; i < want.length; i++) { err = Math.max(err, Math.abs(want[i] - got[i])); errKeras = Math.max(errKeras, Math.abs(keras[i] - got[i])); }
    expect(err).toBeLessThan(1e-5);
    expect(errKeras).toBeLessThan(1e-5);
  });

  it('edgeq convert takes it: int8 agrees with the float graph on mnist test digits', async () => {
    const path = writeGraphModel();
    let printed = '';
    const out = join(dirname(path), 'graph.edgeq'), json = join(dirname(path), 'report.json');
    const code = await main(['convert', path, '--out', out, '--calibration', 'mnist', '--eval', 'mnist', '--eval-size', '600', '--json', json],
      { out: (s) => { printed += s; }, err: (s) => { printed += s; } });
    expect(code, printed).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.eval.agreement).toBeGreaterThanOrEqual(0.99);
    expect(report.layers).toHaveLength(5);
  });

  it('names an op it cannot convert, with its position and what it can', async () => {
    const path = writeGraphModel({ name: 'wave', op: 'Sin' });
    const at = JSON.parse(readFileSync(path, 'utf8')).modelTopology.node.findIndex((n: { name: string }) => n.name === 'wave');
    await expect(loadGraphModelFile(path)).rejects.toThrow(UnsupportedOpError);
    await expect(loadGraphModelFile(path)).rejects.toThrow(new RegExp(`node ${at} 'wave' \\(Sin\\): op Sin is not one edgeq converts from graph models \\(supported: Placeholder, .*FusedDepthwiseConv2dNative.*ResizeNearestNeighbor`));
  });
});

// n images [h, w, c] with values in (−1, 1) as MobileNets take them: a few smooth waves of
// random frequency, phase and colour, plus noise, in a random contrast and tint, so that
// outputs vary from image to image
function images(n: number, [h, w, c]: number[], seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n * h * w * c);
  for (let i = 0; i < n; i++) {
    const waves = Array.from({ length: 3 }, () => ({ fy: 1.5 * r(), fx: 1.5 * r(), phase: 6.3 * r(), colour: Array.from({ length: c }, () => 2 * r() - 1) }));
    const contrast = 0.2 + 1.3 * r(), tint = Array.from({ length: c }, () => r() - 0.5);
    for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) {
      x[((i * h + y) * w + xx) * c + ch] = Math.tanh(tint[ch] + contrast * (0.2 * (r() - 0.5) + waves.reduce((s, v) => s + v.colour[ch] * Math.sin(v.fy * y + v.fx * xx + v.phase), 0)));
    }
  }
  return x;
}

// SNR (dB) of b against a, as `edgeq convert --eval` reports it
function snrDb(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let signal = 0, noise = 0;
  for (let i = 0; i < a.length; i++) { signal += a[i] ** 2; noise += (a[i] - b[i]) ** 2; }
  return 10 * Math.log10(signal / noise);
}

// The share of a's energy in how each output value varies from example to example (per
// values each): an output that barely depends on its input would pass an SNR test on its
// constant part alone
function variation(a: ArrayLike<number>, per: number): number {
  const n = a.length / per;
  const mean = new Float64Array(per);
  for (let i = 0; i < a.length; i++) mean[i % per] += a[i] / n;
  let total = 0, varying = 0;
  for (let i = 0; i < a.length; i++) { total += a[i] ** 2; varying += (a[i] - mean[i % per]) ** 2; }
  return varying / total;
}

const describeLayers = (g: FloatGraph) => g.layers.map((l) => [
  l.type, 'activation' in l ? l.activation : '', 'padding' in l ? l.padding : '', l.inputs ? `<${l.inputs.join(',')}` : '',
].filter(Boolean).join(' '));

const CAL = 100, TEST = 200;

// The graph model at `path` on varied images (`pixels`: scaled to 0–255): TF.js's outputs,
// the lowered float graph's largest deviation from them, and the int8 model's (converted
// from the first CAL images, by `edgeq convert` or the function it calls, run on both
// builds) SNR against them.
async function compare(path: string, shape: number[], seed: number, viaCli = false, pixels = false) {
  await tf.setBackend('cpu');
  const { model, graph } = await loadGraphModelFile(path);
  const per = shape.reduce((a, b) => a * b, 1);
  const x = images(CAL + TEST, shape, seed).map((v) => (pixels ? 127.5 * (v + 1) : v));
  const cal = x.subarray(0, CAL * per), test = x.subarray(CAL * per);
  const testTensor = tf.tensor(test, [TEST, ...shape]);
  const float = (model.predict(testTensor) as tf.Tensor).dataSync() as Float32Array;
  const outs = runFloat(graph, testTensor);
  const lowered = outs[outs.length - 1].dataSync();
  const scale = float.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const loweringError = float.reduce((m, v, i) => Math.max(m, Math.abs(v - lowered[i])), 0) / scale;
  tf.dispose([testTensor, ...outs]);
  let bytes: Uint8Array;
  if (viaCli) {
    const dir = dirname(path), out = join(dir, 'model.edgeq');
    writeFileSync(join(dir, 'cal.npy'), npy('<f4', [CAL, ...shape], cal));
    writeFileSync(join(dir, 'test.npy'), npy('<f4', [TEST, ...shape], test));
    let printed = '';
    const code = await main(['convert', path, '--out', out, '--calibration', join(dir, 'cal.npy'), '--eval', join(dir, 'test.npy'), '--json', join(dir, 'report.json')],
      { out: (s) => { printed += s; }, err: (s) => { printed += s; } });
    expect(code, printed).toBe(0);
    bytes = readFileSync(out);
    await tf.setBackend('cpu');
  } else {
    const calTensor = tf.tensor(cal, [CAL, ...shape]);
    bytes = (await encodeFloatGraph(graph, { name: 'graph', calibration: calTensor })).bytes;
    calTensor.dispose();
  }
  const int8 = await predictBothBuilds(bytes, test, TEST);
  return { graph, float, int8, loweringError, snr: snrDb(float, int8), variation: variation(float, float.length / TEST), dir: dirname(path) };
}

// MobileNet v1 / v2 blocks as tensorflowjs_converter writes them from Keras (weights as
// float16): ZeroPadding + a VALID stride-2 conv, fused depthwise and pointwise convs with
// ReLU6, an unfused depthwise conv with batch norm and ReLU6 after it, global average
// pooling as Mean, a classifier. The batch norms' statistics and the classifier are set
// from the activations on `calibration`, as training would set them, so that the class
// varies with the image.
async function mobileNetGraph(calibration: tf.Tensor): Promise<string> {
  const g = new GraphWriter([16, 16, 3], 1);
  const q = 'float16' as const;
  // per channel mean and standard deviation of node's output on the calibration images
  const stats = async (node: string) => {
    const probe = await loadGraphModelFile(g.write([node]));
    return tf.tidy(() => {
      const y = probe.model.predict(calibration) as tf.Tensor;
      const { mean, variance } = tf.moments(y, [...Array(y.rank - 1).keys()]);
      return { mean: mean.dataSync() as Float32Array, std: tf.sqrt(variance).dataSync() as Float32Array };
    });
  };
  const bn = async (name: string, node: string) => {
    const { mean, std } = await stats(node);
    g.op(name, 'FusedBatchNormV3', [node, g.uniform(`${name}/gamma`, [mean.length], 0.6, 1.4, q), g.uniform(`${name}/beta`, [mean.length], -0.3, 0.3, q),
      g.constant(`${name}/mean`, [mean.length], mean, 'float32', q), g.constant(`${name}/variance`, [mean.length], std.map((s) => s * s), 'float32', q)], attrs.batchNorm(0.001));
  };
  g.op('pad0', 'Pad', ['x', g.constant('pad0/paddings', [4, 2], [0, 0, 0, 1, 0, 1, 0, 0], 'int32')]);
  g.op('conv0', '_FusedConv2D', ['pad0', g.kernel('conv0/w', [3, 3, 3, 8], 27, q), g.uniform('conv0/b', [8], -0.2, 0.2, q)], attrs.conv(2, 'VALID', ['BiasAdd', 'Relu6']));
  g.op('dw1', 'FusedDepthwiseConv2dNative', ['conv0', g.kernel('dw1/w', [3, 3, 8, 1], 9, q), g.uniform('dw1/b', [8], -0.2, 0.2, q)], attrs.conv(1, 'SAME', ['BiasAdd', 'Relu6']));
  g.op('pw1', '_FusedConv2D', ['dw1', g.kernel('pw1/w', [1, 1, 8, 16], 8, q), g.uniform('pw1/b', [16], -0.2, 0.2, q)], attrs.conv(1, 'VALID', ['BiasAdd', 'Relu6']));
  // pads [1, 1] where 'same' would pad [0, 1]: stays its own op
  g.op('pad2', 'Pad', ['pw1', g.constant('pad2/paddings', [4, 2], [0, 0, 1, 1, 1, 1, 0, 0], 'int32')]);
  g.op('dw2', 'DepthwiseConv2dNative', ['pad2', g.kernel('dw2/w', [3, 3, 16, 2], 9, q)], attrs.conv(2, 'VALID'));
  await bn('bn2', 'dw2');
  g.op('relu2', 'Relu6', ['bn2']);
  g.op('pw2', 'Conv2D', ['relu2', g.kernel('pw2/w', [1, 1, 32, 24], 32, q)], attrs.conv(1, 'VALID'));
  await bn('bn3', 'pw2');
  g.op('relu3', 'Relu', ['bn3']);
  g.op('gap', 'Mean', ['relu3', g.ints('gap/axes', 1, 2)], attrs.mean(false));
  const features = await stats('gap');
  const r = rng(2);
  const w = Float32Array.from({ length: 24 * 5 }, (_, i) => (2 * r() - 1) / (features.std[Math.floor(i / 5)] + 1e-3));
  const b = Float32Array.from({ length: 5 }, (_, j) => -features.mean.reduce((s, m, i) => s + m * w[i * 5 + j], 0));
  g.op('fc', 'MatMul', ['gap', g.constant('fc/w', [24, 5], w, 'float32', q)], attrs.matMul());
  g.op('logits', 'BiasAdd', ['fc', g.constant('fc/b', [5], b, 'float32', q)]);
  g.op('probs', 'Softmax', ['logits']);
  return g.write(['probs']);
}

// A residual block (weights as uint8): the stem read by the block and by the add, a bias
// as AddV2 of a constant and a batch norm folded into the conv before them, Identity on
// the way (and between a kernel and its conv, as frozen TF 1 graphs have it), the ReLU
// after the add fused into it; a batch norm whose conv has a second reader, which
// becomes a channel affine op.
function residualGraph(): string {
  const g = new GraphWriter([12, 12, 4], 2);
  const q = 'uint8' as const;
  const bn = (name: string, c: number) => [
    g.uniform(`${name}/gamma`, [c], 0.6, 1.4, q), g.uniform(`${name}/beta`, [c], -0.3, 0.3, q), g.uniform(`${name}/mean`, [c], -0.3, 0.3, q), g.uniform(`${name}/variance`, [c], 0.5, 1.5, q)];
  g.op('stem', '_FusedConv2D', ['x', g.kernel('stem/w', [3, 3, 4, 8], 36, q), g.uniform('stem/b', [8], -0.2, 0.2, q)], attrs.conv(1, 'SAME', ['BiasAdd', 'Relu']));
  g.op('a1/w/read', 'Identity', [g.kernel('a1/w', [3, 3, 8, 8], 72, q)]);
  g.op('a1', 'Conv2D', ['stem', 'a1/w/read'], attrs.conv(1, 'SAME'));
  g.op('a1/bias', 'AddV2', ['a1', g.uniform('a1/b', [8], -0.2, 0.2, q)]);
  g.op('a1/bn', 'FusedBatchNormV3', ['a1/bias', ...bn('a1/bn', 8)], attrs.batchNorm(0.001));
  g.op('a1/id', 'Identity', ['a1/bn']);
  g.op('sum', 'AddV2', ['a1/id', 'stem']);
  g.op('sum/relu', 'Relu', ['sum']);
  g.op('c3', 'Conv2D', ['sum/relu', g.kernel('c3/w', [1, 1, 8, 8], 8, q)], attrs.conv(1, 'VALID'));
  g.op('c3/bn', 'FusedBatchNormV3', ['c3', ...bn('c3/bn', 8)], attrs.batchNorm(0.001));
  g.op('both', 'AddV2', ['c3/bn', 'c3']);
  return g.write(['both']);
}

// An encoder-decoder with a squeeze-and-excitation gate: a fused LeakyReLU and a fused ELU
// (activation ops after their convs), max pooling, Mean keeping its dims → Squeeze →
// MatMul → Sigmoid → Reshape to [1, 1, C] → Mul by the gate, nearest resize ×2,
// concatenation with the encoder (read twice), a LeakyReLU op, a conv whose scalar shift
// and per-channel scale (the constant first) fold into it, and Tanh.
function gatedDecoderGraph(): string {
  const g = new GraphWriter([8, 8, 3], 3);
  g.op('e1', '_FusedConv2D', ['x', g.kernel('e1/w', [3, 3, 3, 8], 27), g.uniform('e1/b', [8], -0.2, 0.2)], { ...attrs.conv(1, 'SAME', ['BiasAdd', 'LeakyRelu']), leakyrelu_alpha: { f: 0.1 } });
  g.op('p', 'MaxPool', ['e1'], attrs.pool(2, 2, 'VALID'));
  g.op('e2', '_FusedConv2D', ['p', g.kernel('e2/w', [3, 3, 8, 8], 72), g.uniform('e2/b', [8], -0.2, 0.2)], attrs.conv(1, 'SAME', ['BiasAdd', 'Elu']));
  g.op('se', 'Mean', ['e2', g.ints('se/axes', 1, 2)], attrs.mean(true));
  g.op('se/flat', 'Squeeze', ['se'], attrs.ints('squeeze_dims', 1, 2));
  g.op('se/fc', '_FusedMatMul', ['se/flat', g.kernel('se/w', [8, 8], 2), g.uniform('se/b', [8], -0.5, 0.5)], attrs.matMul(['BiasAdd']));
  g.op('se/sigmoid', 'Sigmoid', ['se/fc']);
  g.op('se/gate', 'Reshape', ['se/sigmoid', g.ints('se/shape', -1, 1, 1, 8)]);
  g.op('gated', 'Mul', ['e2', 'se/gate']);
  g.op('up', 'ResizeNearestNeighbor', ['gated', g.ints('up/size', 8, 8)], attrs.b({ align_corners: false, half_pixel_centers: true }));
  g.op('cat', 'ConcatV2', ['up', 'e1', g.constant('cat/axis', [], [-1], 'int32')], { ...attrs.T, N: { i: '2' }, Tidx: { type: 'DT_INT32' } });
  g.op('leaky', 'LeakyRelu', ['cat'], attrs.f('alpha', 0.2));
  g.op('out', 'Conv2D', ['leaky', g.kernel('out/w', [3, 3, 16, 4], 144)], attrs.conv(1, 'SAME'));
  g.op('shifted', 'AddV2', ['out', g.constant('shift', [], [0.1])]);
  g.op('scaled', 'Mul', [g.constant('gain', [4], [1.5, -0.7, 1, 2]), 'shifted']);
  g.op('y', 'Tanh', ['scaled']);
  return g.write(['y']);
}

// A conv classifier whose Flatten is Keras' in a SavedModel with a dynamic batch: Reshape
// to a shape computed from its input's, Pack([StridedSlice(Shape(x), [0], [1], [1],
// shrink_axis_mask 1), −1]); or (`concat`) ConcatV2 of Shape(x)[:1] and
// Prod(Shape(x)[1:], keep_dims), through Cast and Identity. Shape reads the ReLU's output
// besides the Reshape: the ReLU still fuses into the conv.
function flattenGraph(variant: 'pack' | 'concat'): string {
  const g = new GraphWriter([10, 10, 3], 6);
  g.op('conv', '_FusedConv2D', ['x', g.kernel('conv/w', [3, 3, 3, 8], 27), g.uniform('conv/b', [8], -0.2, 0.2)], attrs.conv(2, 'VALID', ['BiasAdd']));
  g.op('relu', 'Relu', ['conv']);
  g.op('shape', 'Shape', ['relu'], attrs.shape);
  if (variant === 'pack') {
    g.op('batch', 'StridedSlice', ['shape', g.ints('batch/begin', 0), g.ints('batch/end', 1), g.ints('batch/strides', 1)], attrs.slice({ shrink: 1 }));
    g.op('target', 'Pack', ['batch', g.constant('target/rest', [], [-1], 'int32')], attrs.pack(2));
  } else {
    g.op('batch', 'StridedSlice', ['shape', g.ints('batch/begin', 0), g.ints('batch/end', 1), g.ints('batch/strides', 1)], attrs.slice());
    g.op('dims', 'StridedSlice', ['shape', g.ints('dims/begin', 1), g.ints('dims/end', 0), g.ints('dims/strides', 1)], attrs.slice({ end: 1 }));
    g.op('count', 'Prod', ['dims', g.ints('count/axis', 0)], attrs.prod(true));
    g.op('joined', 'ConcatV2', ['batch', 'count', g.constant('joined/axis', [], [0], 'int32')], attrs.concat(2));
    g.op('cast', 'Cast', ['joined'], attrs.cast);
    g.op('target', 'Identity', ['cast'], attrs.int32);
  }
  g.op('flat', 'Reshape', ['relu', 'target']);
  // logits of about unit size, so that the class varies with the image
  g.op('fc', '_FusedMatMul', ['flat', g.kernel('fc/w', [128, 5], 10), g.uniform('fc/b', [5], -0.5, 0.5)], attrs.matMul(['BiasAdd']));
  g.op('probs', 'Softmax', ['fc']);
  return g.write(['probs']);
}

// Input normalization on pixels as SavedModels carry it: Sub of a per-channel mean and
// RealDiv by a per-channel standard deviation (then an Identity), read by a 'valid' conv,
// which it folds into, and by a 'same' conv, whose zero padding would become the mean:
// one channel affine op at the input for it; Mul by 1/255 (no offset) carried through a
// flatten into the matrix product after it.
function normalizedGraph(): string {
  const g = new GraphWriter([12, 12, 3], 7);
  g.op('centred', 'Sub', ['x', g.constant('mean', [3], [120, 110, 100])]);
  g.op('scaled', 'RealDiv', ['centred', g.constant('std', [3], [60, 64, 70])]);
  g.op('norm', 'Identity', ['scaled']);
  g.op('a', '_FusedConv2D', ['norm', g.kernel('a/w', [3, 3, 3, 8], 27), g.uniform('a/b', [8], -0.2, 0.2)], attrs.conv(1, 'VALID', ['BiasAdd', 'Relu']));
  g.op('a/mean', 'Mean', ['a', g.ints('a/axes', 1, 2)], attrs.mean(false));
  g.op('b', '_FusedConv2D', ['norm', g.kernel('b/w', [3, 3, 3, 8], 27), g.uniform('b/b', [8], -0.2, 0.2)], attrs.conv(2, 'SAME', ['BiasAdd', 'Relu']));
  g.op('b/mean', 'Mean', ['b', g.ints('b/axes', 1, 2)], attrs.mean(false));
  g.op('unit', 'Mul', ['x', g.constant('unit/scale', [], [1 / 255])]);
  g.op('flat', 'Reshape', ['unit', g.ints('flat/shape', -1, 432)]);
  g.op('c', 'MatMul', ['flat', g.kernel('c/w', [432, 8], 36)], attrs.matMul());
  g.op('ab', 'AddV2', ['a/mean', 'b/mean']);
  g.op('abc', 'AddV2', ['ab', 'c']);
  g.op('fc', '_FusedMatMul', ['abc', g.kernel('fc/w', [8, 5], 2), g.uniform('fc/b', [5], -0.5, 0.5)], attrs.matMul(['BiasAdd']));
  g.op('probs', 'Softmax', ['fc']);
  return g.write(['probs']);
}

describe('Graph models of edge image models: a DAG of TF ops, int8 against TF.js running the same graph', () => {
  it('MobileNet blocks: fused depthwise / pointwise convs, batch norm folded, Pad folded into the stride-2 conv where it is \'same\'; via edgeq convert', async () => {
    await tf.setBackend('cpu');
    const calibration = tf.tensor(images(CAL, [16, 16, 3], 11), [CAL, 16, 16, 3]);
    const path = await mobileNetGraph(calibration);
    calibration.dispose();
    const { graph, float, int8, loweringError, snr, dir } = await compare(path, [16, 16, 3], 11, true);
    expect(describeLayers(graph)).toEqual([
      'conv2d relu6 same', 'depthwise_conv2d relu6 same', 'conv2d relu6 valid', 'pad2d', 'depthwise_conv2d relu6 valid', 'conv2d relu valid', 'global_avg_pool2d', 'dense none', 'softmax',
    ]);
    expect(graph.layers[3]).toMatchObject({ pads: [1, 1, 1, 1] });
    expect(loweringError).toBeLessThan(1e-4);
    const want = argmaxRows(float, TEST, 5), got = argmaxRows(int8, TEST, 5);
    expect(new Set(want).size).toBe(5); // the class varies with the image
    const agreement = want.filter((c, i) => c === got[i]).length / TEST;
    console.log(`MobileNet-style graph model: int8 top-1 agreement with TF.js ${(100 * agreement).toFixed(1)} % (probabilities' SNR ${snr.toFixed(1)} dB)`);
    // untrained, its images lie near the class boundaries (94.5–97 % over seeds 11–15); a
    // wrongly lowered graph agrees on about one in five
    expect(agreement).toBeGreaterThanOrEqual(0.9);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.eval.agreement).toBeGreaterThanOrEqual(0.9);
  });

  it('a residual block: a tensor read by two nodes, AddV2 of two branches with the ReLU fused into it; uint8 weights', async () => {
    const { graph, loweringError, snr, variation } = await compare(residualGraph(), [12, 12, 4], 12);
    expect(describeLayers(graph)).toEqual([
      'conv2d relu same', 'conv2d none same', 'add relu <1,0', 'conv2d none valid', 'channel_affine', 'add none <4,3',
    ]);
    expect(loweringError).toBeLessThan(1e-4);
    expect(variation).toBeGreaterThan(0.2);
    console.log(`residual graph model: int8 SNR ${snr.toFixed(1)} dB against TF.js`);
    expect(snr).toBeGreaterThanOrEqual(30);
  });

  it('concatenation, a sigmoid gate (Mul), LeakyReLU, ELU, Tanh and ResizeNearestNeighbor; constants folded into the last conv', async () => {
    const { graph, loweringError, snr, variation } = await compare(gatedDecoderGraph(), [8, 8, 3], 13);
    expect(describeLayers(graph)).toEqual([
      'conv2d none same', 'activation leakyRelu', 'max_pool2d valid', 'conv2d none same', 'activation elu', 'global_avg_pool2d', 'reshape', 'flatten', 'dense none', 'activation sigmoid', 'reshape',
      'multiply none <4,10', 'upsample2d', 'concatenate <12,1', 'activation leakyRelu', 'conv2d none same', 'activation tanh',
    ]);
    expect(graph.layers[1]).toMatchObject({ alpha: expect.closeTo(0.1, 6) });
    expect(graph.layers[10]).toMatchObject({ shape: [1, 1, 8] });
    expect(graph.layers[12]).toMatchObject({ factors: [2, 2] });
    expect(loweringError).toBeLessThan(1e-4);
    expect(variation).toBeGreaterThan(0.2);
    console.log(`gated decoder graph model: int8 SNR ${snr.toFixed(1)} dB against TF.js`);
    expect(snr).toBeGreaterThanOrEqual(30);
  });

  for (const variant of ['pack', 'concat'] as const) {
    it(`Keras' Flatten with a dynamic batch (${variant === 'pack' ? 'Shape → StridedSlice → Pack' : 'Shape → StridedSlice, Prod → ConcatV2 → Cast'} → Reshape): the shape evaluated, no layer of its own; via edgeq convert`, async () => {
      const { graph, float, int8, loweringError, snr } = await compare(flattenGraph(variant), [10, 10, 3], 15, true);
      expect(describeLayers(graph)).toEqual(['conv2d relu valid', 'flatten', 'dense none', 'softmax']);
      expect(loweringError).toBeLessThan(1e-4);
      const want = argmaxRows(float, TEST, 5), got = argmaxRows(int8, TEST, 5);
      const agreement = want.filter((c, i) => c === got[i]).length / TEST;
      console.log(`Flatten (${variant}) graph model: classes ${new Set(want).size}, int8 top-1 agreement with TF.js ${(100 * agreement).toFixed(1)} % (SNR ${snr.toFixed(1)} dB)`);
      expect(new Set(want).size).toBeGreaterThanOrEqual(3); // the class varies with the image
      expect(agreement).toBeGreaterThanOrEqual(0.9); // 100 % with seed 15
    });
  }

  it('input normalization (Sub, RealDiv, Mul by constants) folded into the first conv or matrix product; a channel affine op where it cannot fold; via edgeq convert', async () => {
    const { graph, float, int8, loweringError, snr } = await compare(normalizedGraph(), [12, 12, 3], 16, true, true);
    // the 'valid' conv and the matrix product read the pixels (through the flatten)
    expect(describeLayers(graph)).toEqual([
      'conv2d relu valid', 'global_avg_pool2d', 'channel_affine <-1', 'conv2d relu same', 'global_avg_pool2d', 'add none <1,4', 'flatten <-1', 'dense none', 'add none <5,7', 'dense none', 'softmax',
    ]);
    // (x − mean) / std = x · (1/std) − mean/std
    const affine = graph.layers[2] as Extract<FloatLayer, { type: 'channel_affine' }>;
    [1 / 60, 1 / 64, 1 / 70].forEach((v, i) => expect(affine.scale[i]).toBeCloseTo(v, 7));
    [-2, -110 / 64, -100 / 70].forEach((v, i) => expect(affine.shift[i]).toBeCloseTo(v, 6));
    expect(loweringError).toBeLessThan(1e-4);
    const want = argmaxRows(float, TEST, 5), got = argmaxRows(int8, TEST, 5);
    expect(new Set(want).size).toBeGreaterThanOrEqual(3);
    const agreement = want.filter((c, i) => c === got[i]).length / TEST;
    console.log(`normalized graph model: int8 top-1 agreement with TF.js ${(100 * agreement).toFixed(1)} % (SNR ${snr.toFixed(1)} dB)`);
    expect(agreement).toBeGreaterThanOrEqual(0.9); // 99 % with seed 16
  });

  it('a shape it cannot evaluate, a reshape that moves the batch, and Sub / RealDiv it cannot fold are refused naming the node and op', async () => {
    // x [4, 4, 2] reshaped to the shape `target` computes from Shape(x), then a matrix product
    const reshaped = (target: (g: GraphWriter) => string) => {
      const g = new GraphWriter([4, 4, 2], 8);
      g.op('shape', 'Shape', ['x'], attrs.shape);
      g.op('flat', 'Reshape', ['x', target(g)]);
      g.op('y', 'MatMul', ['flat', g.kernel('w', [32, 2], 32)], attrs.matMul());
      return g.write(['y']);
    };
    const batch = (g: GraphWriter, masks: Parameters<typeof attrs.slice>[0]) => g.op('batch', 'StridedSlice', ['shape', g.ints('begin', 0), g.ints('end', 1), g.ints('strides', 1)], attrs.slice(masks));
    const minus1 = (g: GraphWriter) => g.constant('rest', [], [-1], 'int32');
    for (const [masks, key] of [[{ newAxis: 1, shrink: 1 }, 'new_axis_mask'], [{ ellipsis: 1 }, 'ellipsis_mask']] as const) {
      const path = reshaped((g) => g.op('target', 'Pack', [batch(g, masks), minus1(g)], attrs.pack(2)));
      await expect(loadGraphModelFile(path)).rejects.toThrow(UnsupportedOpError);
      await expect(loadGraphModelFile(path)).rejects.toThrow(new RegExp(`node \\d+ 'batch' \\(StridedSlice\\): ${key} 1 is not supported`));
    }
    // Concat (the axis first) of the batch as a vector and −1: TF.js agrees
    const concat = await loadGraphModelFile(reshaped((g) => g.op('target', 'Concat', [g.constant('axis', [], [0], 'int32'), batch(g, {}), g.ints('rest', -1)], attrs.concat(2))));
    expect(describeLayers(concat.graph)).toEqual(['flatten', 'dense none']);
    const x = tf.tensor(images(3, [4, 4, 2], 8), [3, 4, 4, 2]);
    const outs = runFloat(concat.graph, x);
    expect(Array.from(outs[1].dataSync())).toEqual(Array.from((concat.model.predict(x) as tf.Tensor).dataSync()));
    const batchLast = reshaped((g) => g.op('target', 'Pack', [minus1(g), batch(g, { shrink: 1 })], attrs.pack(2)));
    await expect(loadGraphModelFile(batchLast)).rejects.toThrow(/node \d+ 'flat' \(Reshape\): a reshape of \[4,4,2\] to \[-1,batch\] is not supported \(the batch first/);
    const squared = reshaped((g) => g.op('target', 'Pack', [g.op('square', 'Prod', [g.op('both', 'Pack', [batch(g, { shrink: 1 }), 'batch'], attrs.pack(2)), g.ints('axis', 0)], attrs.prod(false)), minus1(g)], attrs.pack(2)));
    await expect(loadGraphModelFile(squared)).rejects.toThrow(/node \d+ 'square' \(Prod\): a product of the batch size with itself/);
    const pixels = new GraphWriter([4, 4, 2], 8);
    pixels.op('slice', 'StridedSlice', ['x', pixels.ints('begin', 0), pixels.ints('end', 1), pixels.ints('strides', 1)], attrs.slice());
    pixels.op('y', 'Relu', ['slice']);
    await expect(loadGraphModelFile(pixels.write(['y']))).rejects.toThrow(/node \d+ 'slice' \(StridedSlice\): its input 'x' is computed from the model's values; edgeq needs a shape vector/);
    const difference = new GraphWriter([4], 9);
    difference.op('d', 'Sub', ['x', difference.op('r', 'Relu', ['x'])]);
    await expect(loadGraphModelFile(difference.write(['d']))).rejects.toThrow(/node \d+ 'd' \(Sub\): Sub of two tensors is not supported/);
    const reciprocal = new GraphWriter([4], 9);
    reciprocal.op('q', 'RealDiv', [reciprocal.constant('one', [], [1]), 'x']);
    reciprocal.op('y', 'MatMul', ['q', reciprocal.kernel('w', [4, 2], 4)], attrs.matMul());
    await expect(loadGraphModelFile(reciprocal.write(['y']))).rejects.toThrow(/node \d+ 'q' \(RealDiv\): a constant divided by a tensor is not supported/);
  });

  it('refuses a nearest resize that is not a whole-factor upsampling, with a typed error', async () => {
    const resize = (to: number[], flags: Record<string, boolean>) => {
      const g = new GraphWriter([4, 4, 2], 4);
      g.op('up', 'ResizeNearestNeighbor', ['x', g.ints('size', ...to)], attrs.b(flags));
      g.op('y', 'Conv2D', ['up', g.kernel('w', [1, 1, 2, 2], 2)], attrs.conv(1, 'VALID'));
      return g.write(['y']);
    };
    // align_corners reads rows round(o · 3/11): row 1 for output 2, where ⌊2 / 3⌋ = 0
    await expect(loadGraphModelFile(resize([12, 12], { align_corners: true, half_pixel_centers: false }))).rejects.toThrow(UnsupportedOpError);
    await expect(loadGraphModelFile(resize([12, 12], { align_corners: true, half_pixel_centers: false }))).rejects.toThrow(/node \d+ 'up' \(ResizeNearestNeighbor\): resizing \[4,4\] to \[12,12\] \(align_corners true.*is not a whole-factor nearest upsampling/);
    await expect(loadGraphModelFile(resize([6, 6], { align_corners: false, half_pixel_centers: false }))).rejects.toThrow(/not a whole-factor nearest upsampling/);
    expect((await loadGraphModelFile(resize([12, 12], { align_corners: false, half_pixel_centers: false }))).graph.layers[0]).toMatchObject({ type: 'upsample2d', factors: [3, 3] });
  });

  it('a cycle, an input naming no node, two placeholders and two outputs are typed errors', async () => {
    const cycle = new GraphWriter([4], 5);
    cycle.op('a', 'AddV2', ['x', 'b']);
    cycle.op('b', 'Relu', ['a']);
    cycle.op('y', 'Relu', ['b']);
    await expect(loadGraphModelFile(cycle.write())).rejects.toThrow(ConvertError);
    await expect(loadGraphModelFile(cycle.write())).rejects.toThrow(/the graph has a cycle: b → a → b \(node 1 'a' \(AddV2\) reads 'b'/);
    const dangling = new GraphWriter([4], 5);
    dangling.op('y', 'Relu', ['nowhere']);
    await expect(loadGraphModelFile(dangling.write())).rejects.toThrow(ConvertError);
    await expect(loadGraphModelFile(dangling.write())).rejects.toThrow(/node 1 'y' \(Relu\) reads 'nowhere', which is no node of the graph/);
    const two = new GraphWriter([4], 5);
    two.nodes.push({ ...two.nodes[0], name: 'x2' });
    two.op('y', 'AddV2', ['x', 'x2']);
    await expect(loadGraphModelFile(two.write())).rejects.toThrow(UnsupportedOpError);
    await expect(loadGraphModelFile(two.write())).rejects.toThrow(/2 input placeholders \(x, x2\)/);
    const forked = new GraphWriter([4], 5);
    forked.op('y1', 'Relu', ['x']);
    forked.op('y2', 'Sigmoid', ['x']);
    await expect(loadGraphModelFile(forked.write())).rejects.toThrow(/the graph has 2 outputs \(y1, y2\); edgeq converts graphs with one output/);
  });
});

describe('zero padding folded into the next conv where \'same\' pads the same', () => {
  it('Layers model: [[0, 1], [0, 1]] before a stride-2 conv and 1 before a depthwise conv fold; pads \'same\' would not add, or read twice, stay; int8 still matches TF.js', async () => {
    await tf.setBackend('cpu');
    const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
    const S = (t: unknown) => t as tf.SymbolicTensor;
    const input = tf.input({ shape: [8, 8, 3] });
    const pad = (padding: number | [[number, number], [number, number]], x: tf.SymbolicTensor) => S(tf.layers.zeroPadding2d({ padding }).apply(x));
    // 8 → 9 → 4 and 4 → 6 → 4: the pads 'same' would add
    const c1 = S(tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu', kernelInitializer: init(1) }).apply(pad([[0, 1], [0, 1]], input)));
    const d2 = S(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'valid', depthwiseInitializer: init(2) }).apply(pad(1, c1)));
    // 4 → 6 → 2: 'same' would pad [0, 1]
    const c3 = S(tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', kernelInitializer: init(3) }).apply(pad(1, c1)));
    // the pads 'same' would add for both convs, but read by two layers
    const p4 = pad(1, input);
    const a = S(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'valid', kernelInitializer: init(4) }).apply(p4));
    const b = S(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'valid', depthwiseInitializer: init(5) }).apply(p4));
    const ab = S(tf.layers.maxPooling2d({ poolSize: 4 }).apply(S(tf.layers.concatenate().apply([a, b]))));
    const merged = S(tf.layers.concatenate().apply([ab, c3, S(tf.layers.maxPooling2d({ poolSize: 2 }).apply(d2))]));
    const model = tf.model({ inputs: input, outputs: S(tf.layers.flatten().apply(merged)) });
    const graph = lowerLayersModel(model);
    // (in the Keras model's layer order)
    expect(describeLayers(graph)).toEqual([
      'pad2d', 'conv2d relu same <-1', 'conv2d none valid <0', 'depthwise_conv2d none valid <0', 'concatenate <2,3', // p4 stays; c1's pad folded
      'pad2d <1', 'depthwise_conv2d none same <1', // c3's pad stays; d2's folded
      'max_pool2d valid <4', 'conv2d none valid <5', 'max_pool2d valid <6', 'concatenate <7,8', 'concatenate <10,9', 'flatten',
    ]);
    const x = images(CAL + TEST, [8, 8, 3], 14);
    expect(await loweringError(model, graph, tf.tensor(x.subarray(0, 20 * 192), [20, 8, 8, 3]))).toBeLessThan(1e-5);
    const cal = tf.tensor(x.subarray(0, CAL * 192), [CAL, 8, 8, 3]);
    const { bytes } = await convertLayersModel(model, { name: 'padded', calibration: cal });
    cal.dispose();
    const test = x.subarray(CAL * 192);
    const float = tf.tidy(() => (model.predict(tf.tensor(test, [TEST, 8, 8, 3])) as tf.Tensor).dataSync());
    const snr = snrDb(float, await predictBothBuilds(bytes, test, TEST));
    expect(variation(float, float.length / TEST)).toBeGreaterThan(0.2);
    console.log(`zero padding folded: int8 SNR ${snr.toFixed(1)} dB against TF.js`);
    expect(snr).toBeGreaterThanOrEqual(30);
  });
});



