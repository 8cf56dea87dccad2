// Kernel microbenchmark: GMAC/s of every kernel on the reference models' layer shapes
// (models/architectures.ts), next to the peak of i32x4.dot_i16x8_s measured in the same run; then the
// kernels the engine picks for the shipped CNN (conv + max pool fused, sparse weights).
//
//   npx tsx bench/kernels.ts [--quick] [--json FILE]
//
// Not a test: it prints figures and ratios, and asserts nothing.

import Benchmark from 'benchmark';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EngineBuild, EngineExports } from '../src/runtime/engine.js';
import {
  Heap, prepareConv2d, prepareConv2dMaxPool, prepareDense, prepareDepthwiseConv2d, prepareGru, prepareLstm, preparePool2d,
  type Conv2dSpec, type ConvVariant, type MaxPoolSpec, type PreparedOp, type Variant,
} from '../test/helpers/kernels.js';
import { loadEngine } from '../src/runtime/node.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(`usage: npx tsx bench/kernels.ts [--quick] [--json FILE]

Times each int8 kernel (reference and optimized, SIMD and scalar builds) on the layer
shapes of the reference CNN and LSTM at batch 1, and reports GMAC/s and the ratio to
the i32x4.dot_i16x8_s peak measured in the same process.
  --quick      shorter sampling (about 10 s in all)
  --json FILE  also write the figures as JSON`);
  process.exit(0);
}
const quick = args.includes('--quick');
const jsonIdx = args.indexOf('--json');
const jsonFile = jsonIdx >= 0 ? args[jsonIdx + 1] : undefined;
const maxTime = quick ? 0.25 : 1.5;

// Deterministic pseudo-random int8 data: the timing does not depend on the values.
function bytes(n: number, seed: number): Int8Array {
  const a = new Int8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = (s >>> 24) - 128; }
  return a;
}

// Keeps about `density` of the values (every value's fate drawn from the same generator).
function pruned(a: Int8Array, density: number, seed: number): Int8Array {
  const keep = bytes(a.length, seed);
  return a.map((v, i) => ((keep[i] + 128) / 256 < density ? v : 0));
}

// target: the fraction of the dot_i16x8 peak this kernel should reach (SIMD build).
// macs: the layer's multiply-accumulates as defined (dense): for the sparse kernel,
// GMAC/s is then the dense-equivalent rate.
interface Case { name: string; macs: number; target?: number; make(heap: Heap, variant: Variant): PreparedOp }

const q = (scale: number, zeroPoint: number) => ({ scale, zeroPoint });
const maxPool2x2: MaxPoolSpec = { pool: [2, 2], strides: [2, 2], padding: 'valid' };
// 'opt' runs `kernel` ('opt': im2col + gemm, or 'sparse'); 'ref' the reference chain.
const conv = (name: string, h: number, c: number, oc: number,
  options: { density?: number; pool?: boolean; kernel?: ConvVariant } = {}): Case => {
  const o = h - 2;
  const density = options.density ?? 1;
  const spec: Conv2dSpec = {
    batch: 1, height: h, width: h, channels: c, filters: oc, kernel: [3, 3], strides: [1, 1], padding: 'valid',
    activation: 'relu', input: q(0.02, -128), output: q(0.05, -128),
    weights: density < 1 ? pruned(bytes(oc * 9 * c, oc), density, oc + 1) : bytes(oc * 9 * c, oc),
    weightScales: new Float32Array(oc).fill(0.002), bias: new Int32Array(oc).fill(100),
  };
  return {
    name, macs: o * o * oc * 9 * c,
    make: (heap, variant) => {
      const v = variant === 'ref' ? 'ref' : options.kernel ?? 'opt';
      return options.pool ? prepareConv2dMaxPool(heap, spec, maxPool2x2, v) : prepareConv2d(heap, spec, v);
    },
  };
};
const dense = (name: string, k: number, n: number): Case => ({
  name, macs: k * n,
  make: (heap, variant) => prepareDense(heap, {
    batch: 1, inputs: k, units: n, activation: 'relu', input: q(0.05, -128), output: q(0.05, -128),
    weights: bytes(n * k, n), weightScales: new Float32Array(n).fill(0.002), bias: new Int32Array(n).fill(10),
  }, variant),
});
const pool = (name: string, h: number, c: number): Case => ({
  name, macs: 0,
  make: (heap, variant) => preparePool2d(heap, {
    kind: 'max', batch: 1, height: h, width: h, channels: c, pool: [2, 2], strides: [2, 2], padding: 'valid',
  }, variant),
});
// 3×3 depthwise, same padding, stride 1 (MobileNet / DS-CNN blocks)
const depthwise = (name: string, h: number, w: number, c: number): Case => ({
  name, macs: h * w * c * 9,
  make: (heap, variant) => prepareDepthwiseConv2d(heap, {
    batch: 1, height: h, width: w, channels: c, multiplier: 1, kernel: [3, 3], strides: [1, 1], padding: 'same',
    activation: 'relu6', input: q(0.02, -128), output: q(0.05, -128),
    weights: bytes(c * 9, c), weightScales: new Float32Array(c).fill(0.01), bias: new Int32Array(c).fill(100),
  }, variant),
});
const lstm: Case = {
  name: 'LSTM 28 steps × 28 → 64 (relu, hard sigmoid)', macs: 28 * 4 * 64 * (28 + 64),
  make: (heap, variant) => prepareLstm(heap, {
    batch: 1, steps: 28, features: 28, units: 64, activation: 'relu', recurrentActivation: 'hardSigmoid',
    returnSequences: false, input: q(1 / 255, -128), output: q(0.02, -128),
    kernel: bytes(256 * 28, 1), kernelScales: new Float32Array(256).fill(0.003),
    recurrent: bytes(256 * 64, 2), recurrentScales: new Float32Array(256).fill(0.003),
    bias: new Float32Array(256).fill(0.01),
  }, variant),
};
// the activity-recognition model's GRU (models/README.md): 58 steps of 64 channels → 64
const gru = (resetAfter: boolean): Case => ({
  name: `GRU 58 steps × 64 → 64 (tanh, sigmoid, reset_after ${resetAfter ? 1 : 0})`, macs: 58 * 3 * 64 * (64 + 64),
  make: (heap, variant) => prepareGru(heap, {
    batch: 1, steps: 58, features: 64, units: 64, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter,
    returnSequences: false, input: q(0.05, -128), output: q(0.01, 0),
    kernel: bytes(192 * 64, 3), kernelScales: new Float32Array(192).fill(0.003),
    recurrent: bytes(192 * 64, 4), recurrentScales: new Float32Array(192).fill(0.003),
    bias: new Float32Array(resetAfter ? 384 : 192).fill(0.01),
  }, variant),
});

const cases: Case[] = [
  conv('CNN conv1 28×28×1 → 26×26×32', 28, 1, 32),
  pool('CNN maxpool 26×26×32 → 13×13×32', 26, 32),
  { ...conv('CNN conv2 13×13×32 → 11×11×64', 13, 32, 64), target: 0.5 },
  pool('CNN maxpool 11×11×64 → 5×5×64', 11, 64),
  { ...conv('CNN conv3 5×5×64 → 3×3×64', 5, 64, 64), target: 0.5 },
  { ...dense('CNN dense 576 → 64', 576, 64), target: 0.5 },
  dense('CNN dense 64 → 10', 64, 10),
  { ...lstm, target: 0.3 },
  dense('LSTM dense 64 → 64', 64, 64),
  gru(false),
  gru(true),
  depthwise('depthwise 3×3 48×48×8 (MobileNetV1-0.25, 96×96 input, block 1)', 48, 48, 8),
  depthwise('depthwise 3×3 12×12×64 (MobileNetV1-0.25, block 7)', 12, 12, 64),
  depthwise('depthwise 3×3 25×5×64 (DS-CNN keyword spotting)', 25, 5, 64),
  // what the engine runs for models/cnn-fashion-mnist.edgeq (conv1 dense, conv2 and
  // conv3 92 % zeros): the kernel choice of assembly/model/model.ts (sparseIsFaster)
  conv('CNN conv1 + maxpool, gemm (fused)', 28, 1, 32, { pool: true }),
  conv('CNN conv1 + maxpool, sparse kernel, all weights non-zero', 28, 1, 32, { pool: true, kernel: 'sparse' }),
  conv('CNN conv2 + maxpool, gemm (fused), dense weights', 13, 32, 64, { pool: true }),
  conv('CNN conv2 + maxpool, sparse kernel, 8 % non-zero', 13, 32, 64, { pool: true, kernel: 'sparse', density: 0.08 }),
  conv('CNN conv3, sparse kernel, 8 % non-zero', 5, 64, 64, { kernel: 'sparse', density: 0.08 }),
];
// the engine's path through the shipped CNN, in order
const shipped = [
  'CNN conv1 + maxpool, sparse kernel, all weights non-zero', 'CNN conv2 + maxpool, sparse kernel, 8 % non-zero',
  'CNN conv3, sparse kernel, 8 % non-zero', 'CNN dense 576 → 64', 'CNN dense 64 → 10',
];

function time(name: string, fn: () => void): Promise<Benchmark> {
  return new Promise((resolve, reject) => {
    const b = new Benchmark(name, fn, { maxTime, minSamples: 5, onComplete: () => resolve(b), onError: (e: unknown) => reject(e) });
    b.run();
  });
}

async function peak(e: EngineExports): Promise<number> {
  const iterations = 100_000;
  const b = await time('peak', () => { e.peak_dot_i16x8(iterations, 3); });
  return (iterations * 12 * 8) / b.stats.mean / 1e9;
}

interface Row { kernel: string; build: EngineBuild; variant: Variant; microseconds: number; rme: number; gmacs: number | null }

const rows: Row[] = [];
const engines = { simd: await loadEngine('simd'), scalar: await loadEngine('scalar') };
const peakBefore = await peak(engines.simd);
for (const c of cases) {
  for (const build of ['simd', 'scalar'] as const) {
    for (const variant of ['opt', 'ref'] as const) {
      const e = engines[build];
      e.mem_reset();
      const op = c.make(new Heap(e), variant);
      op.setInput(bytes(op.inputLength, 9));
      const b = await time(c.name, () => op.run());
      const us = b.stats.mean * 1e6;
      rows.push({ kernel: c.name, build, variant, microseconds: us, rme: b.stats.rme, gmacs: c.macs ? c.macs / b.stats.mean / 1e9 : null });
    }
  }
}

// Measured again at the end: the higher of the two is the yardstick (conservative when
// the machine's speed drifts during the run).
const peakGmacs = Math.max(peakBefore, await peak(engines.simd));

const fmt = (v: number, d = 1) => v.toFixed(d);
console.log(`\nedgeq kernel benchmark — ${new Date().toISOString()} — Node ${process.version}, one thread${quick ? ', --quick' : ''}`);
console.log(`peak of i32x4.dot_i16x8_s (operands in registers, same run, higher of start and end): ${fmt(peakGmacs)} GMAC/s\n`);
console.log('| kernel (batch 1) | SIMD µs | SIMD GMAC/s | % of peak | scalar µs | SIMD ref µs | SIMD speed-up over ref |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const c of cases) {
  const get = (build: EngineBuild, variant: Variant) => rows.find((r) => r.kernel === c.name && r.build === build && r.variant === variant)!;
  const s = get('simd', 'opt'), sc = get('scalar', 'opt'), ref = get('simd', 'ref');
  console.log(`| ${c.name} | ${fmt(s.microseconds, 2)} ±${fmt(s.rme)}% | ${s.gmacs ? fmt(s.gmacs) : '–'} | ${s.gmacs ? fmt((100 * s.gmacs) / peakGmacs) + '%' : '–'} | ${fmt(sc.microseconds, 2)} | ${fmt(ref.microseconds, 2)} | ${fmt(ref.microseconds / s.microseconds)}× |`);
}
const simdOpt = (name: string) => rows.find((r) => r.kernel === name && r.build === 'simd' && r.variant === 'opt')!.microseconds;
const total = (names: string[]) => names.map(simdOpt).reduce((a, b) => a + b, 0);
const sums = { referenceCnnUs: total(cases.slice(0, 7).map((c) => c.name)), shippedCnnUs: total(shipped) };
console.log(`\nreference CNN layers summed (SIMD, batch 1), dense weights, one kernel per layer: ${fmt(sums.referenceCnnUs)} µs for 2,794,240 MACs`);
console.log(`the shipped CNN as the engine runs it (fused, sparse where cheaper): ${fmt(sums.shippedCnnUs)} µs`);
console.log('(fused and sparse rows count the layer\'s MACs as defined, though the fused kernels skip conv outputs the pool drops and the sparse one zero weights: an equivalent rate)');
console.log('\ntargets (fraction of the peak, SIMD build, batch 1):');
for (const c of cases.filter((x) => x.target)) {
  const g = rows.find((r) => r.kernel === c.name && r.build === 'simd' && r.variant === 'opt')!.gmacs!;
  const got = g / peakGmacs;
  console.log(`  ${got >= c.target! ? 'met   ' : 'MISSED'} ${c.name}: ${fmt(100 * got)}% (target ${100 * c.target!}%)`);
}
if (jsonFile) {
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, peakGmacs, sums, rows }, null, 2));
  console.log(`figures written to ${jsonFile}`);
}
