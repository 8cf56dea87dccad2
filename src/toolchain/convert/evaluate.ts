// How an int8 .edgeq model does on examples, for every kind of model: accuracy where it
// is a classifier and the examples are labelled; against its float source, top-1
// agreement (classifiers) and the error of its outputs (every model). What `edgeq eval`
// and `edgeq convert --eval` report.

import * as tf from '@tensorflow/tfjs';
import { accuracy, argmaxRows } from '../../runtime/classes.js';
import { ConvertError } from '../../runtime/errors.js';
import type { Model } from '../../runtime/node.js';
import { pct } from '../../runtime/cli/args.js';

// A TF.js Layers or Graph model: what the float baseline needs of it.
export interface Predictor { predict(x: tf.Tensor, config?: object): unknown; dispose(): void }

export interface Evaluation {
  dataset: string;
  count: number;
  classifier: boolean;
  int8Accuracy?: number; // classifiers with labelled examples
  floatAccuracy?: number; // … and a float model
  agreement?: number; // classifiers with a float model: top-1 int8 = top-1 float
  // with a float model, int8 outputs against float outputs, over every output value:
  maxAbsError?: number;
  rmse?: number;
  snrDb?: number; // 10·log10(Σ float² / Σ (int8 − float)²); Infinity when equal
}

// Outputs of the float model, [count, ...output] flattened.
export function floatOutputs(float: Predictor, x: tf.Tensor, progress?: (f: number) => void, batch = 250): Float32Array {
  const n = x.shape[0];
  const parts: Float32Array[] = [];
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    parts.push(tf.tidy(() => (float.predict(x.slice(i, m), {}) as tf.Tensor).dataSync() as Float32Array));
    progress?.((i + m) / n);
  }
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

// Outputs of the edgeq model on `n` inputs (floats, or pixels for its pixel rule).
export function int8Outputs(model: Model, input: Float32Array | Uint8Array, n: number, progress?: (f: number) => void, batch = 250): Float32Array {
  const per = input.length / n;
  if (!Number.isInteger(per) || per !== model.inputShape.reduce((a, b) => a * b, 1)) {
    throw new ConvertError('E_EVAL_SHAPE', `evaluation inputs have ${per} values each; the model takes [${model.inputShape}]`);
  }
  const outLen = model.outputShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n * outLen);
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    out.set(model.predict(input.subarray(i * per, (i + m) * per), { batch: m }), i * outLen);
    progress?.((i + m) / n);
  }
  return out;
}

export function evaluate(o: {
  dataset: string; count: number; classifier: boolean; int8: Float32Array; float?: Float32Array; labels?: ArrayLike<number>;
}): Evaluation {
  const { count: n, int8, float, labels } = o;
  if (labels && labels.length !== n) throw new ConvertError('E_LABELS', `${labels.length} labels for ${n} examples`);
  if (float && float.length !== int8.length) throw new ConvertError('E_EVAL_SHAPE', `the float model gives ${float.length / n} outputs per example, the .edgeq model ${int8.length / n}: is it the same model?`);
  const e: Evaluation = { dataset: o.dataset, count: n, classifier: o.classifier };
  const per = int8.length / n;
  if (o.classifier) {
    const top = argmaxRows(int8, n, per);
    const floatTop = float ? argmaxRows(float, n, per) : undefined;
    if (labels) {
      for (let i = 0; i < n; i++) {
        if (!(labels[i] >= 0 && labels[i] < per)) throw new ConvertError('E_LABELS', `label ${i} is ${labels[i]}; the model has ${per} classes (0–${per - 1})`);
      }
      e.int8Accuracy = accuracy(top, labels);
      if (floatTop) e.floatAccuracy = accuracy(floatTop, labels);
    }
    if (floatTop) e.agreement = accuracy(top, floatTop);
  }
  if (float) {
    let maxAbs = 0, sq = 0, signal = 0;
    for (let i = 0; i < int8.length; i++) {
      const d = int8[i] - float[i];
      maxAbs = Math.max(maxAbs, Math.abs(d));
      sq += d * d;
      signal += float[i] * float[i];
    }
    e.maxAbsError = maxAbs;
    e.rmse = Math.sqrt(sq / int8.length);
    e.snrDb = sq === 0 ? Infinity : 10 * Math.log10(signal / sq);
  }
  return e;
}

// The evaluation in one line for a report.
export function evaluationText(e: Evaluation): string {
  const parts: string[] = [];
  if (e.int8Accuracy !== undefined) {
    if (e.floatAccuracy !== undefined) {
      const delta = 100 * (e.int8Accuracy - e.floatAccuracy);
      parts.push(`float ${pct(e.floatAccuracy)}, int8 ${pct(e.int8Accuracy)} (${delta >= 0 ? '+' : ''}${delta.toFixed(2)} points)`);
    } else parts.push(`int8 accuracy ${pct(e.int8Accuracy)}`);
  }
  if (e.agreement !== undefined) parts.push(`top-1 agreement ${pct(e.agreement)}`);
  if (e.snrDb !== undefined) {
    const g = (v: number) => Number(v.toPrecision(3));
    parts.push(`int8 − float: max |error| ${g(e.maxAbsError!)}, RMSE ${g(e.rmse!)}, SNR ${Number.isFinite(e.snrDb) ? `${e.snrDb.toFixed(1)} dB` : '∞'}`);
  }
  if (!parts.length) parts.push(e.classifier ? 'no labels and no float model: nothing to compare with' : 'not a classifier and no float model (--float): nothing to compare with');
  return `${e.dataset}, ${e.count.toLocaleString('en-US')} examples: ${parts.join('; ')}`;
}
