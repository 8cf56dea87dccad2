// `edgeq convert`: TF.js / Keras Layers model → pruned, int8-quantized .edgeq, with a
// report. Loaded on demand: it pulls in TF.js, which inspect and run do not need.

import * as tf from '@tensorflow/tfjs';
import { rename, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { compare, convertLayersModel, encodeFloatGraph, floatClasses, int8Classes, type ConvertOptions, type Evaluation, type Predictor } from '../convert/convert.js';
import { loadGraphModelFile } from '../convert/graph-model.js';
import { pruneFloatGraph } from '../convert/prune.js';
import { INPUT_RANGES, datasetInputs, type InputRange } from '../convert/inputs.js';
import { isGraphModel, loadLayersModelFile, readModelFiles } from '../convert/load.js';
import { DATASETS, loadDataset, take } from '../data/datasets.js';
import { ConvertError } from '../../runtime/errors.js';
import { encodeModel } from '../format/write.js';
import { loadModel } from '../../runtime/node.js';
import type { WeightEncoding } from '../format/model.js';
import { Progress } from './progress.js';
import { chooseBackend } from '../train/backend.js';
import { parse, UsageError, type Command } from '../../runtime/cli/args.js';

export const CONVERT_HELP = `usage: edgeq convert <model.json> --out <model.edgeq> --calibration <dataset> [options]

Converts a TF.js model (model.json + weight shards: a Layers model as TF.js saves it or
as the Keras → TF.js converter writes it, or a Graph model of conv / pool / dense ops)
into a pruned, int8-quantized .edgeq file, and
reports sizes, per-layer sparsity and, with --eval, float against int8 accuracy.

datasets: ${DATASETS.join(', ')} (28×28 grey images; fashion-mnist from --data-dir,
default /usr/share/datasets/fashion-mnist: apt-get install dataset-fashion-mnist)

options:
  --out FILE                 the .edgeq file to write (required)
  --calibration DATASET      representative inputs for activation ranges (required;
                             defaults to the --eval dataset): its training split
  --calibration-size N       how many (default 500)
  --calibration-method M     minmax (default) or percentile
  --eval DATASET             evaluate float and int8 on the dataset's test split
  --eval-size N              how many test examples (default: all)
  --sparsity S               magnitude-prune to this fraction of zero weights (0–0.99)
  --prune layer|global       per-layer targets (default) or one global threshold
  --no-protect               also prune the small first layer and the classifier
  --fine-tune EPOCHS         prune gradually while training this many epochs on the
                             calibration dataset's training split (TF.js, slow on CPU)
  --fine-tune-size N         training examples for fine-tuning (default 2000)
  --input-range R            what the model expects of pixels: 0-1 (default), 0-255, -1-1
  --encoding E               weight encoding: auto (default, the smallest), raw,
                             bitmask, huffman
  --name NAME                model name (default: the model's directory name)
  --labels a,b,c             class labels (default: the dataset's when they fit)
  --data-dir DIR             where fashion-mnist's IDX files are
  --json FILE                also write the report as JSON
  -h, --help                 this help`;

export interface ConvertArgs {
  model: string; out: string; calibration?: string; calibrationSize: number; calibrationMethod: 'minmax' | 'percentile';
  eval?: string; evalSize?: number; sparsity: number; prune: 'layer' | 'global'; protect: boolean; fineTune: number; fineTuneSize: number;
  inputRange: InputRange; encoding: WeightEncoding; name?: string; labels?: string[]; dataDir?: string; json?: string;
}

export interface ConvertReport {
  model: string; out: string; floatBytes: number; edgeqBytes: number; ratio: number;
  sparsity: number; weights: number; layers: { index: number; type: string; weights: number; zeros: number; encoding: string; fileBytes: number }[];
  eval?: Evaluation & { dataset: string }; seconds: number;
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

export async function runConvert(a: ConvertArgs, out: (s: string) => void, progressWrite: (s: string) => void, tty: boolean): Promise<ConvertReport> {
  const progress = new Progress(progressWrite, tty);
  tf.enableProdMode(); // no development warnings in a command's output
  await chooseBackend('wasm'); // the fastest CPU backend that trains (fine-tuning)
  if (!(a.sparsity >= 0 && a.sparsity < 1)) throw new ConvertError('E_SPARSITY', `--sparsity must be at least 0 and below 1, got ${a.sparsity}`);
  const calibrationName = a.calibration ?? a.eval;
  if (!calibrationName) throw new ConvertError('E_CALIBRATION', 'edgeq convert needs representative inputs to calibrate activation ranges: pass --calibration mnist or --calibration fashion-mnist');
  progress.step('load model');
  // Layers models prune (and fine-tune) as TF.js models; Graph models as float graphs
  const graphModel = isGraphModel((await readModelFiles(a.model)).json) ? await loadGraphModelFile(a.model) : undefined;
  if (graphModel && a.fineTune > 0) throw new ConvertError('E_FINE_TUNE', 'fine-tuning needs a Layers model; a Graph model can be pruned (--sparsity) but not trained');
  const loaded = graphModel ?? await loadLayersModelFile(a.model);
  const floatModel: Predictor = graphModel ? graphModel.model : (loaded as Awaited<ReturnType<typeof loadLayersModelFile>>).model;
  const inputShape = graphModel ? graphModel.graph.inputShape : (floatModel as tf.LayersModel).inputs[0].shape.slice(1);
  progress.step('load data');
  const train = await loadDataset(calibrationName, 'train', { dir: a.dataDir });
  const cal = datasetInputs(take(train, Math.min(a.calibrationSize, train.count)), inputShape, a.inputRange);
  let evalSet: Awaited<ReturnType<typeof loadDataset>> | undefined;
  let floatTop: Int32Array | undefined;
  let evalInputs: ReturnType<typeof datasetInputs> | undefined;
  if (a.eval) {
    const test = await loadDataset(a.eval, 'test', { dir: a.dataDir });
    evalSet = a.evalSize ? take(test, Math.min(a.evalSize, test.count)) : test;
    evalInputs = datasetInputs(evalSet, inputShape, a.inputRange);
    // the float baseline is the model as given, before pruning changes it
    progress.step('evaluate float');
    floatTop = floatClasses(floatModel, evalInputs.x, (f) => progress.update(f));
  }
  const outputs = graphModel ? outputCount(graphModel.graph) : ((floatModel as tf.LayersModel).outputs[0].shape as number[])[1];
  const labels = a.labels ?? (outputs === train.classes.length ? train.classes : undefined);
  if (labels && labels.length !== outputs) throw new ConvertError('E_LABELS', `${labels.length} labels given, the model has ${outputs} outputs`);
  let fineTune: { x: tf.Tensor; y: tf.Tensor; epochs: number } | undefined;
  if (a.fineTune > 0) {
    if (a.sparsity === 0) throw new ConvertError('E_FINE_TUNE', '--fine-tune needs --sparsity: fine-tuning recovers the accuracy pruning loses');
    const ft = take(train, Math.min(a.fineTuneSize, train.count));
    fineTune = { x: datasetInputs(ft, inputShape, a.inputRange).x, y: tf.tensor1d(ft.labels, 'float32'), epochs: a.fineTune };
  }
  let stage = '';
  const options: ConvertOptions = {
    name: a.name ?? basename(a.model.replace(/[/\\]model\.json$/, '')).replace(/\.json$/, ''),
    labels, source: { format: 'tfjs-layers', file: basename(a.model), bytes: loaded.floatBytes, generatedBy: 'generatedBy' in loaded ? loaded.generatedBy : undefined }, dataset: calibrationName,
    sparsity: a.sparsity, pruneMode: a.prune, protect: a.protect ? 'auto' : 'none', fineTune,
    calibration: cal.x, calibrationMethod: a.calibrationMethod, normalization: cal.normalization, encoding: a.encoding,
    progress: (s, f, detail) => { if (s !== stage) { stage = s; progress.step(s); } progress.update(f, detail); },
  };
  let result;
  if (graphModel) {
    if (a.sparsity > 0) pruneFloatGraph(graphModel.graph, { sparsity: a.sparsity, mode: a.prune, protect: a.protect ? 'auto' : 'none' });
    result = await encodeFloatGraph(graphModel.graph, options);
  } else {
    result = await convertLayersModel(floatModel as tf.LayersModel, options);
  }
  let evaluation: ConvertReport['eval'];
  let bytes = result.bytes;
  if (evalSet && evalInputs && floatTop) {
    progress.step('evaluate int8');
    const m = await loadModel(result.bytes);
    try {
      evaluation = { dataset: `${evalSet.name} ${evalSet.split}`, ...compare(floatTop, int8Classes(m, evalInputs.raw, evalSet.count, (f) => progress.update(f)), evalSet.labels) };
    } finally {
      m.dispose();
    }
    // the file records how it measured (same weights; only the metadata grows)
    result.model.metadata.evaluation = evaluation;
    bytes = encodeModel(result.model);
  }
  const tmp = `${a.out}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, a.out);
  progress.finish();
  const weights = result.layers.reduce((s, l) => s + l.weights, 0);
  const zeros = result.layers.reduce((s, l) => s + l.zeros, 0);
  const report: ConvertReport = {
    model: a.model, out: a.out, floatBytes: loaded.floatBytes, edgeqBytes: bytes.length, ratio: loaded.floatBytes / bytes.length,
    sparsity: zeros / weights, weights, layers: result.layers, eval: evaluation, seconds: progress.elapsedSeconds,
  };
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  const lines = [
    `converted  ${a.model} → ${a.out}`,
    `float      ${kb(loaded.floatBytes)} (model.json + ${loaded.files.length - 1} weight shard${loaded.files.length === 2 ? '' : 's'})`,
    `edgeq      ${kb(bytes.length)}, ${report.ratio.toFixed(1)}× smaller`,
    '', '  #  layer                weights    zero     encoding  bytes',
    ...result.layers.map((l) => `${String(l.index).padStart(3)}  ${l.type.padEnd(20)} ${String(l.weights).padStart(8)}  ${(100 * l.zeros / l.weights).toFixed(1).padStart(5)}%   ${l.encoding.padEnd(8)}  ${l.fileBytes}`),
    '',
    `sparsity   ${pct(report.sparsity)} of ${weights.toLocaleString('en-US')} weights${a.sparsity > 0 ? ` (target ${pct(a.sparsity)}, ${a.prune}${a.protect ? ', first layer and classifier protected when small' : ''}${a.fineTune ? `, fine-tuned ${a.fineTune} epochs` : ''})` : ''}`,
  ];
  if (evaluation) {
    const delta = 100 * (evaluation.int8Accuracy - evaluation.floatAccuracy);
    lines.push(`eval       ${evaluation.dataset}, ${evaluation.count.toLocaleString('en-US')} examples: float ${pct(evaluation.floatAccuracy)}, int8 ${pct(evaluation.int8Accuracy)} (${delta >= 0 ? '+' : ''}${delta.toFixed(2)} points), top-1 agreement ${pct(evaluation.agreement)}`);
  }
  lines.push(`time       ${report.seconds.toFixed(1)} s`);
  out(lines.join('\n'));
  if (a.json) await writeFile(a.json, JSON.stringify(report, null, 2));
  cal.x.dispose();
  evalInputs?.x.dispose();
  floatModel.dispose();
  return report;
}

// Classes a float graph outputs: the units of its last dense layer.
function outputCount(graph: import('../convert/graph.js').FloatGraph): number {
  const dense = [...graph.layers].reverse().find((l) => l.type === 'dense');
  return dense && dense.type === 'dense' ? dense.units : 0;
}


export const command: Command = async (args, io) => {
  const { values, positionals } = parse(args, {
    out: { type: 'string', short: 'o' }, calibration: { type: 'string' }, 'calibration-size': { type: 'string' },
    'calibration-method': { type: 'string' }, eval: { type: 'string' }, 'eval-size': { type: 'string' },
    sparsity: { type: 'string' }, prune: { type: 'string' }, 'no-protect': { type: 'boolean' },
    'fine-tune': { type: 'string' }, 'fine-tune-size': { type: 'string' }, 'input-range': { type: 'string' },
    encoding: { type: 'string' }, name: { type: 'string' }, labels: { type: 'string' }, 'data-dir': { type: 'string' },
    json: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { io.out(CONVERT_HELP); return 0; }
  if (positionals.length !== 1) throw new UsageError(`convert takes one model.json, got ${positionals.length}`);
  if (!values.out) throw new UsageError('convert needs --out <file.edgeq>');
  const int = (name: string, v: string | undefined, dflt: number, min: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} takes an integer ≥ ${min}, got '${v}'`);
    return n;
  };
  const oneOf = <T extends string>(name: string, v: string | undefined, options: readonly T[], dflt: T): T => {
    if (v === undefined) return dflt;
    if (!options.includes(v as T)) throw new UsageError(`--${name} takes ${options.join(' or ')}, got '${v}'`);
    return v as T;
  };
  const sparsity = values.sparsity === undefined ? 0 : Number(values.sparsity);
  if (!(sparsity >= 0 && sparsity < 1)) throw new UsageError(`--sparsity takes a fraction from 0 to below 1, got '${values.sparsity}'`);
  await runConvert({
    model: positionals[0], out: values.out, calibration: values.calibration,
    calibrationSize: int('calibration-size', values['calibration-size'], 500, 1),
    calibrationMethod: oneOf('calibration-method', values['calibration-method'], ['minmax', 'percentile'] as const, 'minmax'),
    eval: values.eval, evalSize: values['eval-size'] === undefined ? undefined : int('eval-size', values['eval-size'], 0, 1),
    sparsity, prune: oneOf('prune', values.prune, ['layer', 'global'] as const, 'layer'), protect: !values['no-protect'],
    fineTune: int('fine-tune', values['fine-tune'], 0, 0), fineTuneSize: int('fine-tune-size', values['fine-tune-size'], 2000, 1),
    inputRange: oneOf('input-range', values['input-range'], Object.keys(INPUT_RANGES) as (keyof typeof INPUT_RANGES)[], '0-1'),
    encoding: oneOf('encoding', values.encoding, ['auto', 'raw', 'bitmask', 'huffman'] as const, 'auto'),
    name: values.name, labels: values.labels?.split(',').map((s) => s.trim()), dataDir: values['data-dir'], json: values.json,
  }, io.out, io.progress ?? (() => {}), io.tty ?? false);
  return 0;
};
