// Golden vectors across engines: the shipped models on the same inputs give
// bit-identical outputs in Node (V8), JavaScriptCore (WebKit's engine, through Debian's
// jsc shell) and — in test/bundle.test.ts and test/worker.test.ts — Chromium and
// workerd, with both the SIMD and the scalar build.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../src/toolchain/data/datasets.js';
import { engineFile, loadModel } from '../src/runtime/node.js';
import { capability, jscPath } from './helpers/capabilities.js';
import { BUILDS } from './helpers/quant.js';

const jsc = capability('jsc');

describe.skipIf(jsc.skip)('parity with JavaScriptCore', () => {
  for (const file of ['cnn-mnist.edgeq', 'lstm-mnist.edgeq']) {
    for (const build of BUILDS) {
      it(`${file}, ${build} build: jsc's outputs equal Node's bit for bit`, async () => {
        jsc.require();
        const modelPath = new URL(`../models/${file}`, import.meta.url).pathname;
        const digits = (await loadDataset('mnist', 'test')).images.subarray(0, 32 * 784);
        const dir = mkdtempSync(join(tmpdir(), 'edgeq-jsc-'));
        writeFileSync(join(dir, 'input.bin'), digits);
        const out = JSON.parse(execFileSync(jscPath()!, [new URL('./webkit/parity.js', import.meta.url).pathname, '--', engineFile(build), modelPath, join(dir, 'input.bin'), '32'], { encoding: 'utf8' })) as { simd: number; bits: number[] };
        const m = await loadModel(readFileSync(modelPath), { build });
        const want = m.predict(digits, { batch: 32 });
        m.dispose();
        expect(out.simd).toBe(build === 'simd' ? 1 : 0);
        expect(out.bits).toEqual(Array.from(new Uint32Array(want.buffer)));
      });
    }
  }
});
