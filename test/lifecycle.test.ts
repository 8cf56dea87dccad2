import { describe, expect, it } from 'vitest';
import type { EdgeqModel } from '../src/toolchain/format/model.js';
import { encodeModel } from '../src/toolchain/format/write.js';
import { DisposedError, loadModel } from '../src/runtime/node.js';
import { randomInt8, rng } from './helpers/quant.js';

function smallCnn(seed = 3): Uint8Array {
  const r = rng(seed);
  const q = (scale: number, zeroPoint: number) => ({ scale, zeroPoint });
  const m: EdgeqModel = {
    metadata: { name: `cycle-${seed}` },
    input: { shape: [12, 12, 1], quant: q(1 / 255, -128), pixelRule: { mul: [1 / 255], add: [0] } },
    layers: [
      { type: 'conv2d', filters: 8, kernel: [3, 3], strides: [1, 1], padding: 'valid', activation: 'relu', weights: randomInt8(r, 72, -127, 127), weightScales: new Float32Array(8).fill(0.01), bias: new Int32Array(8), output: q(0.05, -128) },
      { type: 'max_pool2d', pool: [2, 2], strides: [2, 2], padding: 'valid' },
      { type: 'flatten' },
      { type: 'dense', units: 10, activation: 'none', weights: randomInt8(r, 2000, -127, 127), weightScales: new Float32Array(10).fill(0.01), output: q(0.1, 0) },
      { type: 'softmax' },
    ],
  };
  return encodeModel(m);
}

describe('model lifecycle', () => {
  it('10,000 load / predict / dispose cycles reuse engine memory and do not grow the process', async () => {
    const bytes = smallCnn();
    const input = new Uint8Array(144).fill(90);
    const first = await loadModel(bytes);
    const expected = first.predict(input);
    first.dispose();
    const gc = (globalThis as { gc?: () => void }).gc;
    const used = () => { const u = process.memoryUsage(); return { rss: u.rss, js: u.heapUsed + u.external + u.arrayBuffers }; };
    let warm = used();
    for (let i = 0; i < 10_000; i++) {
      const m = await loadModel(bytes);
      const y = m.predict(input);
      if (i % 1000 === 0) expect(Array.from(y)).toEqual(Array.from(expected));
      m.dispose();
      if (i === 1999) { gc?.(); warm = used(); }
    }
    gc?.();
    const end = used();
    const mib = (n: number) => (n / 1048576).toFixed(2);
    console.log(`lifecycle: cycles 2,000–10,000 changed JS heap + buffers by ${mib(end.js - warm.js)} MiB, rss by ${mib(end.rss - warm.rss)} MiB (gc ${gc ? 'forced' : 'not exposed'})`);
    expect(end.js - warm.js).toBeLessThan(4 * 1048576);
    expect(end.rss - warm.rss).toBeLessThan(32 * 1048576);
  });

  it('models loaded side by side get separate engines and stay correct', async () => {
    // six different models (different weights): were they sharing one engine, the last
    // one loaded would answer for all of them
    const seeds = [3, 4, 5, 6, 7, 8];
    const input = new Uint8Array(144).fill(30);
    const alone: number[][] = [];
    for (const seed of seeds) {
      const m = await loadModel(smallCnn(seed));
      alone.push(Array.from(m.predict(input)));
      m.dispose();
    }
    for (let i = 0; i < seeds.length; i++) for (let j = 0; j < i; j++) expect(alone[i], `models ${i} and ${j} give the same outputs`).not.toEqual(alone[j]);
    const models = await Promise.all(seeds.map((seed) => loadModel(smallCnn(seed))));
    expect(models.map((m) => m.name)).toEqual(seeds.map((seed) => `cycle-${seed}`));
    // interleaved, forwards and backwards: each answers with its own weights
    for (const order of [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [0, 5, 1, 4, 2, 3]]) {
      for (const i of order) expect(Array.from(models[i].predict(input)), `model ${i}`).toEqual(alone[i]);
    }
    // disposing some leaves the others working, also after a new model takes a freed engine
    for (const i of [0, 2, 4]) models[i].dispose();
    for (const i of [0, 2, 4]) expect(() => models[i].predict(input)).toThrow(DisposedError);
    const late = await loadModel(smallCnn(seeds[0]));
    for (const i of [1, 3, 5]) expect(Array.from(models[i].predict(input)), `model ${i}`).toEqual(alone[i]);
    expect(Array.from(late.predict(input))).toEqual(alone[0]);
    for (const i of [1, 3, 5]) models[i].dispose();
    late.dispose();
  });
});

describe('reloading the same bytes', () => {
  it('takes the idle engine that still holds them, and only for bytes equal to its copy', async () => {
    const bytes = smallCnn(11);
    const input = new Uint8Array(144).fill(60);
    const first = await loadModel(bytes);
    const want = Array.from(first.predict(input, { batch: 1 }));
    const info = first.info;
    first.dispose();
    expect(first.info).toEqual(info); // kept after dispose
    const again = await loadModel(bytes.slice());
    expect(Array.from(again.predict(input))).toEqual(want);
    expect(again.info).toEqual(info);
    again.dispose();
    // one weight byte changed, checksum left as it was: had the idle engine's model been
    // taken without comparing every byte, this would load
    const changed = bytes.slice();
    changed[changed.length - 20] ^= 1;
    await expect(loadModel(changed)).rejects.toThrow(/checksum/);
    // the engine of that failed load went back to the pool holding nothing: empty bytes
    // must not match it (they are refused as truncated, not given a stale model)
    await expect(loadModel(new Uint8Array(0))).rejects.toThrow(/truncated/);
    const last = await loadModel(bytes);
    expect(Array.from(last.predict(input))).toEqual(want);
    last.dispose();
  });
});

describe('engine sources', () => {
  it('accepts a precompiled WebAssembly.Module (as Workers require) and a fetch Response', async () => {
    const { readFileSync } = await import('node:fs');
    const { engineFile } = await import('../src/runtime/node.js');
    const module = new WebAssembly.Module(readFileSync(engineFile('scalar')));
    const bytes = smallCnn();
    const fromModule = await loadModel(bytes, { engine: module });
    expect(fromModule.info.build).toBe('scalar');
    const fromResponse = await loadModel(new Response(bytes.slice().buffer as ArrayBuffer), { engine: module });
    const input = new Uint8Array(144).fill(7);
    expect(Array.from(fromResponse.predict(input))).toEqual(Array.from(fromModule.predict(input)));
    fromModule.dispose();
    fromResponse.dispose();
    await expect(loadModel(new Response('gone', { status: 404, statusText: 'Not Found' }))).rejects.toThrow(/HTTP 404 Not Found/);
  });
});
