// Synthetic sensor data for the sequence models (models/make-sequence.ts), seeded: the
// same (n, seed) gives the same numbers on every machine (mulberry32 from rng.ts, Gaussians
// by Box–Muller from it, float64 arithmetic, stored as float32). Different seeds are
// independent draws, so training, calibration and test sets are just different seeds.
//
// forecastSeries(n, seed): n windows of a univariate sensor reading, each from its own
//   series: a sum of 2–3 sines (periods 6–48 steps, log-uniform; amplitudes 0.2–1; random
//   phases), a slow drift (a level in ±1, a slope of about ±0.01 per step, and a random
//   walk of 0.01 per step) and white Gaussian noise (σ 0.03–0.08 per series). x holds the
//   FORECAST_WINDOW = 32 values before the target, y the next value: a regression task
//   whose best possible RMSE is about the noise level (≈ 0.06). forecastStream(length,
//   seed): one long series of the same kind, a gateway's stream.
//
// motionSegments(n, seed): n windows shaped as UCI-HAR's (128 steps at 50 Hz, 2.56 s;
//   9 channels: body acceleration x y z in g, gyroscope x y z in rad/s, total acceleration
//   x y z in g, in that order), labelled with 6 activities (MOTION_CLASSES), interleaved
//   0, 1, … 5, 0, … so that every prefix is balanced. Each activity has a signature:
//   where gravity points in the device frame (upright for the three walks, leaning
//   forward going up and back going down; tilted for sitting; on its side for lying),
//   and for the walks a step frequency, amplitude and harmonic shape (upstairs slow,
//   downstairs fast with sharp impacts), a sway at half the step frequency and body
//   rotation rates; the still ones a breathing-slow sway and tremor. Every window varies
//   its own: orientation (a few degrees), step frequency (±8 %), amplitude (±25 %),
//   phases, noise level. The signatures overlap where real ones do (walking against the
//   stairs, sitting against standing), so a small classifier reaches high accuracy but
//   not all of it (models/README.md has the figures).

import { rng } from '../../runtime/rng.js';

export const FORECAST_WINDOW = 32;
export const MOTION_STEPS = 128;
export const MOTION_CHANNELS = 9;
export const MOTION_RATE_HZ = 50;
export const MOTION_CLASSES = ['walking', 'upstairs', 'downstairs', 'sitting', 'standing', 'lying'] as const;

// A standard normal draw from r (Box–Muller; 1 − r() keeps the log finite).
export function gaussian(r: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export interface ForecastWindows {
  x: Float32Array; // n × FORECAST_WINDOW, oldest first
  y: Float32Array; // n: the value after each window
}

export function forecastSeries(n: number, seed: number): ForecastWindows {
  const r = rng(seed), g = gaussian(r);
  const w = FORECAST_WINDOW;
  const x = new Float32Array(n * w), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = sensorSeries(r, g, w + 1);
    x.set(v.subarray(0, w), i * w);
    y[i] = v[w];
  }
  return { x, y };
}

// One continuous series of `length` readings, the stream a gateway sees
// (examples/gateway-sensor): forecastSeries' sines and noise, with a drift that wanders
// back towards the level (an AR(1) of 0.998 with 0.01 steps, spread about ±0.16) so that
// a long stream stays in the range the windows span, where a slope would leave it.
export function forecastStream(length: number, seed: number): Float32Array {
  const r = rng(seed), g = gaussian(r);
  const sines = drawSines(r, 3);
  const level = r() - 0.5, sigma = 0.03 + 0.05 * r();
  const out = new Float32Array(length);
  let drift = 0;
  for (let t = 0; t < length; t++) {
    drift = 0.998 * drift + 0.01 * g();
    let v = level + drift + sigma * g();
    for (const s of sines) v += s.amplitude * Math.sin(s.omega * t + s.phase);
    out[t] = v;
  }
  return out;
}

// `count` sines: periods 6–48 steps (log-uniform), random phases, amplitudes that share a
// total of 0.5–1.5, as a sensor's reading spans its range.
function drawSines(r: () => number, count: number): { omega: number; amplitude: number; phase: number }[] {
  const sines = Array.from({ length: count }, () => ({ omega: (2 * Math.PI) / (6 * 8 ** r()), amplitude: 0.2 + 0.8 * r(), phase: 2 * Math.PI * r() }));
  const total = (0.5 + r()) / sines.reduce((a, s) => a + s.amplitude, 0);
  for (const s of sines) s.amplitude *= total;
  return sines;
}

// One series of the recipe above, drawing from r and g in a fixed order.
function sensorSeries(r: () => number, g: () => number, length: number): Float32Array {
  const sines = drawSines(r, 2 + Math.floor(r() * 2));
  const level = 2 * r() - 1, slope = 0.01 * g(), sigma = 0.03 + 0.05 * r();
  const out = new Float32Array(length);
  let walk = 0;
  for (let t = 0; t < length; t++) {
    walk += 0.01 * g();
    let v = level + slope * t + walk + sigma * g();
    for (const s of sines) v += s.amplitude * Math.sin(s.omega * t + s.phase);
    out[t] = v;
  }
  return out;
}

