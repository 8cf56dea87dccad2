// A user's own model and data (issue "your model, your data"): models this project did
// not train the way its reference models are trained, converted from the data a user
// has (.npy, CSV, a folder of images), then fed the float values their TF.js source
// takes — through the API and `edgeq serve` — and evaluated with `edgeq eval`.

import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/runtime/cli/main.js';
import { loadModel, type Model } from '../src/runtime/node.js';
import { InferenceServer } from '../src/runtime/serve.js';
import { argmaxRows, accuracy } from '../src/runtime/classes.js';
import { loadDataset } from '../src/toolchain/data/datasets.js';
import { encodePng } from '../src/toolchain/data/image.js';
import { saveLayersModel } from '../src/toolchain/train/train.js';
import { npy } from './helpers/npy.js';
import { rng } from './helpers/quant.js';

const KERAS_CNN = new URL('./fixtures/keras-mnist-cnn/model.json', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'edgeq-your-data-'));
const path = (name: string) => join(dir, name);
const file = (name: string, bytes: Uint8Array | string) => { writeFileSync(path(name), bytes); return path(name); };

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(args, { out: (s) => { out += `${s}\n`; }, err: (s) => { err += `${s}\n`; } });
  return { code, out, err };
}

// top-1 of TF.js (float) and of edgeq on the same float inputs
function tfTop(model: tf.LayersModel, x: Float32Array, shape: number[]): Int32Array {
  const n = x.length / shape.reduce((a, b) => a * b, 1);
  const y = tf.tidy(() => (model.predict(tf.tensor(x, [n, ...shape])) as tf.Tensor).dataSync());
  return argmaxRows(y, n, y.length / n);
}
function edgeqTop(m: Model, x: Float32Array | Uint8Array): Int32Array {
  const n = x.length / m.inputShape.reduce((a, b) => a * b, 1);
  return argmaxRows(m.predict(x, { batch: n }), n, m.outputShape[0]);
}

// RGB images 10 × 12 whose class (0–5) is the brightest channel (R, G, B) and the half
// (top, bottom) where it is brightest; the source model takes pixel / 127.5 − 1.
function colourImages(n: number, seed: number): { pixels: Uint8Array; labels: Int32Array } {
  const r = rng(seed);
  const pixels = new Uint8Array(n * 10 * 12 * 3), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = Math.floor(r() * 6), ch = label % 3, half = label >= 3 ? 1 : 0;
    labels[i] = label;
    for (let y = 0; y < 10; y++) for (let x = 0; x < 12; x++) for (let c = 0; c < 3; c++) {
      const bright = c === ch && (y >= 5 ? 1 : 0) === half;
      pixels[((i * 10 + y) * 12 + x) * 3 + c] = Math.round(bright ? 130 + 125 * r() : 110 * r());
    }
  }
  return { pixels, labels };
}
const toMinus1To1 = (p: Uint8Array) => Float32Array.from(p, (v) => v / 127.5 - 1);

let digitsTrain: Awaited<ReturnType<typeof loadDataset>>, digitsTest: Awaited<ReturnType<typeof loadDataset>>;
let colourModel: string, colour: tf.LayersModel;
let regressorModel: string, regressor: tf.LayersModel;
const colourTest = colourImages(400, 7);

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.enableProdMode();
  [digitsTrain, digitsTest] = [await loadDataset('mnist', 'train'), await loadDataset('mnist', 'test')];
  // a TF.js Layers model of a shape and input range no reference model has
  colour = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [10, 12, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 6, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  colour.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  const train = colourImages(600, 3);
  await colour.fit(tf.tensor(toMinus1To1(train.pixels), [600, 10, 12, 3]), tf.tensor1d(train.labels, 'float32'), { epochs: 6, batchSize: 32, shuffle: false, verbose: 0 });
  colourModel = (await saveLayersModel(colour, path('colour')))[0];
  // a regressor: 8 sensor values → their weighted sum, not a classifier
  regressor = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [8], units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  regressor.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
  const r = rng(5);
  const xs = Float32Array.from({ length: 512 * 8 }, () => 20 * r() - 5);
  const ys = Float32Array.from({ length: 512 }, (_, i) => xs.subarray(i * 8, i * 8 + 8).reduce((s, v, j) => s + v * (j % 2 ? 0.5 : -0.25), 0));
  await regressor.fit(tf.tensor(xs, [512, 8]), tf.tensor(ys, [512, 1]), { epochs: 30, batchSize: 32, shuffle: false, verbose: 0 });
  regressorModel = (await saveLayersModel(regressor, path('regressor')))[0];
  const csv = (rows: number, header: boolean) => [header ? 's0,s1,s2,s3,s4,s5,s6,s7' : '', ...Array.from({ length: rows }, (_, i) => Array.from(xs.subarray(i * 8, i * 8 + 8), (v) => v.toFixed(4)).join(','))].filter(Boolean).join('\n');
  file('sensors.csv', csv(200, true));
  file('sensor-row.csv', csv(1, false));
}, 240_000);

