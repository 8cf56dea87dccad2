// A gateway's inference loop over a sensor stream: readings in (CSV lines on stdin, one
// reading per line, or a seeded demo stream), sliding windows of the model's input shape
// [steps, features], one prediction per window, printed as a line. The model runs in
// this process (the runtime API, offline) or in `edgeq serve` (--serve URL).
//
//   classifier (e.g. models/edge/activity-recognition.edgeq): the window's class
//   forecaster (one output, e.g. models/edge/forecasting.edgeq): the next reading's
//     forecast; when it arrives, the error and an anomaly score (the error over the
//     median error so far), flagged above --threshold
//
// Usage: examples/gateway-sensor/README.md, or --help.

import { createInterface } from 'node:readline';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel, type Model } from '../../src/runtime/node.js';
import { rng } from '../../src/runtime/rng.js';
import { forecastStream, gaussian, motionSegments, MOTION_CLASSES } from '../../src/toolchain/data/sensors.js';

const HELP = `usage: npx tsx examples/gateway-sensor/gateway.ts [options] < readings.csv

Reads one sensor reading per CSV line (the model's features as columns; a header line
and blank lines are skipped), runs the model on sliding windows of its input length and
prints one line per window.

  --model FILE.edgeq   the model (default models/edge/activity-recognition.edgeq)
  --serve URL          send each window to \`edgeq serve\` at URL instead of running the
                       model here (the model file still gives the window shape and labels)
  --name NAME          the model's name on the server (default: the file's base name)
  --generate KIND      no stdin: a seeded demo stream, 'activity' (9 channels, the six
                       activities in turn, 2.56 s each) or 'forecast' (1 channel, sines,
                       drift and noise, with a fault two thirds of the way: a loose
                       connector's noise for 24 readings)
  --readings N         length of the demo stream (default 1,024)
  --hop N              readings from one window to the next (default: half a window for
                       a classifier, 1 for a forecaster)
  --threshold X        forecaster: flag readings whose anomaly score exceeds X (default 6)
  --windows-csv        print each window as one CSV row (steps × features values) instead
                       of predicting: calibration data for \`edgeq convert --calibration\`
  --help               this text`;

const { values: opt } = parseArgs({
  options: {
    model: { type: 'string', default: new URL('../../models/edge/activity-recognition.edgeq', import.meta.url).pathname },
    serve: { type: 'string' }, name: { type: 'string' }, generate: { type: 'string' }, readings: { type: 'string', default: '1024' },
    hop: { type: 'string' }, threshold: { type: 'string', default: '6' }, 'windows-csv': { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
  },
});
if (opt.help) { console.log(HELP); process.exit(0); }
// a reader that stops reading (| head) ends the loop quietly
process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
const fail = (message: string): never => { console.error(`gateway: ${message}`); process.exit(2); };
const positive = (v: string, what: string) => { const n = Number(v); if (!Number.isInteger(n) || n < 1) fail(`${what} must be a positive integer, got '${v}'`); return n; };

const model: Model = await loadModel(await readFile(opt.model).catch(() => fail(`cannot read the model ${opt.model}`)));
if (model.inputShape.length !== 2) fail(`${opt.model} takes [${model.inputShape}]: a sequence model takes [steps, features]`);
const [steps, features] = model.inputShape;
const outputs = model.outputShape.reduce((a, b) => a * b, 1);
const forecaster = !model.isClassifier && outputs === 1;
const hop = opt.hop ? positive(opt.hop, '--hop') : forecaster ? 1 : Math.max(1, steps >> 1);
const threshold = Number(opt.threshold);
if (!(threshold > 0)) fail(`--threshold must be a positive number, got '${opt.threshold}'`);
const name = opt.name ?? basename(opt.model).replace(/\.edgeq$/, '');

// one prediction: in-process, or a POST to edgeq serve (the predict protocol)
async function predict(window: Float32Array): Promise<Float32Array> {
  if (!opt.serve) return model.predict(window);
  const res = await fetch(new URL(`/v1/models/${encodeURIComponent(name)}:predict`, opt.serve), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [Array.from(window)] }),
  });
  const body = await res.json() as { predictions?: number[][]; error?: string };
  if (!res.ok || !body.predictions) throw new Error(`${opt.serve}: ${res.status} ${body.error ?? ''}`);
  return Float32Array.from(body.predictions[0]);
}

