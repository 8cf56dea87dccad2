import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/runtime/cli/main.js';
import { explain, imageMap, InputError, type ExplainMethod } from '../src/runtime/index.js';
import { loadModel, type Model } from '../src/runtime/node.js';
import type { EdgeqModel } from '../src/toolchain/format/model.js';
import { encodeModel } from '../src/toolchain/format/write.js';
import { rng } from './helpers/quant.js';

const METHODS: ExplainMethod[] = ['occlusion', 'lime', 'shap'];

// An 8×8×1 classifier (3 classes, softmax) whose dense weights are zero outside rows
// 3–5, columns 3–5: its output depends on those 9 values only.
const REGION = (v: number) => { const y = Math.floor(v / 8), x = v % 8; return y >= 3 && y <= 5 && x >= 3 && x <= 5; };
function regionModel(): EdgeqModel {
  const r = rng(7);
  const weights = new Int8Array(3 * 64);
  for (let u = 0; u < 3; u++) for (let v = 0; v < 64; v++) if (REGION(v)) weights[u * 64 + v] = Math.round((r() * 2 - 1) * 127);
  return {
    metadata: { name: 'region' },
    input: { shape: [8, 8, 1], quant: { scale: 1 / 127, zeroPoint: 0 } },
    layers: [
      { type: 'flatten' },
      { type: 'dense', units: 3, activation: 'none', weights, weightScales: new Float32Array(3).fill(0.01), output: { scale: 0.04, zeroPoint: 0 } },
      { type: 'softmax' },
    ],
  };
}

// A linear model, Dense with no activation, made exactly representable so that the
// int8 engine computes w · x with no rounding at all: inputs on the input grid
// (multiples of S_IN), integer weights × W_SCALE, no bias, and an output scale of
// S_IN × W_SCALE (the requantization multiplier is exactly 1) with every output inside
// int8's range. Then the engine's f is exactly linear on these inputs, the exact
// Shapley values are w_i (x_i − baseline_i), and a mismatch is the explainer's error,
// not quantization's. The test checks the engine's linearity first.
const S_IN = 1 / 16, W_SCALE = 1 / 8;
function linearModel(inputs: number, units: number, seed: number): { model: EdgeqModel; w: Float64Array } {
  const r = rng(seed);
  const weights = Int8Array.from({ length: units * inputs }, () => Math.round(r() * 6) - 3);
  return {
    model: {
      metadata: { name: 'linear' },
      input: { shape: [inputs], quant: { scale: S_IN, zeroPoint: 0 } },
      layers: [{ type: 'dense', units, activation: 'none', weights, weightScales: new Float32Array(units).fill(W_SCALE), output: { scale: S_IN * W_SCALE, zeroPoint: 0 } }],
    },
    w: Float64Array.from(weights, (q) => q * W_SCALE),
  };
}

