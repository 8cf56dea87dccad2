// Sequence models whose time dimension is variable (Keras' input_shape=(None, 3)), as
// files: refused without --sequence-length, with a typed error that names the input
// shape and the fix; converted with it, in the CLI and the API, to a model that agrees
// with TF.js on sequences of that length. A sequence of another length or width, through
// the API and `edgeq run`: typed errors that name the shape. And Conv1D kernels pruned
// as Conv2D's are.

import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { accuracy, argmaxRows } from '../src/runtime/classes.js';
import { main } from '../src/runtime/cli/main.js';
import { ConvertError, InputError, loadModel, type Model } from '../src/runtime/node.js';
import { runConvert, CONVERT_HELP, type ConvertArgs } from '../src/toolchain/cli/convert.js';
import { convertLayersModel } from '../src/toolchain/convert/convert.js';
import { lowerLayersModel } from '../src/toolchain/convert/graph.js';
import { loadLayersModelFile } from '../src/toolchain/convert/load.js';
import { prunableTensors, pruneFloatGraph } from '../src/toolchain/convert/prune.js';
import { saveLayersModel } from '../src/toolchain/train/train.js';
import { predictBothBuilds, SENSOR_STEPS as STEPS, sensorSequences } from './helpers/models.js';
import { npy } from './helpers/npy.js';
import { maxAbsDiff } from './helpers/quant.js';

const dir = mkdtempSync(join(tmpdir(), 'edgeq-sequence-length-'));
const path = (name: string) => join(dir, name);
const init = (s: number) => tf.initializers.glorotUniform({ seed: s });

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(args, { out: (s) => { out += `${s}\n`; }, err: (s) => { err += `${s}\n`; } });
  return { code, out, err };
}
const floatOf = (m: tf.LayersModel, x: Float32Array, n: number, steps = STEPS) =>
  tf.tidy(() => (m.predict(tf.tensor3d(x, [n, steps, 3])) as tf.Tensor).dataSync() as Float32Array);
const convertArgs = (model: string, out: string, more: Partial<ConvertArgs> = {}): ConvertArgs => ({
  model, out, calibration: path('cal.npy'), calibrationSize: 200, calibrationMethod: 'minmax', sparsity: 0, prune: 'layer',
  protect: true, fineTune: 0, fineTuneSize: 0, encoding: 'auto', clusters: [], clusterFineTune: 0, ...more,
});

// Conv1D → Conv1D → GlobalMaxPooling1D → Dense softmax on sequences of any length,
// trained on the generated sensor task (32 steps of 3 axes, 4 classes)
const layers = (steps: number | null) => [
  tf.layers.conv1d({ inputShape: [steps, 3], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }),
  tf.layers.conv1d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }),
  tf.layers.globalMaxPooling1d({}),
  tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(3) }),
];
let model: tf.Sequential, modelFile: string, fixedFile: string;
const test = sensorSequences(400, 41);

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = tf.sequential({ layers: layers(null) });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  const train = sensorSequences(600, 40);
  const x = tf.tensor3d(train.values, [600, STEPS, 3]);
  await model.fit(x, tf.tensor1d(train.labels, 'float32'), { epochs: 6, batchSize: 32, shuffle: false, verbose: 0 });
  x.dispose();
  modelFile = (await saveLayersModel(model, path('variable')))[0];
  // the same model with its length fixed by the source
  const fixed = tf.sequential({ layers: layers(STEPS) });
  fixed.setWeights(model.getWeights());
  fixedFile = (await saveLayersModel(fixed, path('fixed')))[0];
  fixed.dispose();
  writeFileSync(path('cal.npy'), npy('<f4', [200, STEPS, 3], train.values.subarray(0, 200 * STEPS * 3)));
}, 240_000);

