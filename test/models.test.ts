import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../src/runtime/cli/main.js';
import { loadDataset } from '../src/toolchain/data/datasets.js';
import { loadModel } from '../src/runtime/node.js';
import { BUILDS } from './helpers/quant.js';

// The shipped models still load and reproduce, in both engine builds, the int8
// accuracy the converter measured and recorded in them.
const dir = new URL('../models/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.edgeq'));

describe('shipped models', () => {
  it('are there', () => expect(files.sort()).toEqual(['cnn-fashion-mnist.edgeq', 'cnn-mnist.edgeq', 'lstm-mnist.edgeq']));

  for (const file of files) {
    for (const build of BUILDS) {
      it(`${file} (${build}): the recorded int8 accuracy, exactly`, async () => {
        const model = await loadModel(readFileSync(new URL(file, dir)), { build });
        const meta = model.metadata as { dataset: string; evaluation: { int8Accuracy: number; count: number } };
        const d = await loadDataset(meta.dataset, 'test').catch((e: Error) => {
          if (process.env.CI) throw e;
          console.warn(`\n*** SKIPPED ${file}: ${e.message} ***\n`);
          return undefined;
        });
        if (!d) return;
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

  it('edgeq demo (npm start) runs them', async () => {
    let out = '';
    expect(await main(['demo'], { out: (s) => { out += s; }, err: (s) => { out += s; } })).toBe(0);
    for (const f of files) expect(out).toContain(f);
    expect(out).toMatch(/a few predictions/);
  });
});
