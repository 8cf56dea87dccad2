// The loader against untrusted bytes: every mutated file either loads and runs, or is
// rejected with a status (a typed error through the API). A trap (out-of-bounds
// access, unreachable) fails the test, and so does a hang (the test's time limit).

import { describe, expect, it } from 'vitest';
import * as F from '../assembly/format.js';
import { crc32 } from '../src/toolchain/format/crc32.js';
import type { EdgeqModel } from '../src/toolchain/format/model.js';
import { encodeModel } from '../src/toolchain/format/write.js';
import { EdgeqError, loadEngine, loadModel } from '../src/runtime/node.js';
import { minModel } from './golden/min-model.js';
import { randomFloat, randomInt8, rng } from './helpers/quant.js';

function seeds(): Uint8Array[] {
  const r = rng(2024);
  const q = (scale: number, zeroPoint: number) => ({ scale, zeroPoint });
  const cnn: EdgeqModel = {
    metadata: { name: 'cnn', labels: ['a', 'b', 'c'] },
    input: { shape: [8, 8, 1], quant: q(1 / 255, -128), pixelRule: { mul: [1 / 255], add: [0] } },
    layers: [
      { type: 'conv2d', filters: 4, kernel: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', weights: randomInt8(r, 36, -127, 127).map((v, i) => (i % 4 ? 0 : v)), weightScales: new Float32Array(4).fill(0.01), bias: new Int32Array(4), output: q(0.05, -128), encoding: 'bitmask' },
      { type: 'max_pool2d', pool: [2, 2], strides: [2, 2], padding: 'valid' },
      { type: 'conv2d', filters: 8, kernel: [3, 3], strides: [2, 2], padding: 'valid', activation: 'relu6', weights: randomInt8(r, 288, -127, 127), weightScales: new Float32Array(8).fill(0.02), output: q(0.05, -128) },
      { type: 'avg_pool2d', pool: [1, 1], strides: [1, 1], padding: 'same' },
      { type: 'global_avg_pool2d' },
      { type: 'dense', units: 3, activation: 'none', weights: randomInt8(r, 24, -127, 127), weightScales: new Float32Array(3).fill(0.02), bias: new Int32Array(3).fill(5), output: q(0.1, 0) },
      { type: 'softmax' },
    ],
  };
  const huffman: EdgeqModel = {
    metadata: { name: 'huffman' },
    input: { shape: [40], quant: q(0.05, 0) },
    layers: [{ type: 'dense', units: 8, activation: 'relu', encoding: 'huffman', weights: randomInt8(r, 320, -20, 20).map((v, i) => (i % 7 ? 0 : v)), weightScales: new Float32Array(8).fill(0.02), output: q(0.05, -128) }],
  };
  // clustered weights, as the converter writes them: a few distinct values, most
  // weights 0, one scale for the whole tensor
  const codebook: EdgeqModel = {
    metadata: { name: 'codebook' },
    input: { shape: [30], quant: q(0.05, 0) },
    layers: [{ type: 'dense', units: 6, activation: 'relu', encoding: 'codebook', weights: randomInt8(r, 180, -4, 4).map((v, i) => (i % 5 ? 0 : v * 11)), weightScales: Float32Array.of(0.02), output: q(0.05, -128) }],
  };
  const lstm: EdgeqModel = {
    metadata: { name: 'lstm' },
    input: { shape: [5, 3], quant: q(0.01, 0) },
    layers: [
      { type: 'lstm', units: 4, activation: 'relu', recurrentActivation: 'hardSigmoid', returnSequences: true, kernel: randomInt8(r, 48, -127, 127), kernelScales: new Float32Array(16).fill(0.01), recurrent: randomInt8(r, 64, -127, 127), recurrentScales: new Float32Array(16).fill(0.01), bias: randomFloat(r, 16), output: q(0.02, 0) },
      { type: 'flatten' },
      { type: 'dense', units: 2, activation: 'relu', weights: randomInt8(r, 40, -127, 127), weightScales: new Float32Array(2).fill(0.05), output: q(0.05, -128) },
    ],
  };
  // a graph: a skip connection, the three two-input ops (one with a broadcast vector), depthwise
  const graph: EdgeqModel = {
    metadata: { name: 'graph' },
    input: { shape: [6, 6, 4], quant: q(0.02, 0) },
    layers: [
      { type: 'conv2d', filters: 4, kernel: [1, 1], strides: [1, 1], padding: 'valid', activation: 'relu', weights: randomInt8(r, 16, -127, 127), weightScales: new Float32Array(4).fill(0.02), output: q(0.03, -128) },
      { type: 'depthwise_conv2d', multiplier: 1, kernel: [3, 3], strides: [1, 1], padding: 'same', activation: 'none', weights: randomInt8(r, 36, -127, 127), weightScales: new Float32Array(4).fill(0.02), bias: new Int32Array(4).fill(3), output: q(0.04, 5) },
      { type: 'add', activation: 'relu', output: q(0.05, -128), inputs: [1, 0] },
      { type: 'concatenate', output: q(0.05, -100), inputs: [2, -1] },
      { type: 'global_avg_pool2d', inputs: [3] },
      { type: 'multiply', activation: 'none', output: q(0.01, 0), inputs: [3, 4] },
      { type: 'flatten' },
      { type: 'dense', units: 3, activation: 'none', weights: randomInt8(r, 3 * 288, -127, 127), weightScales: new Float32Array(3).fill(0.01), output: q(0.1, 0) },
    ],
  };
  // a sequence model: the 1-D ops, a dilated causal conv1d among them
  const sequence: EdgeqModel = {
    metadata: { name: 'sequence' },
    input: { shape: [16, 3], quant: q(0.02, 0) },
    layers: [
      { type: 'conv1d', filters: 4, kernel: 3, stride: 1, dilation: 1, padding: 'same', activation: 'relu', weights: randomInt8(r, 36, -127, 127), weightScales: new Float32Array(4).fill(0.02), bias: new Int32Array(4).fill(2), output: q(0.03, -128) },
      { type: 'max_pool1d', pool: 2, stride: 2, padding: 'valid' },
      { type: 'conv1d', filters: 6, kernel: 2, stride: 1, dilation: 2, padding: 'causal', activation: 'relu6', weights: randomInt8(r, 48, -127, 127), weightScales: new Float32Array(6).fill(0.02), output: q(0.04, -128) },
      { type: 'avg_pool1d', pool: 3, stride: 2, padding: 'same' },
      { type: 'conv1d', filters: 5, kernel: 2, stride: 2, dilation: 1, padding: 'valid', activation: 'none', weights: randomInt8(r, 60, -127, 127), weightScales: new Float32Array(5).fill(0.02), output: q(0.05, 0) },
      { type: 'global_max_pool1d' },
      { type: 'dense', units: 2, activation: 'none', weights: randomInt8(r, 10, -127, 127), weightScales: new Float32Array(2).fill(0.05), output: q(0.05, 0) },
    ],
  };
  const pooled: EdgeqModel = {
    metadata: { name: 'pooled' },
    input: { shape: [9, 4], quant: q(0.02, 3) },
    layers: [{ type: 'global_avg_pool1d' }],
  };
  return [encodeModel(minModel), encodeModel(cnn), encodeModel(lstm), encodeModel(huffman), encodeModel(codebook), encodeModel(graph), encodeModel(sequence), encodeModel(pooled)];
}

const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 64, 255, 256, 4096, 65535, 1 << 24, (1 << 24) + 1, 1 << 28, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0,
  0x7fc00000 /* NaN */, 0x7f800000 /* inf */, 0xbf800000 /* -1.0 */, 0x3f800000 /* 1.0 */, 0x00000001 /* denormal */];