// the readings: stdin's CSV lines, or the demo stream (with its truth, for the printout)
async function* readings(): AsyncGenerator<{ values: number[]; truth?: string }> {
  if (opt.generate === 'activity' || opt.generate === 'forecast') {
    const n = positive(opt.readings, '--readings');
    if (opt.generate === 'activity') {
      if (features !== 9) fail(`--generate activity makes 9 channels; ${opt.model} takes ${features}`);
      const segments = Math.ceil(n / 128), { x, labels } = motionSegments(segments, 4242);
      for (let t = 0; t < n; t++) yield { values: Array.from(x.subarray(t * 9, t * 9 + 9)), truth: MOTION_CLASSES[labels[Math.floor(t / 128)]] };
    } else {
      if (features !== 1) fail(`--generate forecast makes 1 channel; ${opt.model} takes ${features}`);
      const x = forecastStream(n, 4242);
      // a fault two thirds of the way: a loose connector adds noise (σ 0.8) for 24 readings
      const at = Math.floor((2 * n) / 3), r = rng(7), g = gaussian(r);
      for (let t = 0; t < n; t++) {
        const fault = t >= at && t < at + 24;
        yield { values: [x[t] + (fault ? 0.8 * g() : 0)], truth: fault ? 'fault: loose connector' : undefined };
      }
    }
    return;
  }
  if (opt.generate !== undefined) fail(`--generate takes 'activity' or 'forecast', got '${opt.generate}'`);
  if (process.stdin.isTTY) fail('no readings: pipe CSV lines in (one reading per line), or pass --generate activity|forecast (--help)');
  let line = 0;
  for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    line++;
    if (!text.trim()) continue;
    const cells = text.split(',').map((c) => c.trim());
    const values = cells.map(Number);
    if (values.some((v) => !Number.isFinite(v))) {
      if (line === 1 && cells.some((c) => c !== '' && Number.isNaN(Number(c)))) continue; // a header
      console.error(`gateway: line ${line}: '${text.slice(0, 60)}' is not ${features} numbers: skipped`);
      continue;
    }
    if (values.length !== features) {
      console.error(`gateway: line ${line} has ${values.length} values; ${opt.model} takes ${features} per reading ([${steps}, ${features}] per window): skipped`);
      continue;
    }
    yield { values };
  }
}

const window: number[][] = [];
const errors: number[] = [];
let t = -1, sinceLast = hop, forecast: { value: number; at: number } | undefined, windows = 0;
for await (const { values, truth } of readings()) {
  t++;
  if (forecast && forecast.at === t) {
    const error = Math.abs(values[0] - forecast.value);
    const sorted = [...errors].sort((a, b) => a - b), median = sorted[sorted.length >> 1];
    const score = median > 0 ? error / median : 0;
    errors.push(error);
    if (errors.length > 512) errors.shift();
    if (!opt['windows-csv']) {
      console.log(`reading ${t}: ${values[0].toFixed(3)}, forecast ${forecast.value.toFixed(3)}, error ${error.toFixed(3)}, score ${score.toFixed(1)}${errors.length > 16 && score > threshold ? '  ANOMALY' : ''}${truth ? `  (${truth})` : ''}`);
    }
  }
  window.push(values);
  if (window.length > steps) window.shift();
  if (window.length < steps || ++sinceLast < hop) continue;
  sinceLast = 0;
  windows++;
  const x = Float32Array.from(window.flat());
  if (opt['windows-csv']) { console.log(Array.from(x, (v) => +v.toFixed(6)).join(',')); continue; }
  const y = await predict(x);
  if (forecaster) forecast = { value: y[0], at: t + 1 };
  else if (model.isClassifier) {
    let best = 0;
    for (let k = 1; k < y.length; k++) if (y[k] > y[best]) best = k;
    const label = model.labels[best] ?? String(best);
    console.log(`window ${windows} (readings ${t - steps + 1}–${t}): ${label} ${y[best].toFixed(2)}${truth ? `  (truth at its end: ${truth})` : ''}`);
  } else {
    console.log(`window ${windows} (readings ${t - steps + 1}–${t}): [${Array.from(y, (v) => v.toFixed(3)).join(', ')}]`);
  }
}
if (windows === 0) console.error(`gateway: ${t + 1} readings, fewer than one window of ${steps}`);
model.dispose();
