import type { RnnDirection } from '../../src/runtime/codes.js';
import type { GruSpec, LstmSpec } from './kernels.js';
import { randomFloat, randomInt8 } from './quant.js';

type Shape = Pick<LstmSpec, 'batch' | 'steps' | 'features' | 'units' | 'activation' | 'recurrentActivation' | 'returnSequences' | 'direction'>;

// Random int8 weights and quantization for an LSTM (4 gates) or a GRU (3 gates, its bias
// doubled with resetAfter), as the kernels' sweeps use them.
export function randomRecurrentSpec(r: () => number, p: Shape): LstmSpec;
export function randomRecurrentSpec(r: () => number, p: Shape & { resetAfter: boolean }): GruSpec;
export function randomRecurrentSpec(r: () => number, p: Shape & { resetAfter?: boolean }): LstmSpec | GruSpec {
  const n = ('resetAfter' in p ? 3 : 4) * p.units;
  return {
    ...p,
    input: { scale: 0.02, zeroPoint: Math.floor(r() * 256) - 128 },
    output: { scale: 0.01 + r() * 0.05, zeroPoint: Math.floor(r() * 256) - 128 },
    kernel: randomInt8(r, n * p.features, -127, 127),
    kernelScales: Float32Array.from({ length: n }, () => 0.001 + 0.01 * r()),
    recurrent: randomInt8(r, n * p.units, -127, 127),
    recurrentScales: Float32Array.from({ length: n }, () => 0.001 + 0.01 * r()),
    bias: randomFloat(r, n * (p.resetAfter ? 2 : 1), -0.5, 0.5),
  };
}

// Keras' GRU cell in plain float64, from its documented equations (gates z, r, h; weights
// [3U][F] and [3U][U] as the engine stores them): the reference where TF.js has no cell
// (reset_after = true, Keras' default), and checked against TF.js's GRU where it has.
export function gruFloat(
  x: Float32Array, batch: number, steps: number, features: number, units: number,
  wx: Float32Array, wh: Float32Array, bias: Float32Array, resetAfter: boolean,
  act: 'relu' | 'tanh', rec: 'sigmoid' | 'hardSigmoid', returnSequences: boolean, direction: RnnDirection,
): Float64Array {
  const f = (a: string, v: number) => a === 'relu' ? Math.max(v, 0) : a === 'tanh' ? Math.tanh(v)
    : a === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : Math.min(1, Math.max(0, 0.2 * v + 0.5));
  const n = 3 * units;
  const y = new Float64Array(batch * (returnSequences ? steps : 1) * units);
  for (let b = 0; b < batch; b++) {
    let h = new Float64Array(units);
    for (let t = 0; t < steps; t++) {
      const s = direction === 'forward' ? t : steps - 1 - t;
      const xg = new Float64Array(n), hg = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        for (let k = 0; k < features; k++) xg[j] += x[(b * steps + s) * features + k] * wx[j * features + k];
        xg[j] += bias[j];
        for (let u = 0; u < units; u++) hg[j] += h[u] * wh[j * units + u];
        if (resetAfter) hg[j] += bias[n + j];
      }
      const next = new Float64Array(units);
      const r = Float64Array.from({ length: units }, (_, u) => f(rec, xg[units + u] + hg[units + u]));
      for (let u = 0; u < units; u++) {
        const z = f(rec, xg[u] + hg[u]);
        let pre: number;
        if (resetAfter) pre = xg[2 * units + u] + r[u] * hg[2 * units + u];
        else {
          // reset_after 0: r ⊙ h goes through the h gate's recurrent kernel
          let rh = 0;
          for (let v = 0; v < units; v++) rh += r[v] * h[v] * wh[(2 * units + u) * units + v];
          pre = xg[2 * units + u] + rh;
        }
        next[u] = z * h[u] + (1 - z) * f(act, pre);
      }
      h = next;
      if (returnSequences || t === steps - 1) {
        const row = returnSequences ? b * steps + (direction === 'backward' ? t : s) : b;
        y.set(h, row * units);
      }
    }
  }
  return y;
}