describe('float inputs mean what the source model takes', () => {
  it('a Keras-converter model calibrated from a float32 .npy: the floats TF.js takes agree ≥ 99 % top-1 on the 2,004 mnist test digits', async () => {
    const cal = Float32Array.from(digitsTrain.images.subarray(0, 300 * 784), (p) => p / 255);
    file('digits.npy', npy('<f4', [300, 28, 28, 1], cal));
    const r = await cli('convert', KERAS_CNN, '--out', path('digits.edgeq'), '--calibration', path('digits.npy'), '--json', path('digits.json'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/no pixel rule \(pixel inputs are refused\)/);
    expect(JSON.parse(readFileSync(path('digits.json'), 'utf8')).pixelRule).toBeNull();
    const m = await loadModel(readFileSync(path('digits.edgeq')));
    const floats = Float32Array.from(digitsTest.images, (p) => p / 255);
    const { model } = await import('../src/toolchain/convert/load.js').then((l) => l.loadLayersModelFile(KERAS_CNN));
    const agreement = accuracy(edgeqTop(m, floats), tfTop(model, floats, [28, 28, 1]));
    console.log(`keras-mnist-cnn from .npy, float inputs: top-1 agreement with TF.js ${(100 * agreement).toFixed(2)} % on ${digitsTest.count} digits`);
    expect(agreement).toBeGreaterThanOrEqual(0.99);
    expect(m.info.pixelRule).toBeNull();
    expect(() => m.predict(digitsTest.images.subarray(0, 784))).toThrow(/no pixel rule, so it cannot take pixels/);
    m.dispose();
    model.dispose();
  });

  it('a TF.js Layers model of another shape and range (10×12 RGB in [−1, 1]): from a float64 .npy, floats agree; from an image folder with --input-range -1-1, pixels agree too', async () => {
    const train = colourImages(200, 11);
    file('colour.npy', npy('<f8', [200, 10, 12, 3], Float64Array.from(toMinus1To1(train.pixels))));
    const r = await cli('convert', colourModel, '--out', path('colour.edgeq'), '--calibration', path('colour.npy'));
    expect(r.code, r.err).toBe(0);
    const m = await loadModel(readFileSync(path('colour.edgeq')));
    const floats = toMinus1To1(colourTest.pixels);
    const want = tfTop(colour, floats, [10, 12, 3]);
    expect(accuracy(want, colourTest.labels)).toBeGreaterThan(0.9); // the source model learned its task
    expect(accuracy(edgeqTop(m, floats), want)).toBeGreaterThanOrEqual(0.99);
    m.dispose();
    // the same model, calibrated from PNGs in class folders: pixel inputs through the rule
    for (let i = 0; i < 60; i++) {
      const d = path(`colour-images/class-${train.labels[i]}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, `${i}.png`), encodePng(train.pixels.subarray(i * 360, (i + 1) * 360), 12, 10, 3));
    }
    const p = await cli('convert', colourModel, '--out', path('colour-px.edgeq'), '--calibration', path('colour-images'), '--input-range', '-1-1');
    expect(p.code, p.err).toBe(0);
    expect(p.out).toMatch(/pixel inputs: pixels 0–255 → -1-1/);
    const px = await loadModel(readFileSync(path('colour-px.edgeq')));
    expect(px.info.pixelRule).toEqual({ mul: [Math.fround(2 / 255)], add: [-1] });
    expect(accuracy(edgeqTop(px, colourTest.pixels), want)).toBeGreaterThanOrEqual(0.99);
    expect(accuracy(edgeqTop(px, floats), want)).toBeGreaterThanOrEqual(0.99); // floats still mean floats
    px.dispose();
  });

  it('per-channel --pixel-mean / --pixel-std: value = (pixel − mean) / std', async () => {
    const r = await cli('convert', colourModel, '--out', path('colour-ms.edgeq'), '--calibration', path('colour.npy'), '--pixel-mean', '127.5,127.5,127.5', '--pixel-std', '127.5');
    expect(r.code, r.err).toBe(0);
    const m = await loadModel(readFileSync(path('colour-ms.edgeq')));
    expect(m.info.pixelRule).toEqual({ mul: [1, 1, 1].map(() => Math.fround(1 / 127.5)), add: [-1, -1, -1] });
    expect(accuracy(edgeqTop(m, colourTest.pixels), tfTop(colour, toMinus1To1(colourTest.pixels), [10, 12, 3]))).toBeGreaterThanOrEqual(0.99);
    m.dispose();
    const bad = await cli('convert', colourModel, '--out', path('never.edgeq'), '--calibration', path('colour.npy'), '--pixel-mean', '1,2');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/one value or one per channel \(the model's input has 3 channels\)/);
    expect(existsSync(path('never.edgeq'))).toBe(false);
  });
});

describe('edgeq serve: JSON numbers are the source model\'s values, raw bytes are pixels', () => {
  let server: InferenceServer, base: string;
  beforeAll(async () => {
    const models = new Map([
      ['floats', await loadModel(readFileSync(path('colour.edgeq')))],
      ['pixels', await loadModel(readFileSync(path('colour-px.edgeq')))],
    ]);
    server = new InferenceServer(models, { port: 0 });
    base = `http://127.0.0.1:${(await server.listen()).port}`;
  });
  afterAll(async () => { await server?.close(); });

  it('answers as the API does, and a model without a pixel rule refuses raw bytes with 400', async () => {
    const n = 20, per = 360;
    const floats = toMinus1To1(colourTest.pixels.subarray(0, n * per));
    const instances = Array.from({ length: n }, (_, i) => Array.from(floats.subarray(i * per, (i + 1) * per)));
    for (const name of ['floats', 'pixels']) {
      const m = await loadModel(readFileSync(path(name === 'floats' ? 'colour.edgeq' : 'colour-px.edgeq')));
      const res = await fetch(`${base}/v1/models/${name}:predict`, { method: 'POST', body: JSON.stringify({ instances }), headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(200);
      const body = await res.json() as { predictions: number[][]; top: { index: number }[][] };
      expect(body.predictions.flat().map(Math.fround)).toEqual(Array.from(m.predict(floats, { batch: n })));
      const want = tfTop(colour, floats, [10, 12, 3]);
      expect(accuracy(Int32Array.from(body.top, (t) => t[0].index), want)).toBeGreaterThanOrEqual(0.95);
      m.dispose();
    }
    const raw = { method: 'POST', body: colourTest.pixels.slice(0, 2 * per), headers: { 'content-type': 'application/octet-stream' } };
    const refused = await fetch(`${base}/v1/models/floats:predict`, raw);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toMatch(/no pixel rule/);
    const px = await fetch(`${base}/v1/models/pixels:predict`, raw);
    expect(px.status).toBe(200);
  });
});

describe('evaluation for every kind of model', () => {
  it('a classifier: accuracy from labels, agreement and output error against --float, as text and JSON', async () => {
    file('colour-test.npy', npy('<f4', [400, 10, 12, 3], toMinus1To1(colourTest.pixels)));
    file('colour-labels.npy', npy('<i8', [400], BigInt64Array.from(colourTest.labels, (v) => BigInt(v))));
    const r = await cli('eval', path('colour.edgeq'), '--data', path('colour-test.npy'), '--labels', path('colour-labels.npy'), '--float', colourModel, '--json', path('eval.json'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/classifier, 6 classes/);
    expect(r.out).toMatch(/400 examples: float \d+\.\d\d%, int8 \d+\.\d\d% \([+-]\d+\.\d\d points\); top-1 agreement \d+\.\d\d%; int8 − float: max \|error\| [\d.e-]+, RMSE [\d.e-]+, SNR \d+\.\d dB/);
    const e = JSON.parse(readFileSync(path('eval.json'), 'utf8'));
    const want = tfTop(colour, toMinus1To1(colourTest.pixels), [10, 12, 3]);
    expect(e.floatAccuracy).toBe(accuracy(want, colourTest.labels));
    expect(e.agreement).toBeGreaterThanOrEqual(0.99);
    expect(e.snrDb).toBeGreaterThan(20);
    expect(e.maxAbsError).toBeGreaterThan(0); // int8 is not float: the figure measures something
    expect(e.rmse).toBeLessThan(e.maxAbsError);
  });

  it('a regressor (CSV data): converts and evaluates by output error; classify says it needs a classifier; run prints its output', async () => {
    const c = await cli('convert', regressorModel, '--out', path('reg.edgeq'), '--calibration', path('sensors.csv'), '--eval', path('sensors.csv'), '--json', path('reg.json'));
    expect(c.code, c.err).toBe(0);
    const report = JSON.parse(readFileSync(path('reg.json'), 'utf8'));
    expect(report.eval).toMatchObject({ count: 200, classifier: false });
    expect(report.eval.int8Accuracy).toBeUndefined();
    expect(report.eval.snrDb).toBeGreaterThan(25);
    expect(c.out).toMatch(/int8 − float: max \|error\| .*SNR \d+\.\d dB/);
    const m = await loadModel(readFileSync(path('reg.edgeq')));
    expect(m.isClassifier).toBe(false);
    expect(() => m.classify(new Float32Array(8))).toThrow(/classify needs a classifier; this model outputs \[1\] values/);
    const row = Float32Array.from(readFileSync(path('sensor-row.csv'), 'utf8').trim().split(','), Number);
    const float = (regressor.predict(tf.tensor(row, [1, 8])) as tf.Tensor).dataSync()[0];
    const got = m.predict(row)[0];
    expect(Math.abs(got - float)).toBeLessThan(0.05 * Math.max(1, Math.abs(float)));
    m.dispose();
    const run = await cli('run', path('reg.edgeq'), path('sensor-row.csv'));
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(new RegExp(`output +\\[1\\]: ${String(Number(got.toPrecision(5))).replace('.', '\\.')}`));
    const ev = await cli('eval', path('reg.edgeq'), '--data', path('sensors.csv'), '--float', regressorModel);
    expect(ev.code, ev.err).toBe(0);
    expect(ev.out).toMatch(/outputs \[1\]/);
    expect(ev.out).toMatch(/RMSE/);
  });

  it('--calibration uniform works and warns; no data is refused', async () => {
    const u = await cli('convert', regressorModel, '--out', path('uniform.edgeq'), '--calibration', 'uniform', '--input-range', '0-255');
    expect(u.code, u.err).toBe(0);
    expect(u.out).toMatch(/warning +calibrating on uniform random inputs: .*accuracy will suffer/);
    const none = await cli('convert', regressorModel, '--out', path('none.edgeq'));
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/needs representative inputs .*--calibration FILE\.npy/);
    expect(existsSync(path('none.edgeq'))).toBe(false);
  });
});

describe('bad data: a clear error naming the file and the place, and nothing written', () => {
  const f32 = (n: number, fill = 0.5) => new Float32Array(n).fill(fill);
  const nan = f32(2 * 8); nan[13] = NaN;
  const cases: [string, () => string[], RegExp, string?][] = [
    ['npy of the wrong shape', () => ['--calibration', file('wrong.npy', npy('<f4', [4, 28, 28], f32(4 * 784)))], /wrong\.npy has shape \[4, 28, 28\]; the model takes \[8\]/],
    ['truncated npy', () => ['--calibration', file('short.npy', npy('<f4', [4, 8], f32(32)).subarray(0, 140))], /short\.npy/],
    ['npy of an unsupported dtype', () => ['--calibration', file('complex.npy', npy('<c8', [2, 8], f32(32)))], /complex\.npy/],
    ['NaN in npy', () => ['--calibration', file('nan.npy', npy('<f4', [2, 8], nan))], /nan\.npy: example 1, value 5 is NaN/],
    ['ragged CSV', () => ['--calibration', file('ragged.csv', '1,2,3,4,5,6,7,8\n1,2,3\n')], /ragged\.csv.*line 2 has 3 columns/],
    ['non-numeric CSV', () => ['--calibration', file('words.csv', 'a,b,c,d,e,f,g,h\n1,2,3,4,5,6,7,x\n')], /words\.csv.*line 2, column 'h': 'x' is not a number/],
    ['labels that do not match the examples', () => ['--calibration', path('sensors.csv'), '--eval', file('four.npy', npy('<f4', [4, 8], f32(32))), '--eval-labels', file('three.npy', npy('<i4', [3], new Int32Array(3)))], /three\.npy has 3 labels for 4 examples/],
    ['a corrupt image', () => {
      mkdirSync(path('broken/a'), { recursive: true });
      writeFileSync(path('broken/a/x.png'), Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
      return ['--calibration', path('broken'), '--input-range', '0-1'];
    }, /x\.png/, 'colour'],
  ];
  for (const [what, args, message, model] of cases) {
    it(what, async () => {
      const out = path(`never-${what.replace(/\W+/g, '-')}.edgeq`);
      const r = await cli('convert', model === 'colour' ? colourModel : regressorModel, '--out', out, ...args());
      expect(r.code, r.out).toBe(1);
      expect(r.err).toMatch(message);
      expect(existsSync(out)).toBe(false);
    });
  }
});
