import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as F from '../assembly/format.js';
import { crc32 } from '../src/toolchain/format/crc32.js';
import type { EdgeqModel } from '../src/toolchain/format/model.js';
import { encodeModel } from '../src/toolchain/format/write.js';
import {
  DisposedError, EdgeqError, InputError, loadModel, ModelFormatError, ModelSpecError, UnsupportedOpError,
  UnsupportedVersionError, EDGEQ_VERSION,
} from '../src/runtime/node.js';
import { minModel } from './golden/min-model.js';
import { upgradeToV2 } from '../src/toolchain/format/upgrade.js';
import { argmaxRows } from '../src/runtime/classes.js';
import { BUILDS } from './helpers/quant.js';
import { randomFloat, randomInt32, randomInt8, rng } from './helpers/quant.js';

function goldenFromSpec(): Uint8Array {
  const doc = readFileSync(new URL('../docs/FORMAT.md', import.meta.url), 'utf8');
  const block = doc.split('<!-- golden:begin -->')[1].split('<!-- golden:end -->')[0];
  const bytes: number[] = [];
  for (const line of block.split('\n')) {
    const m = /^[0-9a-f]{8} {2}((?:[0-9a-f]{2} ?)+?) {1,2}((?:[0-9a-f]{2} ?)*) *\|/.exec(line);
    if (m) bytes.push(...`${m[1]} ${m[2]}`.trim().split(/\s+/).map((h) => parseInt(h, 16)));
  }
  return Uint8Array.from(bytes);
}

// Rewrites a field and fixes the checksum, as a careless tool would.
export function patch(bytes: Uint8Array, at: number, value: number, width: 1 | 4 = 4): Uint8Array {
  const b = bytes.slice();
  const v = new DataView(b.buffer);
  if (width === 1) b[at] = value; else v.setUint32(at, value >>> 0, true);
  v.setUint32(F.H_CRC32, crc32(b.subarray(16)), true);
  return b;
}

