// `edgeq convert`: TF.js / Keras Layers model → pruned, int8-quantized .edgeq, with a
// report. Loaded on demand: it pulls in TF.js, which inspect and run do not need.

import * as tf from '@tensorflow/tfjs';
import { rename, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { convertLayersModel, encodeFloatGraph, type ConvertOptions } from '../convert/convert.js';
import { evaluate, evaluationText, floatOutputs, int8Outputs, type Evaluation, type Predictor } from '../convert/evaluate.js';
import { loadGraphModelFile } from '../convert/graph-model.js';
import { layerShapes, requireFixedInput, withSequenceLength } from '../convert/graph.js';
import { pruneFloatGraph } from '../convert/prune.js';
import { describePixelRule, INPUT_RANGES, modelInputs, pixelRuleOf, uniformExamples, type InputRange, type ModelInputs, type PixelRuleOptions } from '../convert/inputs.js';
import { isGraphModel, loadLayersModelFile, readModelFiles } from '../convert/load.js';
import { DATASETS } from '../data/datasets.js';
import { readExamples, take as takeExamples, type Examples } from '../data/examples.js';
import { ConvertError } from '../../runtime/errors.js';
import { encodeModel } from '../format/write.js';
import { loadModel } from '../../runtime/node.js';
import type { PixelRule, WeightEncoding } from '../format/model.js';
import { Progress } from './progress.js';
import { chooseBackend } from '../train/backend.js';
import { parse, UsageError, type Command } from '../../runtime/cli/args.js';

export const CONVERT_HELP = `usage: edgeq convert <model.json> --out <model.edgeq> --calibration <data> [options]

Converts a TF.js model (model.json + weight shards: a Layers model as TF.js saves it or
as the Keras → TF.js converter writes it, or a Graph model as tensorflowjs_converter
writes a SavedModel or frozen graph: the layers and ops docs/CONVERTER.md lists) into a pruned, int8-quantized .edgeq file, and reports sizes, per-layer sparsity and,
with --eval, how int8 compares with float (accuracy, top-1 agreement, output error).

<data> (for --calibration and --eval) is one of:
  file.npy         an array [N, ...model input] (float32/64, uint8, int8, int16, int32),
                   in the model's own input units (what its predict takes)
  file.csv         one example per row, numeric columns in the model's input units;
                   a label column with --label-column NAME
  folder/          PNG / JPEG images, one subfolder per class (or unlabelled), resized
                   to the model's height × width, grey or RGB by its channels
  mnist, fashion-mnist   28×28 grey digits / clothes (train split for calibration,
                   test split for --eval; fashion-mnist: apt-get install
                   dataset-fashion-mnist, or --data-dir)
  uniform          (--calibration only) random pixels over the whole input range:
                   accuracy will suffer; use real examples when you have them

Pixels (images, mnist, uniform) become model inputs by the pixel rule the file
records, which the engine also applies to pixel inputs (Uint8Array, ImageData,
raw bytes): --input-range or --pixel-mean/--pixel-std; default 0-1 when the data are
pixels. Float data (.npy, CSV) are used as they are, and the model records no pixel
rule unless you give one (it then refuses pixel inputs).

options:
  --out FILE                 the .edgeq file to write (required)
  --calibration DATA         representative inputs for activation ranges (required;
                             defaults to the --eval data)
  --calibration-size N       how many (default 500)
  --calibration-method M     minmax (default) or percentile
  --labels FILE.npy          class indices of the --calibration examples (fine-tuning)
  --eval DATA                evaluate float and int8 on these examples
  --eval-labels FILE.npy     class indices of the --eval examples
  --eval-size N              how many examples (default: all)
  --label-column NAME        the label column of CSV data (name or 0-based number)
  --sequence-length N        convert a sequence model whose time dimension is variable
                             (input [None, None, features], e.g. Keras Conv1D / LSTM
                             with input_shape=(None, 9)) for sequences of N steps; an
                             .edgeq model has fixed shapes, so it then takes exactly N
  --input-range R            what the model takes for pixels 0–255: 0-1, 0-255, -1-1
  --pixel-mean M[,M,M]       … or value = (pixel − mean) / std, one value or one per
  --pixel-std S[,S,S]        channel (e.g. ImageNet: 123.7,116.3,103.5 / 58.4,57.1,57.4)
  --sparsity S               magnitude-prune to this fraction of zero weights (0–0.99)
  --prune layer|global       per-layer targets (default) or one global threshold
  --no-protect               also prune the small first layer and the classifier
  --fine-tune EPOCHS         prune gradually while training this many epochs on the
                             labelled calibration data (TF.js, slow on CPU)
  --fine-tune-size N         training examples for fine-tuning (default 2000)
  --encoding E               weight encoding: auto (default, the smallest), raw,
                             bitmask, huffman
  --name NAME                model name (default: the model's directory name)
  --class-names a,b,c        class names (default: the data's, when they fit)
  --data-dir DIR             where fashion-mnist's IDX files are
  --json FILE                also write the report as JSON
  -h, --help                 this help`;

export interface ConvertArgs extends PixelRuleOptions {
  model: string; out: string; calibration?: string; calibrationSize: number; calibrationMethod: 'minmax' | 'percentile';
  labels?: string; eval?: string; evalLabels?: string; evalSize?: number; labelColumn?: string;
  sparsity: number; prune: 'layer' | 'global'; protect: boolean; fineTune: number; fineTuneSize: number;
  encoding: WeightEncoding; name?: string; classNames?: string[]; dataDir?: string; json?: string;
  sequenceLength?: number; // fixes a variable time dimension (Layers models)
}

export interface ConvertReport {
  model: string; out: string; floatBytes: number; edgeqBytes: number; ratio: number; pixelRule: PixelRule | null;
  sparsity: number; weights: number; layers: { index: number; type: string; weights: number; zeros: number; encoding: string; fileBytes: number }[];
  eval?: Evaluation; seconds: number;
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

export async function runConvert(a: ConvertArgs, out: (s: string) => void, progressWrite: (s: string) => void, tty: boolean): Promise<ConvertReport> {
  const progress = new Progress(progressWrite, tty);
  tf.enableProdMode(); // no development warnings in a command's output
  await chooseBackend('wasm'); // the fastest CPU backend that trains (fine-tuning)
  if (!(a.sparsity >= 0 && a.sparsity < 1)) throw new ConvertError('E_SPARSITY', `--sparsity must be at least 0 and below 1, got ${a.sparsity}`);
  const calibrationSpec = a.calibration ?? a.eval;
  if (!calibrationSpec) throw new ConvertError('E_CALIBRATION', 'edgeq convert needs representative inputs to calibrate activation ranges: --calibration FILE.npy, FILE.csv, an image folder, mnist or fashion-mnist (or uniform, which costs accuracy)');
  if (a.eval === 'uniform') throw new ConvertError('E_EVAL', '--eval needs real examples: random inputs have no answers to compare with');
  if (a.fineTune > 0 && a.sparsity === 0) throw new ConvertError('E_FINE_TUNE', '--fine-tune needs --sparsity: fine-tuning recovers the accuracy pruning loses');
  const notes: string[] = [];
  progress.step('load model');
  // Layers models prune (and fine-tune) as TF.js models; Graph models as float graphs
  const graphModel = isGraphModel((await readModelFiles(a.model)).json) ? await loadGraphModelFile(a.model) : undefined;
  if (graphModel && a.fineTune > 0) throw new ConvertError('E_FINE_TUNE', 'fine-tuning needs a Layers model; a Graph model can be pruned (--sparsity) but not trained');
  const loaded = graphModel ?? await loadLayersModelFile(a.model, { sequenceLength: a.sequenceLength });
  const floatModel: Predictor = graphModel ? graphModel.model : (loaded as Awaited<ReturnType<typeof loadLayersModelFile>>).model;
  // a Graph model's input is fixed (lowerGraphModel); --sequence-length may only agree with it
  if (graphModel && a.sequenceLength !== undefined) withSequenceLength([null, ...graphModel.graph.inputShape], a.sequenceLength, a.model);
  const inputShape = graphModel ? graphModel.graph.inputShape : requireFixedInput((floatModel as tf.LayersModel).inputs[0]?.shape, a.model);
  const outputShape = graphModel ? layerShapes(graphModel.graph).at(-1)! : ((floatModel as tf.LayersModel).outputs[0].shape.slice(1) as number[]);
  const outputs = outputShape.reduce((x, y) => x * y, 1);

  progress.step('load data');
  let rule = pixelRuleOf(a, inputShape[inputShape.length - 1]);
  let cal: Examples;
  if (calibrationSpec === 'uniform') {
    cal = uniformExamples(a.calibrationSize, inputShape);
    notes.push('warning    calibrating on uniform random inputs: activation ranges will be wider than real data needs, and accuracy will suffer; pass real examples to --calibration');
  } else {
    const want = Math.max(a.calibrationSize, a.fineTune > 0 ? a.fineTuneSize : 0);
    cal = await readExamples(calibrationSpec, { inputShape, split: 'train', labels: a.labels, labelColumn: a.labelColumn, dataDir: a.dataDir, limit: want });
  }
  if (cal.pixels && !rule) {
    rule = { mul: [...INPUT_RANGES['0-1'].mul], add: [...INPUT_RANGES['0-1'].add] };
    notes.push('pixels     the data are pixels and no rule was given: pixels 0–255 → 0-1 (--input-range or --pixel-mean/--pixel-std if the model takes other values)');
  }
  const calInputs = modelInputs(takeExamples(cal, Math.min(a.calibrationSize, cal.count)), rule);
  let evalSet: Examples | undefined;
  let evalInputs: ModelInputs | undefined;
  let floatOut: Float32Array | undefined;
  if (a.eval) {
    evalSet = await readExamples(a.eval, { inputShape, split: 'test', labels: a.evalLabels, labelColumn: a.labelColumn, dataDir: a.dataDir, limit: a.evalSize });
    evalInputs = modelInputs(evalSet, rule);
    // the float baseline is the model as given, before pruning changes it
    progress.step('evaluate float');
    floatOut = floatOutputs(floatModel, evalInputs.x, (f) => progress.update(f));
  }
  const dataClasses = [cal.classes, evalSet?.classes].find((c) => c && c.length === outputs);
  const classNames = a.classNames ?? (outputShape.length === 1 ? dataClasses : undefined);
  if (a.classNames && (outputShape.length !== 1 || a.classNames.length !== outputs)) throw new ConvertError('E_LABELS', `${a.classNames.length} class names given, the model outputs [${outputShape}]`);
  let fineTune: { x: tf.Tensor; y: tf.Tensor; epochs: number } | undefined;
  if (a.fineTune > 0) {
    if (!cal.labels) throw new ConvertError('E_FINE_TUNE', `fine-tuning needs labelled examples, and ${cal.source} has no labels: --labels FILE.npy, --label-column NAME (CSV), class subfolders (images), or mnist / fashion-mnist`);
    const ft = takeExamples(cal, Math.min(a.fineTuneSize, cal.count));
    fineTune = { x: modelInputs(ft, rule).x, y: tf.tensor1d(ft.labels!, 'float32'), epochs: a.fineTune };
  }
  let stage = '';
  const named = (DATASETS as readonly string[]).includes(calibrationSpec);
  const options: ConvertOptions = {
    name: a.name ?? basename(a.model.replace(/[/\\]model\.json$/, '')).replace(/\.json$/, ''),
    labels: classNames, source: { format: 'tfjs-layers', file: basename(a.model), bytes: loaded.floatBytes, generatedBy: 'generatedBy' in loaded ? loaded.generatedBy : undefined },
    ...(named ? { dataset: calibrationSpec } : {}),
    sparsity: a.sparsity, pruneMode: a.prune, protect: a.protect ? 'auto' : 'none', fineTune,
    calibration: calInputs.x, calibrationMethod: a.calibrationMethod, pixelRule: rule, encoding: a.encoding,
    progress: (s, f, detail) => { if (s !== stage) { stage = s; progress.step(s); } progress.update(f, detail); },
  };
  let result;
  if (graphModel) {
    if (a.sparsity > 0) pruneFloatGraph(graphModel.graph, { sparsity: a.sparsity, mode: a.prune, protect: a.protect ? 'auto' : 'none' });
    result = await encodeFloatGraph(graphModel.graph, options);
  } else {
    result = await convertLayersModel(floatModel as tf.LayersModel, options);
  }
  let evaluation: Evaluation | undefined;
  let bytes = result.bytes;
  if (evalSet && evalInputs) {
    progress.step('evaluate int8');
    const m = await loadModel(result.bytes);
    try {
      const dataset = `${evalSet.source}${(DATASETS as readonly string[]).includes(evalSet.source) ? ' test' : ''}`;
      evaluation = evaluate({ dataset, count: evalSet.count, classifier: m.isClassifier, int8: int8Outputs(m, evalInputs.engine, evalSet.count, (f) => progress.update(f)), float: floatOut, labels: evalSet.labels });
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
    model: a.model, out: a.out, floatBytes: loaded.floatBytes, edgeqBytes: bytes.length, ratio: loaded.floatBytes / bytes.length, pixelRule: rule ?? null,
    sparsity: zeros / weights, weights, layers: result.layers, eval: evaluation, seconds: progress.elapsedSeconds,
  };
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  const lines = [
    ...notes,
    `converted  ${a.model} → ${a.out}`,
    `float      ${kb(loaded.floatBytes)} (model.json + ${loaded.files.length - 1} weight shard${loaded.files.length === 2 ? '' : 's'})`,
    `edgeq      ${kb(bytes.length)}, ${report.ratio.toFixed(1)}× smaller`,
    `input      [${inputShape.join(', ')}] floats as the source takes them${a.sequenceLength !== undefined ? ` (${a.sequenceLength} steps: --sequence-length)` : ''}; ${rule ? `pixel inputs: ${describePixelRule(rule)}` : 'no pixel rule (pixel inputs are refused)'}`,
    `calibrated ${calInputs.count.toLocaleString('en-US')} examples from ${cal.source}`,
    '', '  #  layer                weights    zero     encoding  bytes',
    ...result.layers.map((l) => `${String(l.index).padStart(3)}  ${l.type.padEnd(20)} ${String(l.weights).padStart(8)}  ${(100 * l.zeros / l.weights).toFixed(1).padStart(5)}%   ${l.encoding.padEnd(8)}  ${l.fileBytes}`),
    '',
    `sparsity   ${pct(report.sparsity)} of ${weights.toLocaleString('en-US')} weights${a.sparsity > 0 ? ` (target ${pct(a.sparsity)}, ${a.prune}${a.protect ? ', first layer and classifier protected when small' : ''}${a.fineTune ? `, fine-tuned ${a.fineTune} epochs` : ''})` : ''}`,
  ];
  if (evaluation) lines.push(`eval       ${evaluationText(evaluation)}`);
  lines.push(`time       ${report.seconds.toFixed(1)} s`);
  out(lines.join('\n'));
  if (a.json) await writeFile(a.json, JSON.stringify(report, null, 2));
  calInputs.x.dispose();
  evalInputs?.x.dispose();
  fineTune?.x.dispose();
  fineTune?.y.dispose();
  floatModel.dispose();
  return report;
}

export const command: Command = async (args, io) => {
  const { values, positionals } = parse(args, {
    out: { type: 'string', short: 'o' }, calibration: { type: 'string' }, 'calibration-size': { type: 'string' },
    'calibration-method': { type: 'string' }, eval: { type: 'string' }, 'eval-size': { type: 'string' },
    sparsity: { type: 'string' }, prune: { type: 'string' }, 'no-protect': { type: 'boolean' },
    'fine-tune': { type: 'string' }, 'fine-tune-size': { type: 'string' }, 'input-range': { type: 'string' },
    'pixel-mean': { type: 'string' }, 'pixel-std': { type: 'string' }, labels: { type: 'string' }, 'eval-labels': { type: 'string' },
    'label-column': { type: 'string' }, encoding: { type: 'string' }, name: { type: 'string' }, 'class-names': { type: 'string' }, 'data-dir': { type: 'string' },
    'sequence-length': { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' },
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
  const numbers = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const list = v.split(',').map((x) => Number(x.trim()));
    if (list.some((x) => !Number.isFinite(x))) throw new UsageError(`--${name} takes numbers separated by commas, got '${v}'`);
    return list;
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
    inputRange: values['input-range'] === undefined ? undefined : oneOf('input-range', values['input-range'], Object.keys(INPUT_RANGES) as InputRange[], '0-1'),
    pixelMean: numbers('pixel-mean', values['pixel-mean']), pixelStd: numbers('pixel-std', values['pixel-std']),
    labels: values.labels, evalLabels: values['eval-labels'], labelColumn: values['label-column'],
    encoding: oneOf('encoding', values.encoding, ['auto', 'raw', 'bitmask', 'huffman'] as const, 'auto'),
    name: values.name, classNames: values['class-names']?.split(',').map((s) => s.trim()), dataDir: values['data-dir'], json: values.json,
    sequenceLength: values['sequence-length'] === undefined ? undefined : int('sequence-length', values['sequence-length'], 0, 1),
  }, io.out, io.progress ?? (() => {}), io.tty ?? false);
  return 0;
};
