// The kernel sweeps as one script (an esbuild bundle that Node 18 runs): each kernel
// family's reference and optimized variants over a table of shapes with seeded inputs,
// on every engine build given, and the shipped models' outputs at batch 1 and 3. It
// prints one JSON object, {case: SHA-256 of the output bytes}. test/arm64.test.ts runs it
// on x86 Node and arm64 Node under qemu and compares; test/relaxed.test.ts runs it with
// the relaxed-SIMD build and compares that build's digests with the SIMD build's.
//
//   node sweep.mjs '{"builds": {"simd": "…/edgeq.simd.wasm", …}, "models": ["…/x.edgeq", …]}'

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { instantiateEngine } from '../../src/runtime/engine.js';
import { loadModel } from '../../src/runtime/model.js';
import { rng } from '../../src/runtime/rng.js';
import {
  Heap, prepareBinary, prepareConv1d, prepareConv2d, prepareConv2dMaxPool, prepareDense, prepareDepthwiseConv2d, prepareGru,
  prepareLstm, preparePool2d, type PreparedOp,
} from '../helpers/kernels.js';

const spec = JSON.parse(process.argv[2]) as { builds: Record<string, string>; models: string[] };
const out: Record<string, string> = {};
const digest = (a: ArrayBufferView) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex').slice(0, 24);
let r = rng(0);
const i8 = (n: number, lo = -127, hi = 127) => Int8Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
const i32 = (n: number, m: number) => Int32Array.from({ length: n }, () => Math.floor((r() * 2 - 1) * m));
const f32 = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + r() * (hi - lo));
const q = () => ({ scale: 0.01 + 0.05 * r(), zeroPoint: Math.floor(r() * 200) - 100 });

