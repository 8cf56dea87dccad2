// `edgeq explain`: which parts of one input a model's answer depends on (the runtime's
// explain(): occlusion, LIME, KernelSHAP), as a heat-map PNG over the input and as JSON.
// A toolchain command: it reads inputs as `edgeq run` does (image decoding) and writes
// PNGs, which the runtime does not.

import { writeFile } from 'node:fs/promises';
import { parse, UsageError, type Command } from '../../runtime/cli/args.js';
import { explain, imageMap, type ExplainMethod, type Explanation } from '../../runtime/explain.js';
import { loadModelFile } from '../../runtime/node.js';
import { encodePng } from '../data/image.js';
import { Progress } from './progress.js';
import { readInput } from './run.js';

const EXPLAIN_HELP = `usage: edgeq explain <model.edgeq> <input> [--method occlusion|lime|shap] [options]

Explains one prediction: how much each part of the input adds to (or takes from) the
target's score, found by running perturbed copies of the input through the model.
The score is the model's output at the target: a probability for a model that ends
in softmax, otherwise the raw output value.

  occlusion  a patch of baseline values slides over the input; each value gets the
             mean drop of the score over the patches that cover it
  lime       (default) random on/off masks over segments, off = baseline; a weighted
             ridge regression of the score on the masks gives each segment's weight
  shap       KernelSHAP: Shapley values of the segments; they sum to
             score(input) − score(baseline); exact for up to 12 segments

Segments: patch × patch squares of an image, windows of patch steps of a sequence,
runs of patch values of any other input. <input> is any input \`edgeq run\` takes
(PNG, JPEG, PGM, .npy, CSV, JSON, .bin; see edgeq run --help).

options:
  --method M       occlusion, lime or shap (default lime)
  --target CLASS   the output to explain: an index or a label (default: the predicted class)
  --samples N      lime: masks to run (default 1000); shap: used above 12 segments (default 2048)
  --patch N        segment side / window length (default: a seventh of the image side,
                   a tenth of the steps, 1 for flat inputs)
  --stride N       occlusion: how far the patch moves (default: the patch)
  --baseline V     the value an "off" input takes, in the input's units (default 0)
  --seed N         the masks' seed (default 0)
  --invert         invert image pixels (255 − v), as for edgeq run
  --out heat.png   the input (grey or RGB, enlarged) under a heat map: red raises the
                   score, blue lowers it; a colour scale with its limits below
  --json FILE      every attribution as JSON (- for stdout): per pixel (summed over
                   channels) and per value for images, per step and feature for sequences
  -h, --help       this help`;

export const command: Command = async (args, io) => {
  const { values, positionals } = parse(args, {
    method: { type: 'string' }, target: { type: 'string' }, samples: { type: 'string' }, patch: { type: 'string' }, stride: { type: 'string' },
    baseline: { type: 'string' }, seed: { type: 'string' }, invert: { type: 'boolean' }, out: { type: 'string' }, json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { io.out(EXPLAIN_HELP); return 0; }
  if (positionals.length !== 2) throw new UsageError(`explain takes a model file and an input file, got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}`);
  const method = (values.method ?? 'lime') as ExplainMethod;
  if (!['occlusion', 'lime', 'shap'].includes(method)) throw new UsageError(`--method takes occlusion, lime or shap, got '${values.method}'`);
  const int = (name: string, v: string | undefined, min: number) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} takes an integer ≥ ${min}, got '${v}'`);
    return n;
  };
  const baseline = values.baseline === undefined ? undefined : Number(values.baseline);
  if (baseline !== undefined && !Number.isFinite(baseline)) throw new UsageError(`--baseline takes a number, got '${values.baseline}'`);
  const [modelFile, inputFile] = positionals;
  const model = await loadModelFile(modelFile);
  try {
    const { values: input, note } = await readInput(inputFile, model, values.invert === true);
    let target: number | undefined;
    if (values.target !== undefined) {
      target = /^\d+$/.test(values.target) ? Number(values.target) : model.labels.indexOf(values.target);
      if (target < 0) throw new UsageError(`--target takes an output index or one of the model's labels (${model.labels.join(', ') || 'it has none'}), got '${values.target}'`);
    }
    const progress = new Progress(io.progress ?? (() => {}), io.tty ?? false);
    progress.step(`explain (${method})`);
    const t0 = performance.now();
    const e = explain(model, input, {
      method, target, baseline, samples: int('samples', values.samples, 2), patch: int('patch', values.patch, 1),
      stride: int('stride', values.stride, 1), seed: int('seed', values.seed, 0), onProgress: (f) => progress.update(f),
    });
    const ms = performance.now() - t0;
    progress.finish();
    const label = model.labels[e.target];
    const g = (v: number) => Number(v.toPrecision(5));
    if (values.out) await writeFile(values.out, heatPng(e, input));
    if (values.json) {
      const [h, w, c] = e.shape;
      const rows = (a: ArrayLike<number>, width: number) => Array.from({ length: a.length / width }, (_, r) => Array.from(Array.prototype.slice.call(a, r * width, (r + 1) * width) as number[], g));
      const json = {
        model: model.name, input: inputFile, method: e.method, target: e.target, ...(label === undefined ? {} : { label }),
        baseScore: e.baseScore, baselineScore: e.baselineScore, samples: e.samples, ms, options: { ...e.settings, baseline: baseline ?? 0 },
        shape: e.shape,
        ...(e.shape.length === 3 ? { map: rows(imageMap(e), w), mapShape: [h, w], channels: c } : {}),
        ...(e.shape.length === 2 ? { perStep: rows(e.attributions, e.shape[1]).map((r) => g(r.reduce((a, b) => a + b, 0))) } : {}),
        attributions: e.shape.length === 2 ? rows(e.attributions, e.shape[1]) : Array.from(e.attributions, g),
        ...(e.segmentWeights ? { segmentWeights: Array.from(e.segmentWeights, g) } : {}),
      };
      const text = JSON.stringify(json, null, 1);
      if (values.json === '-') io.out(text);
      else await writeFile(values.json, text);
    }
    if (values.json !== '-') {
      let lo = Infinity, hi = -Infinity, sum = 0;
      for (const a of e.attributions) { lo = Math.min(lo, a); hi = Math.max(hi, a); sum += a; }
      io.out([
        `model    ${model.name || modelFile}`,
        `input    ${inputFile}: ${note}`,
        `target   ${e.target}${label === undefined ? '' : ` ${label}`}: score ${g(e.baseScore)}, baseline ${g(e.baselineScore)}`,
        `method   ${e.method}, ${e.samples} model runs in ${ms.toFixed(1)} ms (patch ${e.settings.patch}${e.settings.stride ? `, stride ${e.settings.stride}` : ''}, seed ${e.settings.seed})`,
        `range    ${g(lo)} … ${g(hi)}, sum ${g(sum)}`,
        ...(values.out ? [`wrote    ${values.out}`] : []),
        ...(values.json ? [`wrote    ${values.json}`] : []),
      ].join('\n'));
    }
    return 0;
  } finally {
    model.dispose();
  }
};