// A field to corrupt: header words, tensor and op record fields, or a data byte.
function mutate(seed: Uint8Array, r: () => number): Uint8Array {
  const b = seed.slice();
  const v = new DataView(b.buffer);
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const kind = r();
  if (kind < 0.3) { // blind byte flips, checksum left stale
    for (let i = 0, n = 1 + Math.floor(r() * 8); i < n; i++) b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8);
    return b;
  }
  if (kind < 0.4) return b.slice(0, Math.floor(r() * b.length)); // truncation
  const tensors = v.getUint32(F.H_TENSORS_OFFSET, true), nt = v.getUint32(F.H_TENSOR_COUNT, true);
  const ops = v.getUint32(F.H_OPS_OFFSET, true), no = v.getUint32(F.H_OP_COUNT, true);
  const data = v.getUint32(F.H_DATA_OFFSET, true);
  for (let i = 0, n = kind < 0.85 ? 1 : 2 + Math.floor(r() * 3); i < n; i++) {
    const where = r();
    const old = (at: number) => v.getUint32(at, true);
    const value = (at: number) => {
      const c = r();
      if (c < 0.5) return pick(INTERESTING);
      if (c < 0.8) return (old(at) + pick([-1, 1, -16, 16, 2, -2])) >>> 0;
      return Math.floor(r() * 2 ** 32);
    };
    if (where < 0.2) {
      const at = 4 + 4 * Math.floor(r() * 15);
      if (at !== F.H_CRC32) v.setUint32(at, value(at), true);
    } else if (where < 0.55) {
      const rec = tensors + F.TENSOR_RECORD_SIZE * Math.floor(r() * nt);
      if (r() < 0.3) b[rec + Math.floor(r() * 4)] = pick([0, 1, 2, 3, 4, 5, 255]);
      else { const at = rec + 4 + 4 * Math.floor(r() * 11); v.setUint32(at, value(at), true); }
    } else if (where < 0.85) {
      const at = ops + F.OP_RECORD_SIZE * Math.floor(r() * no) + 4 * Math.floor(r() * 16);
      v.setUint32(at, value(at), true);
    } else if (data < b.length) {
      b[data + Math.floor(r() * (b.length - data))] = Math.floor(r() * 256); // weights: still a valid model, mostly
    }
  }
  v.setUint32(F.H_CRC32, crc32(b.subarray(16)), true);
  return b;
}

