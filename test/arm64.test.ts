// Phones are ARM: the kernel sweeps and the shipped models on V8 for arm64. Debian's arm64
// Node 18 runs under qemu-user (test/arm64/setup.sh installs both); the same bundle of
// test/arm64/sweep.ts runs there and on this machine's Node, each printing a digest of
// every output (both engine builds: each kernel family's reference and optimized
// variants over a table of shapes, and every .edgeq in models/ at batch 1 and 3). The
// two machines must agree on every byte, and on each, every optimized kernel with its
// reference. Qemu is for correctness, never for timing.

import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { engineFile } from '../src/runtime/node.js';
import { ARM64_ROOT, capability, qemuAarch64 } from './helpers/capabilities.js';

const run = promisify(execFile);
const arm64 = capability('arm64');
const root = new URL('..', import.meta.url).pathname;

describe('arm64 (V8 for arm64 under qemu-user)', () => {
  it.skipIf(arm64.skip)('kernel sweeps and the shipped models are bit-identical to x86, optimized = reference on arm64', async () => {
    arm64.require();
    const dir = await mkdtemp(join(tmpdir(), 'edgeq-arm64-'));
    try {
      const bundle = join(dir, 'sweep.mjs');
      await esbuild.build({ entryPoints: [join(root, 'test/arm64/sweep.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node18', outfile: bundle, logLevel: 'error' });
      const models = [join(root, 'models'), join(root, 'models/edge')].flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.edgeq')).map((f) => join(d, f)));
      const arg = JSON.stringify({ builds: { simd: engineFile('simd'), scalar: engineFile('scalar') }, models });
      const x86 = JSON.parse((await run(process.execPath, [bundle, arg], { maxBuffer: 1 << 24 })).stdout);
      const arm = JSON.parse((await run(qemuAarch64()!, [join(ARM64_ROOT, 'usr/bin/node'), bundle, arg], {
        env: { ...process.env, QEMU_LD_PREFIX: ARM64_ROOT }, maxBuffer: 1 << 24, timeout: 600_000,
      })).stdout);
      expect(arm.arch).toBe('arm64');
      const cases = Object.keys(x86.out);
      const kernels = cases.filter((k) => !k.includes(' model '));
      console.log(`arm64 (${arm.node} under qemu) against x86 (${x86.node}): ${cases.length} outputs, ${kernels.length} kernel runs and ${cases.length - kernels.length} model runs over ${models.length} models, both builds`);
      expect(kernels.length).toBeGreaterThanOrEqual(100);
      expect(cases.length - kernels.length).toBe(2 * 2 * models.length);
      expect(Object.keys(arm.out).sort()).toEqual(cases.sort());
      const differ = cases.filter((k) => arm.out[k] !== x86.out[k]);
      expect(differ, 'outputs that differ between arm64 and x86').toEqual([]);
      const unlike = kernels.filter((k) => !k.endsWith(' ref') && arm.out[k] !== arm.out[`${k.slice(0, k.lastIndexOf(' '))} ref`]);
      expect(unlike, 'optimized variants that differ from their reference on arm64').toEqual([]);
      const builds = cases.filter((k) => k.startsWith('simd model') && arm.out[k] !== arm.out[`scalar${k.slice(4)}`]);
      expect(builds, 'models whose SIMD and scalar outputs differ on arm64').toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 900_000);
});
