// Examples as model inputs: the float tensor the TF.js source model takes, and what the
// engine is given (the same floats, or the pixels themselves where the examples are
// pixels, so that evaluation also runs the file's pixel rule).

import * as tf from '@tensorflow/tfjs';
import { DataError } from '../../runtime/errors.js';
import type { Examples } from '../data/examples.js';
import type { PixelRule } from '../format/model.js';

// --input-range: what the source model takes for pixels 0–255
export const INPUT_RANGES = {
  '0-1': { mul: [1 / 255], add: [0] },
  '0-255': { mul: [1], add: [0] },
  '-1-1': { mul: [2 / 255], add: [-1] },
} as const satisfies Record<string, PixelRule>;
export type InputRange = keyof typeof INPUT_RANGES;

export interface PixelRuleOptions { inputRange?: InputRange; pixelMean?: number[]; pixelStd?: number[] }

// The pixel rule the user gave, if any: --input-range, or value = (pixel − mean) / std
// with one mean and std for every channel or one per channel (the input's last axis).
export function pixelRuleOf(o: PixelRuleOptions, channels: number): PixelRule | undefined {
  const hasMeanStd = o.pixelMean !== undefined || o.pixelStd !== undefined;
  if (o.inputRange && hasMeanStd) throw new DataError('E_PIXEL_RULE', 'give --input-range or --pixel-mean/--pixel-std, not both');
  if (o.inputRange) return { mul: [...INPUT_RANGES[o.inputRange].mul], add: [...INPUT_RANGES[o.inputRange].add] };
  if (!hasMeanStd) return undefined;
  const mean = o.pixelMean ?? [0];
  const std = o.pixelStd ?? [1];
  const n = Math.max(mean.length, std.length);
  const fits = (v: number[]) => v.length === 1 || v.length === n;
  if (!fits(mean) || !fits(std) || (n !== 1 && n !== channels)) {
    throw new DataError('E_PIXEL_RULE', `--pixel-mean and --pixel-std take one value or one per channel (the model's input has ${channels} channels), got ${mean.length} and ${std.length}`);
  }
  if ([...mean, ...std].some((v) => !Number.isFinite(v)) || std.some((v) => v === 0)) {
    throw new DataError('E_PIXEL_RULE', '--pixel-mean and --pixel-std must be finite numbers, and --pixel-std not 0');
  }
  const at = (v: number[], i: number) => v[v.length === 1 ? 0 : i];
  return {
    mul: Array.from({ length: n }, (_, i) => 1 / at(std, i)),
    add: Array.from({ length: n }, (_, i) => -at(mean, i) / at(std, i)),
  };
}

export function describePixelRule(rule: PixelRule): string {
  const f = (v: number) => Number(v.toPrecision(6));
  const list = (v: number[]) => (v.length === 1 ? `${f(v[0])}` : `[${v.map(f).join(', ')}]`);
  for (const [name, r] of Object.entries(INPUT_RANGES)) {
    if (r.mul.length === rule.mul.length && r.mul.every((m, i) => Math.fround(m) === Math.fround(rule.mul[i]) && Math.fround(r.add[i]) === Math.fround(rule.add[i]))) return `pixels 0–255 → ${name}`;
  }
  return `pixel × ${list(rule.mul)} + ${list(rule.add)}`;
}

// The values the source model takes for these pixels, as the engine computes them
// (float32: pixel × mul + add, channel = index mod the rule's length).
export function applyPixelRule(pixels: Uint8Array, rule: PixelRule): Float32Array {
  const c = rule.mul.length;
  const mul = Float32Array.from(rule.mul), add = Float32Array.from(rule.add);
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = Math.fround(Math.fround(pixels[i] * mul[i % c]) + add[i % c]);
  return out;
}

export interface ModelInputs {
  count: number;
  x: tf.Tensor; // [count, ...shape]: what the float model takes
  engine: Float32Array | Uint8Array; // what the .edgeq model is given: floats, or pixels
}

export function modelInputs(ex: Examples, rule: PixelRule | undefined): ModelInputs {
  let values: Float32Array;
  let engine: Float32Array | Uint8Array;
  if (ex.pixels) {
    if (!rule) {
      throw new DataError('E_PIXEL_RULE', `${ex.source} holds pixels (0–255), and nothing says how the model takes pixels: pass --input-range 0-1, 0-255 or -1-1 (or --pixel-mean/--pixel-std), or give the values the model takes as .npy or CSV`);
    }
    values = applyPixelRule(ex.pixels, rule);
    engine = ex.pixels;
  } else {
    values = ex.values!;
    engine = values;
  }
  return { count: ex.count, x: tf.tensor(values, [ex.count, ...ex.shape], 'float32'), engine };
}

// `--calibration uniform`: pixels drawn uniformly from 0–255, so that with the pixel
// rule they cover the model's whole input range. Seeded: a conversion is repeatable.
export function uniformExamples(count: number, shape: readonly number[], seed = 1): Examples {
  const per = shape.reduce((a, b) => a * b, 1);
  const pixels = new Uint8Array(count * per);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < pixels.length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; // xorshift32
    pixels[i] = s & 255;
  }
  return { source: 'uniform random inputs', count, shape: [...shape], pixels };
}
