// The synthetic sensor generator (src/toolchain/data/sensors.ts): shapes, determinism,
// balanced labels, finite values, and the physical properties the models rely on
// (gravity in total acceleration, still activities still, the next value predictable).

import { describe, expect, it } from 'vitest';
import { FORECAST_WINDOW, forecastSeries, MOTION_CHANNELS, MOTION_CLASSES, MOTION_STEPS, motionSegments } from '../src/toolchain/data/sensors.js';

const sameBits = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('forecastSeries', () => {
  const n = 500;
  const { x, y } = forecastSeries(n, 11);

  it('gives n windows of 32 values and n next values, all finite', () => {
    expect(x.length).toBe(n * FORECAST_WINDOW);
    expect(y.length).toBe(n);
    expect(x.every(Number.isFinite) && y.every(Number.isFinite)).toBe(true);
  });

  it('is deterministic by seed, and seeds differ', () => {
    const again = forecastSeries(n, 11), other = forecastSeries(n, 12);
    expect(sameBits(again.x, x) && sameBits(again.y, y)).toBe(true);
    expect(sameBits(other.x, x)).toBe(false);
    // a prefix of a longer draw is the shorter draw
    expect(sameBits(forecastSeries(10, 11).x, x.subarray(0, 10 * FORECAST_WINDOW))).toBe(true);
  });

  it('spans about ±3, varies between windows, and the next value follows the window', () => {
    const abs = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(abs).toBeGreaterThan(1.5);
    expect(abs).toBeLessThan(4);
    let spread = 0, jump = 0, step = 0;
    const mean = y.reduce((a, v) => a + v, 0) / n;
    for (let i = 0; i < n; i++) {
      spread += (y[i] - mean) ** 2;
      jump += (y[i] - x[i * FORECAST_WINDOW + FORECAST_WINDOW - 1]) ** 2;
      for (let t = 1; t < FORECAST_WINDOW; t++) step += (x[i * FORECAST_WINDOW + t] - x[i * FORECAST_WINDOW + t - 1]) ** 2;
    }
    // the target is continuous with the window: its jump from the last value is a step
    // like the window's own (not a fresh draw, whose spread is far larger)
    const rms = (s: number, count: number) => Math.sqrt(s / count);
    expect(rms(jump, n)).toBeLessThan(0.5 * rms(spread, n));
    expect(rms(jump, n) / rms(step, n * (FORECAST_WINDOW - 1))).toBeGreaterThan(0.7);
    expect(rms(jump, n) / rms(step, n * (FORECAST_WINDOW - 1))).toBeLessThan(1.4);
  });
});

describe('motionSegments', () => {
  const n = 600, T = MOTION_STEPS, C = MOTION_CHANNELS;
  const { x, labels } = motionSegments(n, 21);
  // per window: mean of a channel, and its standard deviation over time
  const mean = (i: number, c: number) => { let s = 0; for (let t = 0; t < T; t++) s += x[(i * T + t) * C + c]; return s / T; };
  const std = (i: number, c: number) => { const m = mean(i, c); let s = 0; for (let t = 0; t < T; t++) s += (x[(i * T + t) * C + c] - m) ** 2; return Math.sqrt(s / T); };
  const of = (name: (typeof MOTION_CLASSES)[number]) => [...labels.keys()].filter((i) => labels[i] === MOTION_CLASSES.indexOf(name));

  it('gives n windows of 128 steps × 9 channels, all finite, with 6 classes', () => {
    expect(MOTION_CLASSES.length).toBe(6);
    expect(x.length).toBe(n * T * C);
    expect(labels.length).toBe(n);
    expect(x.every(Number.isFinite)).toBe(true);
    expect(labels.every((l) => l >= 0 && l < 6)).toBe(true);
  });

  it('is deterministic by seed, and seeds differ', () => {
    const again = motionSegments(n, 21);
    expect(sameBits(again.x, x)).toBe(true);
    expect(again.labels).toEqual(labels);
    expect(sameBits(motionSegments(n, 22).x, x)).toBe(false);
  });

  it('balances the labels in every prefix', () => {
    for (const m of [6, 7, 100, n]) {
      const counts = new Array(6).fill(0);
      for (let i = 0; i < m; i++) counts[labels[i]]++;
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });

  it('total acceleration is gravity (1 g) plus body acceleration', () => {
    for (let i = 0; i < n; i += 7) {
      const g = Math.hypot(mean(i, 6) - mean(i, 0), mean(i, 7) - mean(i, 1), mean(i, 8) - mean(i, 2));
      expect(g).toBeCloseTo(1, 5);
      for (let t = 0; t < T; t += 31) {
        const o = (i * T + t) * C;
        // total − body is the same gravity vector at every step
        expect(x[o + 6] - x[o]).toBeCloseTo(x[i * T * C + 6] - x[i * T * C], 5);
      }
    }
  });

  it('the walks move, the still activities do not; lying has gravity off the x axis', () => {
    const bodyStd = (i: number) => Math.hypot(std(i, 0), std(i, 1), std(i, 2));
    for (const i of [...of('walking'), ...of('upstairs'), ...of('downstairs')]) expect(bodyStd(i)).toBeGreaterThan(0.1);
    for (const i of [...of('sitting'), ...of('standing'), ...of('lying')]) expect(bodyStd(i)).toBeLessThan(0.08);
    for (const i of of('standing')) expect(mean(i, 6)).toBeGreaterThan(0.8);
    for (const i of of('lying')) expect(mean(i, 6)).toBeLessThan(0.5);
  });
});