for (const [build, file] of Object.entries(spec.builds)) {
  r = rng(20261203); // every build gets the same shapes and values
  const e = await instantiateEngine(readFileSync(file));
  const heap = new Heap(e);
  // runs each variant on the same input (the spec built once, outside `make`); records each variant's output
  const sweep = (name: string, make: (v: 'ref' | 'opt' | 'sparse') => PreparedOp, variants: ('ref' | 'opt' | 'sparse')[] = ['ref', 'opt']) => {
    e.mem_reset();
    let x: Int8Array | undefined;
    for (const v of variants) {
      const op = make(v);
      x ??= i8(op.inputLength, -128, 127);
      op.setInput(x);
      op.run();
      out[`${build} ${name} ${v}`] = digest(op.output());
    }
  };
  for (const [h, c, f, k, s, pad] of [[9, 3, 8, 3, 1, 'same'], [12, 8, 16, 3, 2, 'valid'], [7, 1, 5, 5, 1, 'same'], [16, 17, 9, 1, 1, 'valid']] as const) {
    const conv = { batch: 2, height: h, width: h + 1, channels: c, filters: f, kernel: [k, k] as [number, number], strides: [s, s] as [number, number], padding: pad, activation: 'relu' as const, input: q(), output: q(), weights: i8(f * k * k * c), weightScales: f32(f, 0.001, 0.01), bias: i32(f, 2000) };
    sweep(`conv2d ${h}×${h + 1}×${c} → ${f} k${k} s${s} ${pad}`, (v) => prepareConv2d(heap, conv, v), s === 1 ? ['ref', 'opt', 'sparse'] : ['ref', 'opt']);
    if (s === 1) sweep(`conv2d+maxpool ${h}×${h + 1}×${c} → ${f} k${k}`, (v) => prepareConv2dMaxPool(heap, conv, { pool: [2, 2], strides: [2, 2], padding: 'valid' }, v), ['ref', 'opt', 'sparse']);
    const m = 1 + (c % 2);
    const dw = {
      batch: 2, height: h, width: h + 1, channels: c, multiplier: m, kernel: [k, k] as [number, number], strides: [s, s] as [number, number], padding: pad, activation: 'relu6' as const, input: q(), output: q(),
      weights: i8(c * m * k * k), weightScales: f32(c * m, 0.001, 0.02), bias: i32(c * m, 2000),
    };
    sweep(`depthwise ${h}×${h + 1}×${c} m${m} k${k} s${s} ${pad}`, (v) => prepareDepthwiseConv2d(heap, dw, v as 'ref' | 'opt'));
  }
  for (const [steps, c, f, k, d, pad] of [[20, 3, 8, 3, 1, 'same'], [31, 9, 16, 5, 2, 'causal'], [16, 64, 32, 3, 1, 'valid']] as const) {
    const c1 = {
      batch: 2, steps, channels: c, filters: f, kernel: k, stride: 1, dilation: d, padding: pad, activation: 'relu' as const, input: q(), output: q(),
      weights: i8(f * k * c), weightScales: f32(f, 0.001, 0.01), bias: i32(f, 2000),
    };
    sweep(`conv1d ${steps}×${c} → ${f} k${k} d${d} ${pad}`, (v) => prepareConv1d(heap, c1, v as 'ref' | 'opt'));
  }
  for (const [k, n] of [[9, 4], [64, 10], [576, 64], [100, 33]]) {
    const d = { batch: 3, inputs: k, units: n, activation: 'relu' as const, input: q(), output: q(), weights: i8(n * k), weightScales: f32(n, 0.001, 0.01), bias: i32(n, 5000) };
    sweep(`dense ${k} → ${n}`, (v) => prepareDense(heap, d, v as 'ref' | 'opt'));
  }
  for (const kind of ['max', 'avg', 'globalAvg', 'globalMax'] as const) {
    sweep(`pool2d ${kind}`, (v) => preparePool2d(heap, { kind, batch: 2, height: 11, width: 9, channels: 24, pool: [3, 2], strides: [2, 2], padding: 'same' }, v as 'ref' | 'opt'));
  }
  for (const op of ['add', 'multiply', 'concatenate'] as const) {
    const b = { op, batch: 5, n: 37, nb: op === 'concatenate' ? 19 : 37, a: q(), b: q(), output: q(), activation: op === 'concatenate' ? 'none' as const : 'relu' as const };
    sweep(`${op}`, (v) => prepareBinary(heap, b, v as 'ref' | 'opt'));
  }
  for (const [cell, units, feat, act, rec, resetAfter, direction] of [
    ['lstm', 64, 28, 'relu', 'hardSigmoid', false, 'forward'], ['lstm', 17, 9, 'tanh', 'sigmoid', false, 'backwardAligned'],
    ['gru', 64, 64, 'tanh', 'sigmoid', true, 'forward'], ['gru', 13, 5, 'relu', 'hardSigmoid', false, 'backward'],
  ] as const) {
    const n = (cell === 'lstm' ? 4 : 3) * units;
    const s = {
      batch: 2, steps: 12, features: feat, units, activation: act, recurrentActivation: rec, returnSequences: true, direction, resetAfter,
      input: q(), output: q(), kernel: i8(n * feat), kernelScales: f32(n, 0.001, 0.01), recurrent: i8(n * units), recurrentScales: f32(n, 0.001, 0.01),
      bias: f32(n * (resetAfter ? 2 : 1), -0.5, 0.5),
    };
    sweep(`${cell} ${feat} → ${units} ${act}/${rec}${resetAfter ? ' reset_after' : ''} ${direction}`, (v) => (cell === 'lstm' ? prepareLstm : prepareGru)(heap, s, v as 'ref' | 'opt'));
  }
  // the shipped models, through the runtime API
  const engine = readFileSync(file);
  for (const file of spec.models) {
    const m = await loadModel(readFileSync(file), { engine });
    const per = m.inputShape.reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: 3 * per }, (_, i) => Math.sin(i * 0.37) * 0.8 + 0.3 * Math.sin(i * 0.011));
    out[`${build} model ${basename(file)} batch 1`] = digest(m.predict(x.subarray(0, per)));
    out[`${build} model ${basename(file)} batch 3`] = digest(m.predict(x, { batch: 3 }));
    m.dispose();
  }
}
process.stdout.write(JSON.stringify({ arch: process.arch, node: process.version, out }));