// A model with every layer type: conv, pools, flatten, dense, LSTM-free branch.
function allLayers(): EdgeqModel {
  const r = rng(5);
  const sparse = randomInt8(r, 16 * 3 * 3 * 4, -127, 127).map((v, i) => (i % 10 === 0 ? v : 0));
  return {
    metadata: { name: 'all', labels: ['zero', 'one', 'two'], description: 'test', source: { format: 'test' } },
    input: { shape: [9, 9, 4], quant: { scale: 0.02, zeroPoint: -128 }, pixelRule: { mul: [1 / 255], add: [0] } },
    layers: [
      { type: 'conv2d', filters: 16, kernel: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu6', weights: sparse, weightScales: new Float32Array(16).fill(0.01), bias: new Int32Array(16).fill(7), output: { scale: 6 / 255, zeroPoint: -128 } },
      { type: 'max_pool2d', pool: [2, 2], strides: [2, 2], padding: 'same' },
      { type: 'avg_pool2d', pool: [2, 2], strides: [1, 1], padding: 'valid' },
      { type: 'global_avg_pool2d' },
      { type: 'dense', units: 3, activation: 'none', weights: randomInt8(r, 48, -127, 127), weightScales: new Float32Array(3).fill(0.02), output: { scale: 0.1, zeroPoint: 3 } },
      { type: 'softmax' },
    ],
  };
}

// The dump format of docs/FORMAT.md (hexdump -C).
function hexdump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = Array.from(bytes.subarray(at, at + 16));
    const hex = row.map((b) => b.toString(16).padStart(2, '0'));
    const text = row.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(8, '0')}  ${hex.slice(0, 8).join(' ')}  ${hex.slice(8).join(' ')}`.padEnd(58) + `  |${text}|`);
  }
  return lines.join('\n');
}

describe('the .edgeq format', () => {
  it('writes the smallest model byte for byte as docs/FORMAT.md shows it, and runs it', async () => {
    const golden = goldenFromSpec();
    const written = encodeModel(minModel);
    // the dump does not carry the package version: the golden model names its converter
    expect(minModel.metadata.converter).toEqual({ name: 'edgeq', version: 'golden' });
    expect(new TextDecoder().decode(written)).not.toContain(`"version":"${EDGEQ_VERSION}"`);
    expect(hexdump(golden), "docs/FORMAT.md's golden dump (between its golden markers) must be the writer's output").toBe(hexdump(written));
    expect(golden.length).toBe(368);
    expect(Array.from(written)).toEqual(Array.from(golden));
    const model = await loadModel(golden);
    expect(Array.from(model.predict([5, -3, 0, 127], { batch: 4 }))).toEqual([5, -3, 0, 127]);
    model.dispose();
  });

  it('writes the smallest model with a codebook weight as docs/FORMAT.md describes it, and runs it', async () => {
    const doc = readFileSync(new URL('../docs/FORMAT.md', import.meta.url), 'utf8');
    const data = /<!-- golden-codebook -->`([0-9a-f ]+)`/.exec(doc)![1].split(' ').map((h) => parseInt(h, 16));
    const expected = goldenFromSpec();
    const v = new DataView(expected.buffer);
    expected[0x73] = F.ENCODING_CODEBOOK;
    v.setUint32(0x90, data.length, true);
    expected.set(data, 0x150);
    v.setUint32(F.H_CRC32, crc32(expected.subarray(16)), true);
    expect(doc).toContain(`CRC-32 0x${v.getUint32(F.H_CRC32, true).toString(16)}`);
    const written = encodeModel({ ...minModel, layers: [{ ...minModel.layers[0], encoding: 'codebook' } as typeof minModel.layers[0]] });
    expect(hexdump(written)).toBe(hexdump(expected));
    const model = await loadModel(written);
    expect(model.layers()[0].weights![0].encoding).toBe('codebook');
    expect(Array.from(model.predict([5, -3, 0, 127], { batch: 4 }))).toEqual([5, -3, 0, 127]);
    model.dispose();
  });

  it('metadata in UTF-8: names and labels beyond ASCII read back as written', async () => {
    const spec = allLayers();
    spec.metadata = { ...spec.metadata, name: 'Ziffern-Schätzer', labels: ['null', 'eins', '二'], description: 'é'.repeat(5000) };
    const model = await loadModel(encodeModel(spec));
    expect([model.name, model.labels, model.metadata.description]).toEqual(['Ziffern-Schätzer', ['null', 'eins', '二'], 'é'.repeat(5000)]);
    model.dispose();
    // ASCII over more than one 4,096-byte chunk of the fast path
    spec.metadata = { ...spec.metadata, name: 'ascii', labels: ['a', 'b', 'c'], description: 'xyz'.repeat(3000) };
    const ascii = await loadModel(encodeModel(spec));
    expect([ascii.name, ascii.labels, ascii.metadata.description]).toEqual(['ascii', ['a', 'b', 'c'], 'xyz'.repeat(3000)]);
    ascii.dispose();
  });

  it('round-trips every field the writer takes', async () => {
    const spec = allLayers();
    const bytes = encodeModel(spec);
    const model = await loadModel(bytes);
    expect(model.name).toBe('all');
    expect(model.labels).toEqual(['zero', 'one', 'two']);
    expect(model.metadata.converter).toEqual({ name: 'edgeq', version: EDGEQ_VERSION });
    expect(model.metadata.source).toEqual({ format: 'test' });
    expect(model.inputShape).toEqual([9, 9, 4]);
    expect(model.outputShape).toEqual([3]);
    expect(model.info.pixelRule).toEqual({ mul: [Math.fround(1 / 255)], add: [0] });
    expect([model.info.formatVersion, model.info.floatInputsScaled]).toEqual([2, false]);
    expect(model.info.fileBytes).toBe(bytes.length);
    const layers = model.layers();
    expect(layers.map((l) => l.type)).toEqual(['conv2d', 'max_pool2d', 'avg_pool2d', 'global_avg_pool2d', 'dense', 'softmax']);
    const conv = layers[0];
    expect(conv).toMatchObject({ activation: 'relu6', padding: 'same', strides: [1, 1], macs: 9 * 9 * 16 * 36 });
    expect(conv.input).toEqual({ shape: [9, 9, 4], dtype: 'int8', scale: Math.fround(0.02), zeroPoint: -128 });
    expect(conv.output.shape).toEqual([9, 9, 16]);
    const [w, b] = conv.weights!;
    expect(w).toMatchObject({ role: 'weights', shape: [16, 3, 3, 4], encoding: 'bitmask', scales: 16 });
    expect(w.nonZero).toBe(spec.layers[0].type === 'conv2d' ? spec.layers[0].weights.filter((v) => v !== 0).length : -1);
    expect(w.fileBytes).toBe(Math.ceil(576 / 8) + w.nonZero! + 16 * 4);
    expect(b).toMatchObject({ role: 'bias', dtype: 'int32', shape: [16], encoding: 'raw', nonZero: null });
    expect(layers[1]).toMatchObject({ window: [2, 2], strides: [2, 2], padding: 'same' });
    expect(layers[1].output).toMatchObject({ shape: [5, 5, 16], scale: Math.fround(6 / 255), zeroPoint: -128 });
    expect(layers[2].output.shape).toEqual([4, 4, 16]);
    expect(layers[3].output.shape).toEqual([16]);
    expect(layers[4].weights![0]).toMatchObject({ encoding: 'raw', shape: [3, 16] });
    expect(layers[5].output).toMatchObject({ dtype: 'float32', shape: [3] });
    // conv2d + max pool run fused: the conv output (1296 B) is never stored, so the
    // arena holds the input (324 B) and the pool output (400 B), 16-aligned. The weights
    // are 90 % zeros, so the conv runs the sparse kernel, whose scratch is the padded
    // planar input (4 × 11 × 11 B + 3 + 32 B over-read room, 16-aligned) and int32
    // outputs for the 9 rows of 11 the pool reads (99, in tiles of 32) × 16 filters, and
    // 32 bytes the output pass may read past the last filter's rows.
    expect(conv.fusedWith).toBe(1);
    expect(conv.kernel).toBe('sparse');
    expect(layers[1].fusedWith).toBe(0);
    expect(layers[2].fusedWith).toBeUndefined();
    const r16 = (n: number) => Math.ceil(n / 16) * 16;
    expect(model.info.arenaBytes).toBe(r16(324) + r16(400) + r16(4 * 121 + 3 + 32) + 16 * 128 * 4 + 32);
    const p = model.predict(new Uint8Array(9 * 9 * 4).fill(100));
    expect(p.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
    expect(model.classify(new Uint8Array(324).fill(100), 2).map((c) => c.label).every((l) => ['zero', 'one', 'two'].includes(l))).toBe(true);
    model.dispose();
  });

  it('chooses the bitmask only where it is smaller', () => {
    const meta = { name: 'd', converter: { name: 'edgeq', version: 'test' } };
    const dense = (weights: Int8Array): EdgeqModel => ({
      metadata: meta, input: { shape: [64], quant: { scale: 1, zeroPoint: 0 } },
      layers: [{ type: 'dense', units: 4, activation: 'none', weights, weightScales: new Float32Array(4).fill(1), output: { scale: 1, zeroPoint: 0 } }],
    });
    // The file's size from docs/FORMAT.md's layout, not from the writer: a 64-byte header,
    // 3 tensor records of 48 bytes (input, weights, output), 1 op record of 64 bytes, the
    // metadata JSON, then the data section: the weights' bytes and the 4 f32 scales, each
    // blob 16-aligned.
    const a16 = (n: number) => Math.ceil(n / 16) * 16;
    const expectedSize = (weightBytes: number) => a16(64 + 3 * 48 + 64 + JSON.stringify(meta).length) + a16(weightBytes) + a16(4 * 4);
    const weightsRecord = 64 + 48; // tensor 1
    const written = (w: Int8Array) => {
      const b = encodeModel(dense(w));
      const v = new DataView(b.buffer, b.byteOffset);
      return { size: b.length, encoding: b[weightsRecord + 3], dataSize: v.getUint32(weightsRecord + 32, true) };
    };
    const nonZero = (i: number) => ((i * 37) % 251) - 125 || 1; // varied, never 0
    // every weight non-zero: a bitmask would add 32 mask bytes to the 256 values
    expect(written(Int8Array.from({ length: 256 }, (_, i) => nonZero(i)))).toEqual({ size: expectedSize(256), encoding: 0, dataSize: 256 });
    // 1 in 16 non-zero: 32 mask bytes + 16 values = 48 < 256
    expect(written(Int8Array.from({ length: 256 }, (_, i) => (i % 16 ? 0 : nonZero(i))))).toEqual({ size: expectedSize(32 + 16), encoding: 1, dataSize: 48 });
    // half non-zero: 32 + 128 = 160 < 256
    expect(written(Int8Array.from({ length: 256 }, (_, i) => (i % 2 ? 0 : nonZero(i))))).toEqual({ size: expectedSize(32 + 128), encoding: 1, dataSize: 160 });
    expect(expectedSize(256)).toBe(608);
  });

  it('rejects inconsistent model descriptions before writing anything', () => {
    const bad = allLayers();
    bad.layers.splice(3, 1); // dense now follows a 4×4×16 map without flatten
    expect(() => encodeModel(bad)).toThrow(ModelSpecError);
    expect(() => encodeModel(bad)).toThrow(/add a flatten layer/);
    const wrongScale = allLayers();
    (wrongScale.layers[0] as { weightScales: Float32Array }).weightScales = new Float32Array(16);
    expect(() => encodeModel(wrongScale)).toThrow(/weight scale 0 must be positive/);
  });
});

describe('typed errors', () => {
  const good = encodeModel(minModel);
  const cases: [string, Uint8Array, new (...a: never[]) => EdgeqError, RegExp][] = [
    ['empty', new Uint8Array(0), ModelFormatError, /truncated/],
    ['truncated', good.subarray(0, 200), ModelFormatError, /truncated: it has 200 bytes, its header says 368/],
    ['not an edgeq file', new TextEncoder().encode('{"format":"layers-model","modelTopology":{}}' + ' '.repeat(64)), ModelFormatError, /starts with bytes 7b 22 66 6f/],
    ['future version', patch(good, F.H_VERSION, F.VERSION + 1), UnsupportedVersionError, new RegExp(`version ${F.VERSION + 1} is not supported`)],
    ['corrupted weights', (() => { const b = good.slice(); b[0x150] ^= 1; return b; })(), ModelFormatError, /checksum/],
    ['unknown op type', patch(good, 0xd0, 99), UnsupportedOpError, /op type 99/],
    ['weights out of the data section', patch(good, 0x70 + F.T_DATA_OFFSET, 0x1000), ModelFormatError, /tensor 1 is invalid: an offset or size points outside/],
    ['metadata not JSON', patch(good, 0x110, 0x20, 1), ModelFormatError, /metadata/],
    ['scales whose requantization multiplier overflows f32', encodeModel({ ...minModel,
      input: { shape: [1], quant: { scale: 1e30, zeroPoint: 0 } },
      layers: [{ ...minModel.layers[0], weightScales: Float32Array.from([1e30]), output: { scale: 1e-30, zeroPoint: 0 } } as typeof minModel.layers[0]],
    }), ModelFormatError, /layer 0 is invalid: a scale or zero point is invalid/],
  ];
  for (const [name, bytes, type, message] of cases) {
    it(`${name}: ${type.name}`, async () => {
      const err = await loadModel(bytes).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect(err).toBeInstanceOf(EdgeqError);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('wrong input length, type and values, bad batch, use after dispose', async () => {
    const model = await loadModel(good);
    expect(() => model.predict([1, 2])).toThrow(InputError);
    expect(() => model.predict([1, 2])).toThrow(/input has 2 values; the model takes \[1\] = 1 \(for 2 items pass \{ batch: 2 \}\)/);
    expect(() => model.predict([NaN])).toThrow(/input value 0 is NaN/);
    expect(() => model.predict(['a' as unknown as number])).toThrow(InputError);
    model.dispose();
  });

  it.each(BUILDS)('the %s engine finds a non-finite value in a typed array, wherever it sits, and runs on', async (build) => {
    const model = await loadModel(good, { build });
    const n = 37; // two 16-value SIMD steps and a scalar tail
    const ok = model.predict(new Float32Array(n).fill(0.5), { batch: n });
    for (const [at, bad, shown] of [[0, NaN, 'NaN'], [17, Infinity, 'Infinity'], [36, -Infinity, '-Infinity']] as const) {
      const x = new Float32Array(n).fill(0.5);
      x[at] = bad;
      expect(() => model.predict(x, { batch: n })).toThrow(new RegExp(`input value ${at} is ${shown}: every value must be a finite number`));
    }
    const wide = new Float64Array(n).fill(0.5);
    wide[20] = 1e300; // finite, but not as a float32
    expect(() => model.predict(wide, { batch: n })).toThrow(/input value 20 is 1e\+300 \(beyond float32\)/);
    expect(model.predict(new Float32Array(n).fill(0.5), { batch: n })).toEqual(ok);
    model.dispose();
  });

  it.each(BUILDS)('the %s engine quantizes pixels by the pixel rule exactly as it quantizes the float values the rule gives', async (build) => {
    // a model whose output is its quantized input (a flatten), so every input code shows;
    // rules of 1, 2 and 3 channels (the SIMD path steps 12 values) over 7×5 pixels, batch 3;
    // some values clamp to −128 or 127
    let clamped = 0;
    for (const [mul, add] of [[[2 / 255], [-1]], [[1 / 200, -1 / 180], [-0.6, 0.7]], [[1 / 58.4, 1 / 57.1, 1 / 57.4], [-123.7 / 58.4, -116.3 / 57.1, -103.5 / 57.4]]]) {
      const c = mul.length, n = 3 * 7 * 5 * c;
      const bytes = encodeModel({
        metadata: { name: 'pixels', source: { format: 'test' } },
        input: { shape: [7, 5, c], quant: { scale: 0.01, zeroPoint: 5 }, pixelRule: { mul, add } },
        layers: [{ type: 'flatten' }],
      });
      const model = await loadModel(bytes, { build });
      const r = rng(c);
      const pixels = Uint8Array.from({ length: n }, (_, i) => (i < 4 ? [0, 255, 128, 1][i] : Math.floor(r() * 256)));
      const rule = model.info.pixelRule!;
      const values = Float32Array.from(pixels, (p, i) => Math.fround(Math.fround(p * rule.mul[i % c]) + rule.add[i % c]));
      const fromPixels = model.predict(pixels, { batch: 3 }), fromValues = model.predict(values, { batch: 3 });
      expect(fromPixels).toEqual(fromValues);
      expect(new Set(fromPixels).size).toBeGreaterThan(60);
      clamped += fromPixels.filter((v) => v === Math.fround(Math.fround(0.01) * (127 - 5)) || v === Math.fround(Math.fround(0.01) * (-128 - 5))).length;
      model.dispose();
    }
    expect(clamped).toBeGreaterThan(0);
  });

  it('bad batch, use after dispose', async () => {
    const model = await loadModel(good);
    expect(() => model.predict([1], { batch: 0 })).toThrow(/batch must be an integer/);
    expect(() => model.predict(null as unknown as number[])).toThrow(/array or typed array/);
    model.dispose();
    expect(() => model.predict([1])).toThrow(DisposedError);
    expect(() => model.layers()).toThrow(/disposed: load it again/);
    model.dispose(); // twice is fine
  });
});

describe('version 1 files', () => {
  const v1 = readFileSync(new URL('./fixtures/cnn-mnist-v1.edgeq', import.meta.url));
  const digits = Uint8Array.from({ length: 4 * 784 }, (_, i) => (i * 37 + (i >> 5) * 11) % 256);

  it('are read with their old meaning: every input, floats too, scaled by input_mul / input_add', async () => {
    const m = await loadModel(v1);
    expect(m.info.formatVersion).toBe(1);
    expect(m.info.floatInputsScaled).toBe(true);
    expect(m.info.pixelRule).toEqual({ mul: [Math.fround(1 / 255)], add: [0] });
    // a float 0–255 means what the pixel means: the old contract
    expect(Array.from(m.predict(Float32Array.from(digits), { batch: 4 }))).toEqual(Array.from(m.predict(digits, { batch: 4 })));
    m.dispose();
  });

  it('edgeq upgrade rewrites them as version 2: the shipped model byte for byte, the same outputs for pixels, floats in the source\'s units', async () => {
    const up = upgradeToV2(v1);
    expect(Array.from(up)).toEqual(Array.from(readFileSync(new URL('../models/cnn-mnist.edgeq', import.meta.url))));
    expect(new DataView(up.buffer).getUint32(F.H_VERSION, true)).toBe(2);
    const [old, now] = [await loadModel(v1), await loadModel(up)];
    expect(now.info).toMatchObject({ formatVersion: 2, floatInputsScaled: false, pixelRule: old.info.pixelRule });
    expect(now.metadata).toEqual(old.metadata);
    expect(Array.from(now.predict(digits, { batch: 4 }))).toEqual(Array.from(old.predict(digits, { batch: 4 })));
    const floats = Float32Array.from(digits, (p) => p / 255);
    const agree = argmaxRows(now.predict(floats, { batch: 4 }), 4, 10).join() === argmaxRows(old.predict(digits, { batch: 4 }), 4, 10).join();
    expect(agree).toBe(true);
    expect(Array.from(upgradeToV2(up))).toEqual(Array.from(up)); // version 2 stays as it is
    const broken = v1.slice();
    broken[200] ^= 1;
    expect(() => upgradeToV2(broken)).toThrow(/truncated or corrupted/);
    old.dispose();
    now.dispose();
  });
});

describe('weights with one scale for the whole tensor', () => {
  // Clustered weights share one scale (so that their codes are shared): the writer then
  // stores it per tensor (scale_count 0) instead of once per channel, and every weighted
  // op reads it as the same scale on every channel.
  const r = rng(31);
  const q = (scale: number, zeroPoint: number) => ({ scale, zeroPoint });
  const models: EdgeqModel[] = [
    { metadata: { name: 'conv' }, input: { shape: [7, 7, 3], quant: q(0.02, 0) }, layers: [
      { type: 'conv2d', filters: 6, kernel: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', weights: randomInt8(r, 162, -127, 127).map((v, i) => (i % 3 ? 0 : v)), weightScales: new Float32Array(6).fill(0.013), bias: randomInt32(r, 6, -300, 300), output: q(0.05, -128), encoding: 'huffman' },
      { type: 'depthwise_conv2d', multiplier: 1, kernel: [3, 3], strides: [2, 2], padding: 'same', activation: 'none', weights: randomInt8(r, 54, -127, 127), weightScales: new Float32Array(6).fill(0.021), output: q(0.04, 3) },
      { type: 'flatten' },
      { type: 'dense', units: 5, activation: 'none', weights: randomInt8(r, 5 * 96, -127, 127), weightScales: new Float32Array(5).fill(0.009), bias: randomInt32(r, 5, -100, 100), output: q(0.1, 0) },
    ] },
    { metadata: { name: 'sequence' }, input: { shape: [6, 3], quant: q(0.01, 0) }, layers: [
      { type: 'conv1d', filters: 4, kernel: 3, stride: 1, dilation: 1, padding: 'same', activation: 'relu', weights: randomInt8(r, 36, -127, 127), weightScales: new Float32Array(4).fill(0.02), output: q(0.03, -128) },
      { type: 'lstm', units: 4, activation: 'tanh', recurrentActivation: 'sigmoid', returnSequences: true, kernel: randomInt8(r, 64, -127, 127), kernelScales: new Float32Array(16).fill(0.011), recurrent: randomInt8(r, 64, -127, 127), recurrentScales: new Float32Array(16).fill(0.017), bias: randomFloat(r, 16), output: q(0.02, 0) },
      { type: 'gru', units: 3, activation: 'tanh', recurrentActivation: 'sigmoid', returnSequences: false, resetAfter: true, kernel: randomInt8(r, 36, -127, 127), kernelScales: new Float32Array(9).fill(0.012), recurrent: randomInt8(r, 27, -127, 127), recurrentScales: new Float32Array(9).fill(0.015), bias: randomFloat(r, 18), output: q(0.02, 0) },
    ] },
  ];
  // the same model with every weight tensor's scales given once
  const oneScale = (m: EdgeqModel): EdgeqModel => ({ ...m, layers: m.layers.map((l) => {
    const c = { ...l } as Record<string, unknown>;
    for (const key of ['weightScales', 'kernelScales', 'recurrentScales']) if (c[key]) c[key] = (c[key] as Float32Array).slice(0, 1);
    return c as unknown as EdgeqModel['layers'][number];
  }) });
  const channels = (m: EdgeqModel) => m.layers.reduce((s, l) => s + ['weightScales', 'kernelScales', 'recurrentScales'].reduce((t, k) => t + ((l as unknown as Record<string, Float32Array | undefined>)[k]?.length ?? 0), 0), 0);

  for (const m of models) {
    it(`${m.metadata.name}: written per tensor (${channels(m)} channel scales fewer), the same outputs bit for bit in every build`, async () => {
      const perChannel = encodeModel(m), perTensor = encodeModel(oneScale(m));
      const tensorsOf = (b: Uint8Array) => {
        const v = new DataView(b.buffer, b.byteOffset);
        const at = v.getUint32(F.H_TENSORS_OFFSET, true);
        return Array.from({ length: v.getUint32(F.H_TENSOR_COUNT, true) }, (_, t) => at + t * F.TENSOR_RECORD_SIZE)
          .filter((rec) => b[rec + F.T_KIND] === F.KIND_CONSTANT && b[rec + F.T_DTYPE] === F.DTYPE_INT8)
          .map((rec) => [v.getUint32(rec + F.T_SCALE_COUNT, true), v.getFloat32(rec + F.T_SCALE, true)]);
      };
      const pc = tensorsOf(perChannel), pt = tensorsOf(perTensor);
      expect(pc.length).toBeGreaterThan(0);
      expect(pt.length).toBe(pc.length);
      expect(pc.every(([count, scale]) => count > 1 && scale === 0)).toBe(true);
      expect(pt.every(([count, scale]) => count === 0 && scale > 0)).toBe(true);
      expect(perChannel.length - perTensor.length).toBeGreaterThanOrEqual(4 * channels(m) - 16 * 8); // less the 16-byte alignment of each scale block
      const x = randomInt8(rng(7), 4 * m.input.shape.reduce((a, b) => a * b, 1), -128, 127);
      for (const build of BUILDS) {
        const a = await loadModel(perChannel, { build }), b = await loadModel(perTensor, { build });
        const ya = a.predict(x, { batch: 4 }), yb = b.predict(x, { batch: 4 });
        expect(new Set(ya).size, build).toBeGreaterThan(3); // outputs that vary, or this compares nothing
        expect(Array.from(yb), build).toEqual(Array.from(ya));
        a.dispose(); b.dispose();
      }
    });
  }
});