describe('a model whose time dimension is variable', () => {
  it('is saved with batch_input_shape [null, null, 3]', () => {
    const json = JSON.parse(readFileSync(modelFile, 'utf8'));
    expect(json.modelTopology.config.layers[0].config.batch_input_shape).toEqual([null, null, 3]);
  });

  it('without --sequence-length: a ConvertError that names the input shape and says to pass --sequence-length N; nothing is written', async () => {
    const r = await cli('convert', modelFile, '--out', path('refused.edgeq'), '--calibration', path('cal.npy'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/takes inputs of shape \[None, None, 3\]: its time dimension \(axis 1, the steps of a sequence\) is variable, and an \.edgeq model has fixed shapes: pass --sequence-length N .* inputs \[N, 3\]/);
    expect(() => readFileSync(path('refused.edgeq'))).toThrow();
    const err = await runConvert(convertArgs(modelFile, path('refused.edgeq')), () => {}, () => {}, false).catch((e) => e);
    expect(err).toBeInstanceOf(ConvertError);
    expect(err.code).toBe('E_INPUT_SHAPE');
    // the API: the model loads (TF.js runs any length), and converting it is refused the same way
    const { model: loaded } = await loadLayersModelFile(modelFile);
    expect(loaded.inputs[0].shape).toEqual([null, null, 3]);
    await expect(convertLayersModel(loaded, { name: 'x', calibration: tf.zeros([1, STEPS, 3]) })).rejects.toThrow(/\[None, None, 3\].*pass --sequence-length N/);
    loaded.dispose();
  });

  it('with --sequence-length 32: converted for 32 steps; int8 agrees with TF.js on 400 held-out sequences (≥ 99 % top-1, outputs within 0.05)', async () => {
    const r = await cli('convert', modelFile, '--out', path('seq32.edgeq'), '--calibration', path('cal.npy'), '--sequence-length', String(STEPS));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/input +\[32, 3\] floats as the source takes them \(32 steps: --sequence-length\)/);
    const bytes = readFileSync(path('seq32.edgeq'));
    const m = await loadModel(bytes);
    expect(m.inputShape).toEqual([STEPS, 3]);
    expect(m.layers().map((l) => l.type)).toEqual(['conv1d', 'conv1d', 'global_max_pool1d', 'dense', 'softmax']);
    m.dispose();
    const want = floatOf(model, test.values, 400);
    expect(accuracy(argmaxRows(want, 400, 4), test.labels)).toBeGreaterThan(0.9); // the float model learned its task
    const got = await predictBothBuilds(bytes, test.values, 400);
    const agreement = accuracy(argmaxRows(got, 400, 4), argmaxRows(want, 400, 4));
    console.log(`variable-length conv1d model at --sequence-length 32: top-1 agreement ${(100 * agreement).toFixed(1)} %, max |error| ${maxAbsDiff(got, want).toFixed(4)}`);
    expect(agreement).toBeGreaterThanOrEqual(0.99);
    expect(maxAbsDiff(got, want)).toBeLessThan(0.05);
    // the API: loadLayersModelFile's and convertLayersModel's sequenceLength give the same model
    const cal = tf.tensor3d(sensorSequences(200, 40).values, [200, STEPS, 3]);
    const { model: loaded } = await loadLayersModelFile(modelFile, { sequenceLength: STEPS });
    expect(loaded.inputs[0].shape).toEqual([null, STEPS, 3]);
    const viaLoad = await convertLayersModel(loaded, { name: 'seq32', calibration: cal });
    const viaOption = await convertLayersModel(model, { name: 'seq32', calibration: cal, sequenceLength: STEPS });
    expect(model.inputs[0].shape).toEqual([null, null, 3]); // the caller's model is left as it was
    cal.dispose();
    loaded.dispose();
    const [a, b] = await Promise.all([predictBothBuilds(viaLoad.bytes, test.values, 400), predictBothBuilds(viaOption.bytes, test.values, 400)]);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(maxAbsDiff(a, want)).toBeLessThan(0.05);
  });

  it('a functional LSTM → Dense model with an InputLayer of shape [None, 3]: the same, within 0.05 of TF.js', async () => {
    const input = tf.input({ shape: [null, 3] });
    const h = tf.layers.lstm({ units: 8, kernelInitializer: init(4), recurrentInitializer: init(5) }).apply(input) as tf.SymbolicTensor;
    const lstm = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2, kernelInitializer: init(6) }).apply(h) as tf.SymbolicTensor });
    const file = (await saveLayersModel(lstm, path('lstm')))[0];
    expect((await cli('convert', file, '--out', path('lstm.edgeq'), '--calibration', path('cal.npy'))).err).toMatch(/\[None, None, 3\].*pass --sequence-length N/);
    const r = await cli('convert', file, '--out', path('lstm.edgeq'), '--calibration', path('cal.npy'), '--sequence-length', '32');
    expect(r.code, r.err).toBe(0);
    const m = await loadModel(readFileSync(path('lstm.edgeq')));
    expect(m.inputShape).toEqual([STEPS, 3]);
    const got = m.predict(test.values.subarray(0, 100 * STEPS * 3), { batch: 100 });
    m.dispose();
    const want = floatOf(lstm, test.values.subarray(0, 100 * STEPS * 3), 100);
    expect(maxAbsDiff(got, want)).toBeLessThan(0.05);
  });

  it('--sequence-length on a model whose length is fixed: the same length is fine, another is refused (E_SEQUENCE_LENGTH)', async () => {
    expect((await cli('convert', fixedFile, '--out', path('fixed.edgeq'), '--calibration', path('cal.npy'), '--sequence-length', '32')).code).toBe(0);
    const r = await cli('convert', fixedFile, '--out', path('fixed16.edgeq'), '--calibration', path('cal.npy'), '--sequence-length', '16');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/takes inputs of shape \[None, 32, 3\]: its sequences are fixed at 32 steps, so --sequence-length 16 cannot apply; drop --sequence-length, or pass --sequence-length 32/);
    const err = await runConvert(convertArgs(fixedFile, path('fixed16.edgeq'), { sequenceLength: 16 }), () => {}, () => {}, false).catch((e) => e);
    expect(err).toBeInstanceOf(ConvertError);
    expect(err.code).toBe('E_SEQUENCE_LENGTH');
    expect((await cli('convert', fixedFile, '--out', path('x.edgeq'), '--sequence-length', '0')).err).toMatch(/--sequence-length takes an integer ≥ 1, got '0'/);
    expect(CONVERT_HELP).toMatch(/--sequence-length N +convert a sequence model whose time dimension is variable/);
  });

  it('--sequence-length on an input without a time axis, and other variable dimensions: refused, saying what to do', async () => {
    const dense = tf.sequential({ layers: [tf.layers.dense({ inputShape: [8], units: 2 })] });
    const denseFile = (await saveLayersModel(dense, path('dense')))[0];
    const r = await cli('convert', denseFile, '--out', path('dense.edgeq'), '--calibration', 'uniform', '--sequence-length', '8');
    expect(r.err).toMatch(/takes inputs of shape \[None, 8\], which have no time dimension: --sequence-length fixes the steps of a sequence input \[batch, steps, features\]; convert without it/);
    const image = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [null, null, 1], filters: 2, kernelSize: 3 }), tf.layers.globalAveragePooling2d({})] });
    const imageFile = (await saveLayersModel(image, path('image')))[0];
    const i = await cli('convert', imageFile, '--out', path('image.edgeq'), '--calibration', 'uniform');
    expect(i.code).toBe(1);
    expect(i.err).toMatch(/takes inputs of shape \[None, None, None, 1\]: axes 1, 2 are variable, and an \.edgeq model has fixed shapes: re-export the model with a fixed input shape \(--sequence-length N fixes only axis 1/);
    // with the steps fixed, the other variable axis is still refused
    const j = await cli('convert', imageFile, '--out', path('image.edgeq'), '--calibration', 'uniform', '--sequence-length', '8');
    expect(j.err).toMatch(/takes inputs of shape \[None, 8, None, 1\]: axis 2 is variable/);
  });
});

