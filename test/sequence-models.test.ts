// The sensor sequence models shipped in models/edge/ (models/make-sequence.ts): each
// shipped file, in both engine builds (same bits), against the float model it was
// converted from (models/float/<name>/) on held-out generated examples (the test seed,
// which neither training nor calibration drew), exactly as its metadata records; on
// issue 14's targets; and today's converter, re-converting the float model, still on
// them. TF.js runs on its wasm backend, as in make-sequence.ts.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/runtime/node.js';
import { evaluate } from '../src/toolchain/convert/evaluate.js';
import { classCounts, EDGE_DIR, useWasm } from '../models/make-edge.js';
import {
  convertSequence, floatPredictions, SEQUENCE_MODELS, SEQUENCE_SEEDS, sequenceFloatModel, targetErrors, type SequenceEvaluation,
} from '../models/make-sequence.js';
import { predictBothBuilds } from './helpers/models.js';

// Issue 14's targets, int8 against float: the classifier's top-1 agreement, the
// forecaster's output SNR, and its error against the true next value no more than 5 %
// above float's.
const AGREEMENT = 0.99;
const SNR_DB = 30;
const ERROR_GROWTH = 1.05;

beforeAll(useWasm);

describe('sequence models (models/edge/)', () => {
  it('are activity recognition and forecasting', () => expect(SEQUENCE_MODELS.map((m) => m.name)).toEqual(['activity-recognition', 'forecasting']));

  for (const spec of SEQUENCE_MODELS) {
    const { name, evalCount: n } = spec;
    it(`${name}: both builds the same bits; measured as recorded; on target; re-converted, on target`, async () => {
      const shipped = new Uint8Array(readFileSync(`${EDGE_DIR}${name}.edgeq`));
      const model = await sequenceFloatModel(name);
      try {
        const float = floatPredictions(model, name, n, SEQUENCE_SEEDS.test);
        const int8 = await predictBothBuilds(shipped, float.x, n);
        const m = await loadModel(shipped);
        const recorded = (m.metadata as { evaluation: SequenceEvaluation }).evaluation;
        m.dispose();
        const e: SequenceEvaluation = evaluate({ dataset: recorded.dataset, count: n, classifier: spec.classes !== null, int8, float: float.y, ...(float.labels ? { labels: float.labels } : {}) });
        if (float.targets) e.targetError = { float: targetErrors(float.y, float.targets), int8: targetErrors(int8, float.targets) };
        expect(e).toEqual(recorded);
        const pct = (v: number) => `${(100 * v).toFixed(2)} %`;
        if (spec.classes) {
          console.log(`${name}, ${n} windows: float accuracy ${pct(e.floatAccuracy!)}, int8 accuracy ${pct(e.int8Accuracy!)}, top-1 agreement ${pct(e.agreement!)}`);
          // the float model predicts every class, so that agreement can fail
          const counts = classCounts(float.y, n, spec.classes.length);
          expect(Math.min(...counts)).toBeGreaterThanOrEqual(n / spec.classes.length / 2);
          expect(e.agreement).toBeGreaterThanOrEqual(AGREEMENT);
        } else {
          const t = e.targetError!;
          console.log(`${name}, ${n} windows: output SNR ${e.snrDb!.toFixed(1)} dB; RMSE against the next value: float ${t.float.rmse.toFixed(4)}, int8 ${t.int8.rmse.toFixed(4)} (${pct(t.int8.rmse / t.float.rmse - 1)}); MAE float ${t.float.mae.toFixed(4)}, int8 ${t.int8.mae.toFixed(4)}`);
          expect(e.snrDb).toBeGreaterThanOrEqual(SNR_DB);
          expect(t.int8.rmse).toBeLessThanOrEqual(ERROR_GROWTH * t.float.rmse);
        }
        // the converter as it is now, from the same float model
        const again = (await convertSequence(name, model)).evaluation;
        if (spec.classes) expect(again.agreement).toBeGreaterThanOrEqual(AGREEMENT);
        else {
          expect(again.snrDb).toBeGreaterThanOrEqual(SNR_DB);
          expect(again.targetError!.int8.rmse).toBeLessThanOrEqual(ERROR_GROWTH * again.targetError!.float.rmse);
        }
      } finally {
        model.dispose();
      }
    });
  }
});