export interface MotionSegments {
  x: Float32Array; // n × MOTION_STEPS × MOTION_CHANNELS, channels last
  labels: Int32Array; // n, indices into MOTION_CLASSES
}

// Per activity: gravity's direction in the device frame (normalized after jitter), and
// for the walks step frequency (Hz), vertical amplitude (g), the 2nd and 3rd harmonics
// relative to the fundamental, lateral sway (g, at half the step frequency) and rotation
// rate (rad/s).
interface Signature { gravity: [number, number, number]; step?: { hz: number; amp: number; h2: number; h3: number; sway: number; turn: number } }
const SIGNATURES: Signature[] = [
  { gravity: [1, 0, 0.1], step: { hz: 1.9, amp: 0.32, h2: 0.35, h3: 0.1, sway: 0.12, turn: 0.5 } }, // walking
  { gravity: [1, 0.05, 0.3], step: { hz: 1.6, amp: 0.28, h2: 0.55, h3: 0.15, sway: 0.16, turn: 0.6 } }, // upstairs: leaning forward, slower
  { gravity: [1, -0.05, -0.1], step: { hz: 2.05, amp: 0.45, h2: 0.45, h3: 0.35, sway: 0.1, turn: 0.7 } }, // downstairs: faster, sharper impacts
  { gravity: [0.85, 0.1, 0.5] }, // sitting: phone on the hip tilts with the thigh
  { gravity: [1, 0, 0.12] }, // standing: upright, as when walking
  { gravity: [0.1, 0.35, 0.95] }, // lying
];

export function motionSegments(n: number, seed: number): MotionSegments {
  const r = rng(seed), g = gaussian(r);
  const T = MOTION_STEPS, C = MOTION_CHANNELS, dt = 1 / MOTION_RATE_HZ;
  const x = new Float32Array(n * T * C), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % MOTION_CLASSES.length;
    labels[i] = k;
    const s = SIGNATURES[k];
    // gravity direction u, with two unit vectors across it: forward f and lateral l
    const u = normalize(s.gravity.map((v) => v + 0.09 * g()) as Vec);
    const f = normalize(cross(u, Math.abs(u[1]) < 0.9 ? [0, 1, 0] : [1, 0, 0]));
    const l = cross(u, f);
    const accNoise = 0.01 + 0.02 * r(), gyroNoise = 0.02 + 0.03 * r();
    const step = s.step && {
      hz: s.step.hz * (1 + 0.08 * g()), amp: s.step.amp * (0.75 + 0.5 * r()),
      h2: s.step.h2 * (0.7 + 0.6 * r()), h3: s.step.h3 * (0.7 + 0.6 * r()),
      sway: s.step.sway * (0.7 + 0.6 * r()), turn: s.step.turn * (0.7 + 0.6 * r()),
      p: Array.from({ length: 8 }, () => 2 * Math.PI * r()),
    };
    // the still activities: a slow sway (breathing, shifting) in some direction, small
    const still = { hz: 0.2 + 0.3 * r(), amp: 0.005 + 0.015 * r(), dir: normalize([g(), g(), g()]), p: 2 * Math.PI * r() };
    const axis = normalize([g(), g(), g()]); // the rotation axis of a still window's gyro sway
    for (let t = 0; t < T; t++) {
      const time = t * dt;
      const body: Vec = [0, 0, 0], gyro: Vec = [0, 0, 0];
      if (step) {
        const w = 2 * Math.PI * step.hz * time, p = step.p;
        const vertical = step.amp * (Math.sin(w + p[0]) + step.h2 * Math.sin(2 * w + p[1]) + step.h3 * Math.sin(3 * w + p[2]));
        const forward = 0.5 * step.amp * Math.sin(w + p[3]);
        const lateral = step.sway * Math.sin(w / 2 + p[4]);
        for (let a = 0; a < 3; a++) body[a] = vertical * u[a] + forward * f[a] + lateral * l[a];
        // pelvis rotation: about the vertical at half the step rate, pitch and roll at it
        const yaw = step.turn * Math.sin(w / 2 + p[5]), pitch = 0.6 * step.turn * Math.sin(w + p[6]), roll = 0.4 * step.turn * Math.sin(w / 2 + p[7]);
        for (let a = 0; a < 3; a++) gyro[a] = yaw * u[a] + pitch * l[a] + roll * f[a];
      } else {
        const sway = still.amp * Math.sin(2 * Math.PI * still.hz * time + still.p);
        for (let a = 0; a < 3; a++) { body[a] = sway * still.dir[a]; gyro[a] = 4 * sway * axis[a]; }
      }
      const o = (i * T + t) * C;
      for (let a = 0; a < 3; a++) {
        const b = body[a] + accNoise * g();
        x[o + a] = b;
        x[o + 3 + a] = gyro[a] + gyroNoise * g();
        x[o + 6 + a] = u[a] + b; // total = gravity + body, as UCI-HAR's body is total minus gravity
      }
    }
  }
  return { x, labels };
}

type Vec = [number, number, number];
function normalize(v: Vec): Vec {
  const m = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / m, v[1] / m, v[2] / m];
}
function cross(a: Vec, b: Vec): Vec {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