// The input drawn as an image (an image in grey or RGB; a sequence as steps × features;
// anything else as one row), enlarged to about 224 pixels across, the attributions over
// it in red (raise the score) and blue (lower it) with opacity by size, and below it a
// colour scale from −max |a| to +max |a| with those two limits written under its ends.
export function heatPng(e: Explanation, input: Float32Array | Uint8Array): Uint8Array {
  const [h, w, c] = e.shape.length === 3 ? e.shape : e.shape.length === 2 ? [e.shape[0], e.shape[1], 1] : [1, e.attributions.length, 1];
  const map = e.shape.length === 3 ? imageMap(e) : e.attributions;
  // the input as 0–255 grey or RGB: pixels as they are, other values stretched
  let lo = Infinity, hi = -Infinity;
  for (const v of input) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const byte = input instanceof Uint8Array ? (v: number) => v : (v: number) => (hi > lo ? Math.round((255 * (v - lo)) / (hi - lo)) : 128);
  const rgbAt = (p: number): [number, number, number] => {
    if (c === 3) return [byte(input[p * 3]), byte(input[p * 3 + 1]), byte(input[p * 3 + 2])];
    let s = 0;
    for (let k = 0; k < c; k++) s += input[p * c + k];
    const v = byte(s / c);
    return [v, v, v];
  };
  let peak = 0;
  for (const a of map) peak = Math.max(peak, Math.abs(a));
  const colour = (a: number, under: [number, number, number]) => {
    const t = peak > 0 ? Math.max(-1, Math.min(1, a / peak)) : 0;
    const tint = t >= 0 ? [255, 0, 0] : [0, 64, 255];
    const alpha = 0.75 * Math.abs(t);
    return under.map((u, k) => Math.round(u * (1 - alpha) + tint[k] * alpha));
  };
  const scale = Math.max(1, Math.min(16, Math.round(224 / Math.max(h, w))));
  const width = Math.max(w * scale, 160), imgLeft = (width - w * scale) >> 1;
  const barTop = h * scale + 6, barHeight = 12, textTop = barTop + barHeight + 4, font = 2;
  const height = textTop + 5 * font + 4;
  const out = new Uint8Array(width * height * 3).fill(255);
  const put = (x: number, y: number, rgb: ArrayLike<number>) => { out[(y * width + x) * 3] = rgb[0]; out[(y * width + x) * 3 + 1] = rgb[1]; out[(y * width + x) * 3 + 2] = rgb[2]; };
  for (let y = 0; y < h * scale; y++) for (let x = 0; x < w * scale; x++) {
    const p = Math.floor(y / scale) * w + Math.floor(x / scale);
    put(imgLeft + x, y, colour(map[p], rgbAt(p)));
  }
  for (let x = 0; x < width; x++) {
    const rgb = colour(peak * ((2 * x) / (width - 1) - 1), [255, 255, 255]);
    for (let y = barTop; y < barTop + barHeight; y++) put(x, y, rgb);
  }
  const g = (v: number) => (v === 0 ? '0' : v.toExponential(2));
  drawText(g(-peak), 0, textTop, font, put);
  const right = g(peak);
  drawText(right, width - right.length * 4 * font, textTop, font, put);
  return encodePng(out, width, height, 3);
}

// A 3 × 5 pixel font for the scale's numbers.
const GLYPHS: Record<string, string> = {
  0: '111101101101111', 1: '010110010010111', 2: '111001111100111', 3: '111001111001111', 4: '101101111001001',
  5: '111100111001111', 6: '111100111101111', 7: '111001001001001', 8: '111101111101111', 9: '111101111001111',
  '-': '000000111000000', '+': '000010111010000', '.': '000000000000010', e: '000111111100111',
};
function drawText(text: string, left: number, top: number, size: number, put: (x: number, y: number, rgb: ArrayLike<number>) => void): void {
  [...text].forEach((ch, i) => {
    const bits = GLYPHS[ch] ?? '';
    for (let b = 0; b < bits.length; b++) {
      if (bits[b] !== '1') continue;
      const gx = left + (i * 4 + (b % 3)) * size, gy = top + Math.floor(b / 3) * size;
      for (let dy = 0; dy < size; dy++) for (let dx = 0; dx < size; dx++) put(gx + dx, gy + dy, [0, 0, 0]);
    }
  });
}
