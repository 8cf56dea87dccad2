// Training on WebGPU for real. CI has no GPU: it installs Debian's chromium (for
// SwiftShader's Vulkan driver) and libvulkan1, and Dawn (the webgpu npm package) gets a
// software adapter. The same code takes a real GPU where there is one. Without those
// packages the WebGPU test is skipped (capability 'webgpu'), except on CI, where it
// fails; where they are installed, no adapter is a failure too.

import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceModel } from '../models/architectures.js';
import { main } from '../src/runtime/cli/main.js';
import { loadDataset, take } from '../src/toolchain/data/datasets.js';
import { chooseBackend, SWIFTSHADER_ICD } from '../src/toolchain/train/backend.js';
import { capability, SWIFTSHADER_ICD_PATH } from './helpers/capabilities.js';
import { renderSvg } from './helpers/svg.js';
import { tensorsOf } from '../src/toolchain/train/train.js';

const webgpu = capability('webgpu');
const chromium = capability('chromium');
const trained = join(mkdtempSync(join(tmpdir(), 'edgeq-train-')), 'lstm'); // edgeq train's output, pictured by the test after it

describe('training', () => {
  it('the capability check looks for the Vulkan driver the backend uses', () => {
    expect(SWIFTSHADER_ICD_PATH).toBe(SWIFTSHADER_ICD);
  });

  it.skipIf(webgpu.skip)('the reference CNN trains on WebGPU: a few batches, and the loss goes down', async () => {
    webgpu.require();
    // throws when Dawn returns no adapter: the test fails, it does not pass empty
    const backend = await chooseBackend('webgpu');
    expect(backend.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    console.log(`training test backend: ${backend.note}`);
    const data = take(await loadDataset('mnist', 'train'), 32);
    const { x, y } = tensorsOf(data, 'cnn');
    const model = referenceModel(tf, 'cnn', 10, 7);
    model.compile({ optimizer: tf.train.adam(0.003), loss: 'sparseCategoricalCrossentropy' });
    const losses: number[] = [];
    for (let step = 0; step < 4; step++) {
      const h = await model.fit(x, y, { batchSize: 32, epochs: 1, shuffle: false, verbose: 0 });
      losses.push(h.history.loss[0] as number);
    }
    console.log(`WebGPU losses over 4 steps on one batch: ${losses.map((l) => l.toFixed(4)).join(', ')}`);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[3]).toBeLessThan(losses[0]);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('edgeq train writes a Layers model, a training log and its picture; edgeq convert takes the model', async () => {
    const out = trained, dir = join(trained, '..');
    let printed = '';
    const io = { out: (s: string) => { printed += `${s}\n`; }, err: (s: string) => { printed += `${s}\n`; } };
    expect(await main(['train', '--arch', 'lstm', '--subset', '128', '--epochs', '2', '--batch', '32', '--backend', 'wasm', '--seed', '3', '--out', out], io), printed).toBe(0);
    expect(printed).toMatch(/backend +TF.js's wasm backend/);
    expect(printed).toMatch(/epoch  2\/2  loss \d\.\d{4}  train acc \d+\.\d\d%  test loss \d\.\d{4}  test acc/);
    const log = JSON.parse(readFileSync(join(out, 'training-log.json'), 'utf8'));
    expect(log).toMatchObject({ arch: 'lstm', dataset: 'mnist', backend: 'wasm', epochs: 2, batch: 32, trainExamples: 128, testExamples: 2004 });
    expect(log.history).toHaveLength(2);
    for (const e of log.history) expect([e.loss, e.testLoss, e.accuracy, e.testAccuracy].every(Number.isFinite), JSON.stringify(e)).toBe(true);
    expect(existsSync(join(out, 'training-curves.svg'))).toBe(true);
    expect(await main(['convert', join(out, 'model.json'), '--out', join(dir, 'lstm.edgeq'), '--calibration', 'mnist', '--calibration-size', '64'], io), printed).toBe(0);
    expect(existsSync(join(dir, 'lstm.edgeq'))).toBe(true);
    expect(await main(['train', '--arch', 'rnn', '--out', out], io)).toBe(2);
  });

  it.skipIf(chromium.skip)('training-curves.svg renders in Chromium: two panels, a point per epoch for train and test, labels', async () => {
    chromium.require();
    const r = await renderSvg(join(trained, 'training-curves.svg'));
    expect(r.root).toBe('svg');
    expect(r.box.width).toBeGreaterThan(100);
    expect(r.box.height).toBeGreaterThan(100);
    // loss and accuracy, each train and test: 2 epochs → 2 circles and 2 vertices each
    expect(r.series.map((s) => s.name)).toEqual(['train', 'test (2,004)', 'train', 'test (2,004)']);
    for (const s of r.series) {
      expect([s.circles, s.vertices], s.name).toEqual([2, 2]);
      expect(s.width, s.name).toBeGreaterThan(0);
    }
    for (const text of ['loss', 'accuracy', 'epoch', 'cross-entropy', 'train', 'test (2,004)', '1', '2']) expect(r.texts, text).toContain(text);
    expect(r.texts.some((t) => /^lstm on mnist/.test(t))).toBe(true);
  });
});