describe('a sequence of the wrong length or width', () => {
  let m: Model;
  const one = test.values.subarray(0, STEPS * 3);
  const nested = (steps: number, width: number) => Array.from({ length: steps }, (_, t) => Array.from({ length: width }, (_, f) => one[(t * 3 + f) % one.length]));
  beforeAll(async () => {
    const cal = tf.tensor3d(sensorSequences(200, 40).values, [200, STEPS, 3]);
    const { bytes } = await convertLayersModel(model, { name: 'seq32', calibration: cal, sequenceLength: STEPS });
    cal.dispose();
    writeFileSync(path('run.edgeq'), bytes);
    m = await loadModel(bytes);
  });

  it('predict: a flat input of another length names the shape, steps × features, and that the length is fixed', () => {
    const err = (() => { try { m.predict(new Float32Array(30 * 3)); } catch (e) { return e as InputError; } })()!;
    expect(err).toBeInstanceOf(InputError);
    expect(err.code).toBe('E_INPUT_LENGTH');
    expect(err.message).toMatch(/^input has 90 values; the model takes \[32, 3\] = 96: 32 steps × 3 features; that is 30 steps of 3 values, and this model's sequences are fixed at 32 steps \(set when it was converted; a model converted with --sequence-length N takes exactly N\): pad or cut each sequence to 32 steps$/);
    expect(() => m.predict(new Float32Array(95))).toThrow(/^input has 95 values; the model takes \[32, 3\] = 96: 32 steps × 3 features$/);
    expect(() => m.predict(new Float32Array(2 * 30 * 3), { batch: 2 })).toThrow(/the model takes 2 × \[32, 3\] = 192: 32 steps × 3 features each; that is 30 steps of 3 values per item/);
  });

  it('predict: nested [steps][features] arrays of the model\'s shape give what the flat values give; of another shape, an InputError that says which axis is off', () => {
    const flat = m.predict(one);
    expect(Array.from(m.predict(nested(STEPS, 3) as unknown as number[]))).toEqual(Array.from(flat));
    expect(Array.from(m.predict([Array.from(one)] as unknown as number[]))).toEqual(Array.from(flat)); // one list in a wrapper
    const two = [nested(STEPS, 3), nested(STEPS, 3)] as unknown as number[];
    expect(Array.from(m.predict(two, { batch: 2 }))).toEqual([...flat, ...flat]);
    const refused = (input: unknown, batch?: number) => { try { m.predict(input as number[], { batch }); } catch (e) { return e as InputError; } throw new Error('accepted'); };
    const short = refused(nested(30, 3));
    expect(short).toBeInstanceOf(InputError);
    expect(short.code).toBe('E_INPUT_SHAPE');
    expect(short.message).toMatch(/^input is a nested array of shape \[30, 3\]; the model takes \[32, 3\] \(32 steps × 3 features\) per item; that is 30 steps of 3 values, and this model's sequences are fixed at 32 steps .*--sequence-length/);
    expect(refused(nested(STEPS, 2)).message).toMatch(/^input is a nested array of shape \[32, 2\]; the model takes \[32, 3\] \(32 steps × 3 features\) per item: its steps have 2 values, the model's 3$/);
    expect(refused(nested(3, STEPS)).message).toMatch(/shape \[3, 32\]; .*its steps have 32 values, the model's 3 \(transposed\? give \[steps\]\[features\]\)/);
    expect(refused(two).message).toMatch(/shape \[2, 32, 3\]; the model takes \[32, 3\] \(32 steps × 3 features\) per item \(for 2 items pass \{ batch: 2 \}\)/);
    const ragged = nested(STEPS, 3);
    ragged[5] = [1, 2];
    expect(refused(ragged).message).toMatch(/^input is a ragged nested array: input\[5\] has 2 entries, input\[0\] has 3; the model takes \[32, 3\]/);
    ragged[5] = 7 as unknown as number[];
    expect(refused(ragged).message).toMatch(/input\[5\] is 7, not an array like input\[0\]/);
  });

  it('edgeq run: JSON and raw inputs of the wrong length or width are refused naming the shape', async () => {
    writeFileSync(path('short.json'), JSON.stringify(nested(30, 3)));
    writeFileSync(path('narrow.json'), JSON.stringify(nested(STEPS, 2)));
    writeFileSync(path('short.bin'), new Uint8Array(new Float32Array(30 * 3).buffer));
    writeFileSync(path('good.json'), JSON.stringify(nested(STEPS, 3)));
    const short = await cli('run', path('run.edgeq'), path('short.json'));
    expect(short.code).toBe(1);
    expect(short.err).toMatch(/short\.json: input is a nested array of shape \[30, 3\]; the model takes \[32, 3\] \(32 steps × 3 features\) per item; that is 30 steps of 3 values, and this model's sequences are fixed at 32 steps/);
    expect((await cli('run', path('run.edgeq'), path('narrow.json'))).err).toMatch(/narrow\.json: input is a nested array of shape \[32, 2\]; .*its steps have 2 values, the model's 3/);
    expect((await cli('run', path('run.edgeq'), path('short.bin'))).err).toMatch(/short\.bin has 360 bytes; the model takes 96 values \(\[32, 3\] \(32 steps × 3 features\)\): 96 bytes \(pixels\) or 384 bytes \(float32\)/);
    const good = await cli('run', path('run.edgeq'), path('good.json'), '--json');
    expect(good.code, good.err).toBe(0);
    expect(JSON.parse(good.out).top[0].index).toBe(m.classify(one, 1)[0].index);
  });
});

describe('pruning Conv1D', () => {
  it('Conv1D kernels are prunable tensors, as Conv2D kernels are (Layers models and float graphs)', () => {
    const fixed = tf.sequential({ layers: layers(STEPS) });
    expect(prunableTensors(fixed, 'none').map((t) => [t.layer, t.weight])).toEqual(fixed.layers.filter((l) => l.getWeights().length).map((l) => [l.name, 'kernel']));
    const graph = lowerLayersModel(fixed);
    pruneFloatGraph(graph, { sparsity: 0.5, protect: 'none' });
    for (const l of graph.layers) if (l.type === 'conv1d') expect(l.weights.filter((w) => w === 0).length).toBe(Math.round(0.5 * l.weights.length));
    fixed.dispose();
  });

  it('--sparsity 0.5: the conv1d weights are half zeros; int8 agrees with the pruned float model (≥ 99 % top-1, within 0.05) and with the unpruned one', async () => {
    const r = await cli('convert', modelFile, '--out', path('pruned.edgeq'), '--calibration', path('cal.npy'), '--sequence-length', '32', '--sparsity', '0.5', '--no-protect');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^ +0 +conv1d +144 +5\d\.\d%/m);
    expect(r.out).toMatch(/^ +1 +conv1d +768 +5\d\.\d%/m);
    const bytes = readFileSync(path('pruned.edgeq'));
    const m = await loadModel(bytes);
    const convs = m.layers().filter((l) => l.type === 'conv1d').map((l) => l.weights!.find((w) => w.role === 'weights')!);
    m.dispose();
    expect(convs.map((w) => w.shape)).toEqual([[16, 3, 3], [16, 3, 16]]);
    // magnitude pruning zeroes half of each kernel; int8 rounding may zero a few more
    for (const w of convs) {
      const zeros = 1 - w.nonZero! / w.shape.reduce((a, b) => a * b, 1);
      expect(zeros).toBeGreaterThanOrEqual(0.5);
      expect(zeros).toBeLessThan(0.56);
    }
    // the pruned float model: the source's weights pruned as the converter prunes them
    const { model: pruned } = await loadLayersModelFile(modelFile, { sequenceLength: STEPS });
    const { pruneModel } = await import('../src/toolchain/convert/prune.js');
    pruneModel(pruned, { sparsity: 0.5, protect: 'none' }).masks.forEach((k) => k.dispose());
    const got = await predictBothBuilds(bytes, test.values, 400);
    const prunedFloat = floatOf(pruned, test.values, 400);
    pruned.dispose();
    const unpruned = argmaxRows(floatOf(model, test.values, 400), 400, 4);
    const agreement = accuracy(argmaxRows(got, 400, 4), argmaxRows(prunedFloat, 400, 4));
    const withUnpruned = accuracy(argmaxRows(got, 400, 4), unpruned);
    console.log(`conv1d model, 50 % pruned: int8 top-1 agreement ${(100 * agreement).toFixed(1)} % with the pruned float model (max |error| ${maxAbsDiff(got, prunedFloat).toFixed(4)}), ${(100 * withUnpruned).toFixed(1)} % with the unpruned one; accuracy ${(100 * accuracy(argmaxRows(got, 400, 4), test.labels)).toFixed(1)} %`);
    expect(agreement).toBeGreaterThanOrEqual(0.99);
    expect(maxAbsDiff(got, prunedFloat)).toBeLessThan(0.05);
    expect(withUnpruned).toBeGreaterThanOrEqual(0.9);
  });
});