describe('loader fuzzing', () => {
  it('100,000 mutated, truncated and structure-aware files: load and run, or a clean rejection', async () => {
    const all = seeds();
    const r = rng(7);
    const statuses = new Map<number, number>();
    let ran = 0;
    for (const build of ['simd', 'scalar'] as const) {
      const e = await loadEngine(build);
      const iterations = build === 'simd' ? 80_000 : 20_000;
      for (let i = 0; i < iterations; i++) {
        const bytes = mutate(all[i % all.length], r);
        e.mem_reset();
        const at = e.mem_alloc(bytes.length);
        new Uint8Array(e.memory.buffer, at, bytes.length).set(bytes);
        let status: number;
        try {
          status = e.model_load(at, bytes.length);
          if (status === 0) {
            const batch = 1 + (i % 3);
            expect(e.model_prepare(batch)).toBe(0);
            const n = batch * e.model_tensor_info(e.model_input_tensor(), 12);
            // straight into the engine's memory: a mutant may declare an input far larger
            // than a JavaScript array may be
            const input = new Float32Array(e.memory.buffer, e.model_input_ptr(), n);
            for (let j = 0; j < n; j++) input[j] = r() * 255;
            expect(e.model_run(batch, 0)).toBe(0);
            const out = new Float32Array(e.memory.buffer, e.model_output_ptr(), batch * e.model_tensor_info(e.model_output_tensor(), 12));
            expect(out.every(Number.isFinite)).toBe(true);
            ran++;
          }
        } catch (err) {
          throw new Error(`file ${i} (${build}) crashed the engine: ${(err as Error).message}; bytes: ${Buffer.from(bytes).toString('base64')}`);
        }
        expect(status >= -10 && status <= 0, `status ${status}`).toBe(true);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      // the same instance still loads and runs a good model
      e.mem_reset();
      const at = e.mem_alloc(all[0].length);
      new Uint8Array(e.memory.buffer, at, all[0].length).set(all[0]);
      expect(e.model_load(at, all[0].length)).toBe(0);
      expect(e.model_prepare(1)).toBe(0);
      new Float32Array(e.memory.buffer, e.model_input_ptr(), 1)[0] = 42;
      expect(e.model_run(1, 0)).toBe(0);
      expect(new Float32Array(e.memory.buffer, e.model_output_ptr(), 1)[0]).toBe(42);
    }
    const summary = [...statuses.entries()].sort((a, b) => b[0] - a[0]).map(([s, n]) => `${s}: ${n}`).join(', ');
    console.log(`fuzz: 100,000 files; ran ${ran}; statuses ${summary}`);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(100_000);
    expect(ran).toBeGreaterThan(1000);
    for (const s of [0, -1, -4, -5, -6, -7, -8]) expect(statuses.get(s) ?? 0, `status ${s} never seen`).toBeGreaterThan(0);
  });

  it('through the public API every rejection is a typed EdgeqError', async () => {
    const all = seeds();
    const r = rng(8);
    let loaded = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = mutate(all[i % all.length], r);
      try {
        const m = await loadModel(bytes);
        m.predict(new Float32Array(m.inputShape.reduce((a, b) => a * b, 1)).fill(1));
        m.dispose();
        loaded++;
      } catch (err) {
        expect(err, String(err)).toBeInstanceOf(EdgeqError);
      }
    }
    expect(loaded).toBeGreaterThan(0);
  });
});