describe('explain', () => {
  let region: Model;
  const r = rng(3);
  const x = Float32Array.from({ length: 64 }, () => Math.round(r() * 127) / 127);

  it('puts ≥ 90 % of the attribution mass where the model looks, with every method', async () => {
    region = await loadModel(encodeModel(regionModel()));
    for (const method of METHODS) {
      const e = explain(region, x, { method, patch: 3, seed: 1 });
      expect(e.method).toBe(method);
      expect(e.attributions.length).toBe(64);
      expect(e.shape).toEqual([8, 8, 1]);
      const scores = region.predict(x);
      expect(e.target).toBe(scores.indexOf(Math.max(...scores)));
      expect(e.baseScore).toBe(scores[e.target]);
      let inside = 0, total = 0;
      e.attributions.forEach((a, v) => { total += Math.abs(a); if (REGION(v)) inside += Math.abs(a); });
      expect(total, method).toBeGreaterThan(0);
      expect(inside / total, method).toBeGreaterThanOrEqual(0.9);
      // the per-pixel map of a one-channel image is the attributions themselves
      expect(imageMap(e)).toEqual(e.attributions);
    }
    // one value per segment: lime and shap on single pixels too
    for (const method of ['lime', 'shap'] as const) {
      const e = explain(region, x, { method, patch: 1, samples: 3000, seed: 2 });
      let inside = 0, total = 0;
      e.attributions.forEach((a, v) => { total += Math.abs(a); if (REGION(v)) inside += Math.abs(a); });
      expect(inside / total, method).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('KernelSHAP gives a linear model its exact Shapley values w_i (x_i − b_i), exactly enumerated and sampled', async () => {
    // 6 inputs: every coalition; 20 inputs: sampled masks (a linear f is fit exactly by
    // any sample that spans the masks, so sampling must be exact too)
    for (const [inputs, units, samples] of [[6, 2, undefined], [20, 3, 400]] as const) {
      const { model: spec, w } = linearModel(inputs, units, inputs);
      const m = await loadModel(encodeModel(spec));
      const xr = rng(inputs + 1);
      const xi = Float32Array.from({ length: inputs }, () => (Math.round(xr() * 4) - 2) * S_IN);
      const base = Float32Array.from({ length: inputs }, () => (Math.round(xr() * 2) - 1) * S_IN);
      // the engine is exactly linear on these inputs (what makes the comparison honest)
      const f = (v: Float32Array) => m.predict(v);
      for (let u = 0; u < units; u++) {
        let dot = 0;
        for (let i = 0; i < inputs; i++) dot += w[u * inputs + i] * xi[i];
        expect(f(xi)[u]).toBe(dot);
      }
      for (let target = 0; target < units; target++) {
        const e = explain(m, xi, { method: 'shap', target, baseline: base, samples });
        expect(e.target).toBe(target);
        const exact = Array.from(xi, (v, i) => w[target * inputs + i] * (v - base[i]));
        const range = Math.max(...exact.map(Math.abs), 1e-9) * inputs;
        e.attributions.forEach((a, i) => expect(Math.abs(a - exact[i]), `input ${i}`).toBeLessThanOrEqual(1e-3 * range));
        const sum = e.attributions.reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - (e.baseScore - e.baselineScore))).toBeLessThanOrEqual(0.01 * Math.abs(e.baseScore - e.baselineScore) + 1e-6);
        expect(e.baselineScore).toBe(f(base)[target]);
        expect(e.samples).toBe(samples === undefined ? 2 ** inputs : samples + 2);
      }
      m.dispose();
    }
  });

  it('is deterministic for a seed, and the seed matters', () => {
    const a = explain(region, x, { method: 'lime', samples: 300, seed: 5 });
    const b = explain(region, x, { method: 'lime', samples: 300, seed: 5 });
    const c = explain(region, x, { method: 'lime', samples: 300, seed: 6 });
    expect(b.attributions).toEqual(a.attributions);
    expect(c.attributions).not.toEqual(a.attributions);
    const s1 = explain(region, x, { method: 'shap', patch: 1, samples: 300, seed: 5 });
    expect(explain(region, x, { method: 'shap', patch: 1, samples: 300, seed: 5 }).attributions).toEqual(s1.attributions);
  });

  it('reports progress per engine call, in batches', () => {
    const seen: number[] = [];
    const e = explain(region, x, { method: 'lime', samples: 200, batch: 64, onProgress: (f) => seen.push(f) });
    expect(e.samples).toBe(202);
    expect(seen).toEqual([64 / 200, 128 / 200, 192 / 200, 1]);
  });

  it('refuses bad options with a typed error that says what to do', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ method: 'gradcam' }, /method must be 'occlusion', 'lime' or 'shap'/],
      [{ samples: 0 }, /samples must be an integer from 2/],
      [{ patch: 9 }, /patch must be an integer from 1 to 8/],
      [{ target: 3 }, /target must be an integer from 0 to 2/],
      [{ seed: -1 }, /seed must be an integer/],
      [{ baseline: [1, 2] }, /baseline must be one number or 64 values/],
      [{ baseline: Number.NaN }, /baseline must be a finite number/],
      [{ method: 'lime', stride: 2 }, /stride is an occlusion option/],
      [{ method: 'occlusion', samples: 10 }, /samples is a lime \/ shap option/],
      [{ method: 'shap', kernelWidth: 1 }, /kernelWidth is a lime option/],
      [{ kernelWidth: 0 }, /kernelWidth must be a positive number/],
      [{ batch: 0 }, /batch must be an integer from 1/],
    ];
    for (const [options, message] of cases) {
      let err: unknown;
      try { explain(region, x, options as never); } catch (e) { err = e; }
      expect(err, JSON.stringify(options)).toBeInstanceOf(InputError);
      expect((err as InputError).code).toBe('E_EXPLAIN_OPTION');
      expect((err as Error).message).toMatch(message);
    }
    expect(() => explain(region, x.subarray(0, 10))).toThrow(/takes \[8, 8, 1\] = 64/);
  });

  it('edgeq explain writes a heat-map PNG and the attributions as JSON; --help answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeq-explain-'));
    writeFileSync(join(dir, 'region.edgeq'), encodeModel(regionModel()));
    writeFileSync(join(dir, 'x.json'), JSON.stringify(Array.from(x)));
    let out = '', err = '', progress = '';
    const cli = (...argv: string[]) => main(argv, { out: (s) => { out += `${s}\n`; }, err: (s) => { err += `${s}\n`; }, progress: (s) => { progress += s; } });
    expect(await cli('explain', '--help')).toBe(0);
    expect(out).toMatch(/--method M +occlusion, lime or shap/);
    out = '';
    const png = join(dir, 'heat.png'), json = join(dir, 'a.json');
    expect(await cli('explain', join(dir, 'region.edgeq'), join(dir, 'x.json'), '--method', 'shap', '--patch', '3', '--out', png, '--json', json), err).toBe(0);
    expect(out).toMatch(/method +shap, 512 model runs/);
    expect(progress).toMatch(/explain \(shap\)/);
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(bytes.toString('latin1', 12, 16)).toBe('IHDR');
    // 8 × 8 enlarged 16× (the most) to 128, on a canvas at least 160 wide for the scale's labels
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([160, 128 + 6 + 12 + 4 + 10 + 4]);
    const a = JSON.parse(readFileSync(json, 'utf8'));
    const e = explain(region, x, { method: 'shap', patch: 3 });
    expect(a).toMatchObject({ method: 'shap', target: e.target, samples: 512, shape: [8, 8, 1], mapShape: [8, 8], options: { patch: 3, seed: 0, baseline: 0 } });
    expect(a.attributions).toHaveLength(64);
    expect(a.map).toHaveLength(8);
    expect(a.map[4][4]).toBeCloseTo(e.attributions[36], 4);
    expect(await cli('explain', join(dir, 'region.edgeq'), join(dir, 'x.json'), '--method', 'gradcam')).toBe(2);
    expect(await cli('explain', join(dir, 'region.edgeq'), join(dir, 'x.json'), '--patch', '20')).toBe(1);
    expect(err).toMatch(/patch must be an integer from 1 to 8/);
  });
});
