// The relaxed-SIMD build (asconfig target "relaxed": gemm on
// i32x4.relaxed_dot_i8x16_i7x16_add_s with weights split into w⁺ and w⁻) gives the SIMD
// build's results bit for bit: the kernel sweeps of test/arm64/sweep.ts and every .edgeq
// in models/, run by the same script on both builds. Node 20 validates relaxed SIMD only
// behind --experimental-wasm-relaxed-simd, and its baseline compiler (Liftoff) gets the
// dot wrong, so the script runs in a child Node with the flag and --no-liftoff
// (TurboFan, as Chromium runs hot code); test/bundle.test.ts checks Chromium.

import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { relaxedSimdSupported } from '../src/runtime/engine.js';
import { engineFile, loadModel } from '../src/runtime/node.js';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

describe('the relaxed-SIMD build', () => {
  it('kernel sweeps and the shipped models: bit-identical to the SIMD build (Node with relaxed SIMD, TurboFan)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgeq-relaxed-'));
    try {
      const bundle = join(dir, 'sweep.mjs');
      await esbuild.build({ entryPoints: [join(root, 'test/arm64/sweep.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node18', outfile: bundle, logLevel: 'error' });
      const models = [join(root, 'models'), join(root, 'models/edge')].flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.edgeq')).map((f) => join(d, f)));
      const arg = JSON.stringify({ builds: { simd: engineFile('simd'), relaxed: engineFile('relaxed') }, models });
      const { out } = JSON.parse((await run(process.execPath, ['--experimental-wasm-relaxed-simd', '--no-liftoff', bundle, arg], { maxBuffer: 1 << 24 })).stdout) as { out: Record<string, string> };
      const relaxed = Object.keys(out).filter((k) => k.startsWith('relaxed '));
      const differ = relaxed.filter((k) => out[k] !== out[`simd ${k.slice('relaxed '.length)}`]);
      console.log(`relaxed build: ${relaxed.length} outputs (kernel sweeps and ${models.length} models) against the SIMD build's, ${differ.length} differ`);
      expect(relaxed.length).toBeGreaterThanOrEqual(70);
      expect(differ).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);

  // Node 20 validates relaxed SIMD only behind a flag; newer Node (V8 ≥ 11.4) without one
  const validates = relaxedSimdSupported();
  if (validates) console.warn('SKIPPED: this Node validates relaxed SIMD, so the refusal cannot be shown here (Node 20 shows it)');
  it.skipIf(validates)("is refused with a clear error where relaxed SIMD does not validate (Node 20 without its flag)", async () => {
    await expect(loadModel(new Uint8Array(64), { build: 'relaxed' })).rejects.toThrow(/build 'relaxed' needs relaxed SIMD, which this JavaScript engine refuses/);
  });
});
