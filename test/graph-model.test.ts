import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/runtime/cli/main.js';
import { runFloat } from '../src/toolchain/convert/graph.js';
import { loadGraphModelFile } from '../src/toolchain/convert/graph-model.js';
import { loadLayersModelFile } from '../src/toolchain/convert/load.js';
import { UnsupportedOpError } from '../src/runtime/node.js';
import { writeGraphModel } from './helpers/graph-model.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.enableProdMode();
});

describe('TF.js Graph models', () => {
  it('recovers the layers of a conv / pool / dense graph, fused and unfused ops alike', async () => {
    const path = writeGraphModel();
    const { model, graph } = await loadGraphModelFile(path);
    expect(graph.layers.map((l) => `${l.type}${'activation' in l ? `:${l.activation}` : ''}`)).toEqual(
      ['conv2d:relu', 'maxPool2d', 'conv2d:relu', 'maxPool2d', 'flatten', 'dense:relu', 'dense:relu', 'dense:none', 'softmax']);
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

  it('names an op it cannot convert', async () => {
    await expect(loadGraphModelFile(writeGraphModel({ name: 'squash', op: 'Tanh' }))).rejects.toThrow(UnsupportedOpError);
    await expect(loadGraphModelFile(writeGraphModel({ name: 'squash', op: 'Tanh' }))).rejects.toThrow(/node 'squash' has op Tanh, which edgeq does not convert from graph models/);
  });
});
