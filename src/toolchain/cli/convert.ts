// `edgeq convert`: TF.js / Keras Layers model → pruned, int8-quantized .edgeq, with a
// report. Loaded on demand: it pulls in TF.js, which inspect and run do not need.

import * as tf from '@tensorflow/tfjs';
import { rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { convertLayersModel, encodeFloatGraph, pruneLayersModel, type ConvertOptions, type LayerReport } from '../convert/convert.js';
import { evaluate, evaluationText, floatOutputs, int8Outputs, type Evaluation, type Predictor } from '../convert/evaluate.js';
import { loadGraphModelFile } from '../convert/graph-model.js';
import { layerShapes, requireFixedInput, withSequenceLength, type FloatGraph } from '../convert/graph.js';
import { distillTargets, pruneFloatGraph } from '../convert/prune.js';
import { clusterFloatGraph, checkClusters, MAX_CLUSTERS } from '../convert/cluster.js';
import { describePixelRule, INPUT_RANGES, modelInputs, pixelRuleOf, uniformExamples, type InputRange, type ModelInputs, type PixelRuleOptions } from '../convert/inputs.js';
import { isGraphModel, loadLayersModelFile, readModelFiles } from '../convert/load.js';
import { isDataset } from '../data/datasets.js';
import { readExamples, take as takeExamples, type Examples } from '../data/examples.js';
import { ConvertError } from '../../runtime/errors.js';
import { encodeModel } from '../format/write.js';
import { loadModel } from '../../runtime/node.js';
import type { PixelRule, WeightEncoding } from '../format/model.js';
import { Progress } from './progress.js';
import { svgChart } from '../report/svg.js';
import { chooseBackend } from '../train/backend.js';
import { kb, parse, pct, UsageError, type Command } from '../../runtime/cli/args.js';

export const CONVERT_HELP = `usage: edgeq convert <model.json> --out <model.edgeq> --calibration <data> [options]

Converts a TF.js model (model.json + weight shards: a Layers model as TF.js saves it or
as the Keras → TF.js converter writes it, or a Graph model as tensorflowjs_converter
writes a SavedModel or frozen graph: the layers and ops docs/CONVERTER.md lists) into a pruned, int8-quantized .edgeq file, and reports sizes, per-layer sparsity and,
with --eval, how int8 compares with float (accuracy, top-1 agreement, output error).

<data> (for --calibration and --eval) is one of:
  file.npy         an array [N, ...model input] (float32/64, uint8, int8, int16, int32/64),
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
  --calibration DATA         representative inputs for activation ranges (default:
                             the --eval data; one of the two is required)
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
                             labelled calibration data (Adam at 1e-3; the sparsity
                             reaches its target after 3/4 of them)
  --fine-tune-size N         training examples for fine-tuning (default 2000)
  --distill                  fine-tune towards the float model's own answers (half
                             its probabilities, half the label: knowledge distillation)
  --clusters K               weight clustering (Deep Compression's weight sharing):
                             each weight tensor's non-zero weights take at most K
                             shared values (2–255; 16 or 32 keep accuracy on most
                             models), found by k-means, stored as indices into a
                             codebook. With --sweep a list, 0 for none (0,16,32):
                             every sparsity × clusters
  --cluster-fine-tune EPOCHS fine-tune this many epochs with the values shared, on
                             the labelled calibration data (default: 1 with
                             --fine-tune, else 0)
  --encoding E               weight encoding: auto (default, the smallest), raw,
                             bitmask, huffman, codebook (clustered weights)
  --name NAME                model name (default: the model's directory name)
  --class-names a,b,c        class names (default: the data's, when they fit)
  --data-dir DIR             where fashion-mnist's IDX files are
  --sweep S,S,...            convert once per sparsity (and per --clusters value) (e.g. 0.5,0.7,0.8,0.9,0.95;
                             each at least 0 and below 1, sorted, repeats dropped),
                             each from the unpruned model, instead of --sparsity;
                             needs labelled --eval data. Writes one file per sparsity
                             beside --out (model.edgeq → model-sparsity-90.edgeq,
                             model-sparsity-90-clusters-16.edgeq) and,
                             in the same folder, size-vs-accuracy.json and
                             size-vs-accuracy.svg: int8 accuracy against file size,
                             with the float model's accuracy as a reference line
  --json FILE                also write the report as JSON (not with --sweep, whose
                             report is size-vs-accuracy.json)
  -h, --help                 this help`;

export interface ConvertArgs extends PixelRuleOptions {
  model: string; out: string; calibration?: string; calibrationSize: number; calibrationMethod: 'minmax' | 'percentile';
  labels?: string; eval?: string; evalLabels?: string; evalSize?: number; labelColumn?: string;
  sparsity: number; prune: 'layer' | 'global'; protect: boolean; fineTune: number; fineTuneSize: number; distill?: boolean;
  encoding: WeightEncoding; name?: string; classNames?: string[]; dataDir?: string; json?: string;
  sequenceLength?: number; // fixes a variable time dimension (Layers models)
  sweep?: number[]; // runConvertSweep: one conversion per sparsity (sparsity is then unused)
  clusters: number[]; // shared values per weight tensor, 0: none; one value except with sweep
  clusterFineTune: number; // epochs
}

export interface ConvertReport {
  model: string; out: string; floatBytes: number; edgeqBytes: number; ratio: number; pixelRule: PixelRule | null;
  sparsity: number; weights: number; layers: { index: number; type: string; weights: number; zeros: number; encoding: string; fileBytes: number }[];
  eval?: Evaluation; seconds: number;
}


// The float model as loaded: Layers models prune (and fine-tune) as TF.js models, Graph
// models as float graphs. Pruning changes it in place, so a sweep loads one per point.
interface Source {
  floatModel: Predictor;
  graph?: FloatGraph; // Graph models
  floatBytes: number; files: string[]; generatedBy?: string;
}

async function loadSource(a: ConvertArgs): Promise<Source> {
  if (isGraphModel((await readModelFiles(a.model)).json)) {
    if (a.fineTune > 0 || a.clusterFineTune > 0) throw new ConvertError('E_FINE_TUNE', 'fine-tuning needs a Layers model; a Graph model can be pruned (--sparsity) and clustered (--clusters) but not trained');
    const g = await loadGraphModelFile(a.model);
    // a Graph model's input is fixed (lowerGraphModel); --sequence-length may only agree with it
    if (a.sequenceLength !== undefined) withSequenceLength([null, ...g.graph.inputShape], a.sequenceLength, a.model);
    return { floatModel: g.model, graph: g.graph, floatBytes: g.floatBytes, files: g.files };
  }
  const l = await loadLayersModelFile(a.model, { sequenceLength: a.sequenceLength });
  return { floatModel: l.model, floatBytes: l.floatBytes, files: l.files, generatedBy: l.generatedBy };
}

// What every conversion of one run shares: the model's shapes, the data, the float
// baseline (computed before pruning changes the model).
interface Prepared {
  source: Source; inputShape: number[]; rule?: PixelRule; notes: string[];
  cal: Examples; calInputs: ModelInputs; evalSet?: Examples; evalInputs?: ModelInputs; floatOut?: Float32Array;
  fineTune?: { x: tf.Tensor; y: tf.Tensor; epochs: number }; options: Omit<ConvertOptions, 'sparsity' | 'progress'>;
}

async function prepare(a: ConvertArgs, progress: Progress): Promise<Prepared> {
  tf.enableProdMode(); // no development warnings in a command's output
  await chooseBackend('wasm'); // the fastest CPU backend that trains (fine-tuning)
  const calibrationSpec = a.calibration ?? a.eval;
  if (!calibrationSpec) throw new ConvertError('E_CALIBRATION', 'edgeq convert needs representative inputs to calibrate activation ranges: --calibration FILE.npy, FILE.csv, an image folder, mnist or fashion-mnist (or uniform, which costs accuracy)');
  if (a.eval === 'uniform') throw new ConvertError('E_EVAL', '--eval needs real examples: random inputs have no answers to compare with');
  const notes: string[] = [];
  progress.step('load model');
  const source = await loadSource(a);
  const floatModel = source.floatModel;
  const inputShape = source.graph ? source.graph.inputShape : requireFixedInput((floatModel as tf.LayersModel).inputs[0]?.shape, a.model);
  const outputShape = source.graph ? layerShapes(source.graph).at(-1)! : ((floatModel as tf.LayersModel).outputs[0].shape.slice(1) as number[]);
  const outputs = outputShape.reduce((x, y) => x * y, 1);

  progress.step('load data');
  let rule = pixelRuleOf(a, inputShape[inputShape.length - 1]);
  let cal: Examples;
  if (calibrationSpec === 'uniform') {
    cal = uniformExamples(a.calibrationSize, inputShape);
    notes.push('warning    calibrating on uniform random inputs: activation ranges will be wider than real data needs, and accuracy will suffer; pass real examples to --calibration');
  } else {
    const want = Math.max(a.calibrationSize, trains(a) ? a.fineTuneSize : 0);
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
    if (a.sweep && !evalSet.labels) throw new ConvertError('E_SWEEP', `--sweep measures int8 accuracy at each sparsity, and ${evalSet.source} has no labels: ${EVAL_LABELS}`);
    evalInputs = modelInputs(evalSet, rule);
    // the float baseline is the model as given, before pruning changes it
    progress.step('evaluate float');
    floatOut = floatOutputs(floatModel, evalInputs.x, (f) => progress.update(f));
  }
  const dataClasses = [cal.classes, evalSet?.classes].find((c) => c && c.length === outputs);
  const classNames = a.classNames ?? (outputShape.length === 1 ? dataClasses : undefined);
  if (a.classNames && (outputShape.length !== 1 || a.classNames.length !== outputs)) throw new ConvertError('E_LABELS', `${a.classNames.length} class names given, the model outputs [${outputShape}]`);
  let fineTune: Prepared['fineTune'];
  if (trains(a)) {
    if (!cal.labels) throw new ConvertError('E_FINE_TUNE', `fine-tuning needs labelled examples, and ${cal.source} has no labels: --labels FILE.npy, --label-column NAME (CSV), class subfolders (images), or mnist / fashion-mnist`);
    const ft = takeExamples(cal, Math.min(a.fineTuneSize, cal.count));
    const x = modelInputs(ft, rule).x;
    let y: tf.Tensor;
    if (a.distill) {
      // the float model teaches: targets half its own answer, half the label, taken
      // before anything is pruned (a sweep's every point learns from the same teacher)
      progress.step('teacher');
      y = distillTargets(ft.labels!, floatOutputs(floatModel, x, (f) => progress.update(f)), outputs);
    } else {
      y = tf.tensor1d(ft.labels!, 'float32');
    }
    fineTune = { x, y, epochs: a.fineTune };
  }
  const named = isDataset(calibrationSpec);
  const options: Prepared['options'] = {
    name: a.name ?? basename(a.model.replace(/[/\\]model\.json$/, '')).replace(/\.json$/, ''),
    labels: classNames, source: { format: 'tfjs-layers', file: basename(a.model), bytes: source.floatBytes, generatedBy: source.generatedBy },
    ...(named ? { dataset: calibrationSpec } : {}),
    pruneMode: a.prune, protect: a.protect ? 'auto' : 'none', fineTune,
    calibration: calInputs.x, calibrationMethod: a.calibrationMethod, pixelRule: rule, encoding: a.encoding,
  };
  return { source, inputShape, rule, notes, cal, calInputs, evalSet, evalInputs, floatOut, fineTune, options };
}

// Fine-tuning of either kind needs labelled training examples.
const trains = (a: ConvertArgs) => a.fineTune > 0 || a.clusterFineTune > 0;

// What one conversion does: prune to `sparsity` (unless `pruned`: the sweep prunes once
// for several cluster counts), then cluster to `clusters` values per tensor (0: not).
interface Step { sparsity: number; clusters: number; pruned?: boolean }

// One conversion: the file's bytes (with its evaluation in the metadata when there are
// evaluation examples) and the per-layer report. `source` changes in place.
async function convertAt(p: Prepared, a: ConvertArgs, source: Source, step: Step, progress: Progress, stagePrefix = ''): Promise<{ bytes: Uint8Array; layers: LayerReport[]; evaluation?: Evaluation }> {
  let stage = '';
  const { sparsity, clusters, pruned } = step;
  const options: ConvertOptions = {
    ...p.options, sparsity, pruned, clusters, clusterEpochs: clusters ? a.clusterFineTune : 0,
    progress: (s, f, detail) => { if (s !== stage) { stage = s; progress.step(`${stagePrefix}${s}`); } progress.update(f, detail); },
  };
  let result;
  if (source.graph) {
    if (sparsity > 0 && !pruned) pruneFloatGraph(source.graph, { sparsity, mode: options.pruneMode, protect: options.protect });
    if (clusters) clusterFloatGraph(source.graph, clusters);
    result = await encodeFloatGraph(source.graph, options);
  } else {
    result = await convertLayersModel(source.floatModel as tf.LayersModel, options);
  }
  if (!p.evalSet || !p.evalInputs) return { bytes: result.bytes, layers: result.layers };
  progress.step(`${stagePrefix}evaluate int8`);
  const m = await loadModel(result.bytes);
  let evaluation: Evaluation;
  try {
    const dataset = `${p.evalSet.source}${isDataset(p.evalSet.source) ? ' test' : ''}`;
    evaluation = evaluate({ dataset, count: p.evalSet.count, classifier: m.isClassifier, int8: int8Outputs(m, p.evalInputs.engine, p.evalSet.count, (f) => progress.update(f)), float: p.floatOut, labels: p.evalSet.labels });
  } finally {
    m.dispose();
  }
  // the file records how it measured (same weights; only the metadata grows)
  result.model.metadata.evaluation = evaluation;
  return { bytes: encodeModel(result.model), layers: result.layers, evaluation };
}

function dispose(p: Prepared): void {
  p.calInputs.x.dispose();
  p.evalInputs?.x.dispose();
  p.fineTune?.x.dispose();
  p.fineTune?.y.dispose();
  p.source.floatModel.dispose();
}

// Written through a temporary name: a file at `path` is always a whole one.
async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export async function runConvert(a: ConvertArgs, out: (s: string) => void, progressWrite: (s: string) => void, tty: boolean): Promise<ConvertReport> {
  if (!(a.sparsity >= 0 && a.sparsity < 1)) throw new ConvertError('E_SPARSITY', `--sparsity must be at least 0 and below 1, got ${a.sparsity}`);
  if (a.fineTune > 0 && a.sparsity === 0) throw new ConvertError('E_FINE_TUNE', '--fine-tune needs --sparsity: fine-tuning recovers the accuracy pruning loses');
  checkDistill(a);
  if (a.clusters.length > 1) throw new ConvertError('E_CLUSTERS', `--clusters takes one value (a list only with --sweep), got ${a.clusters.join(',')}`);
  const clusters = a.clusters[0] ?? 0;
  checkClusterArgs(a);
  const progress = new Progress(progressWrite, tty);
  const p = await prepare(a, progress);
  const { bytes, layers, evaluation } = await convertAt(p, a, p.source, { sparsity: a.sparsity, clusters }, progress);
  await writeAtomically(a.out, bytes);
  progress.finish();
  const weights = layers.reduce((s, l) => s + l.weights, 0);
  const zeros = layers.reduce((s, l) => s + l.zeros, 0);
  const { source, rule, inputShape, calInputs, cal } = p;
  const report: ConvertReport = {
    model: a.model, out: a.out, floatBytes: source.floatBytes, edgeqBytes: bytes.length, ratio: source.floatBytes / bytes.length, pixelRule: rule ?? null,
    sparsity: zeros / weights, weights, layers, eval: evaluation, seconds: progress.elapsedSeconds,
  };
  const lines = [
    ...p.notes,
    `converted  ${a.model} → ${a.out}`,
    `float      ${kb(source.floatBytes)} (model.json + ${source.files.length - 1} weight shard${source.files.length === 2 ? '' : 's'})`,
    `edgeq      ${kb(bytes.length)}, ${report.ratio.toFixed(1)}× smaller`,
    `input      [${inputShape.join(', ')}] floats as the source takes them${a.sequenceLength !== undefined ? ` (${a.sequenceLength} steps: --sequence-length)` : ''}; ${rule ? `pixel inputs: ${describePixelRule(rule)}` : 'no pixel rule (pixel inputs are refused)'}`,
    `calibrated ${calInputs.count.toLocaleString('en-US')} examples from ${cal.source}`,
    '', '  #  layer                weights    zero     encoding  bytes',
    ...layers.map((l) => `${String(l.index).padStart(3)}  ${l.type.padEnd(20)} ${String(l.weights).padStart(8)}  ${(100 * l.zeros / l.weights).toFixed(1).padStart(5)}%   ${l.encoding.padEnd(8)}  ${l.fileBytes}`),
    '',
    `sparsity   ${pct(report.sparsity)} of ${weights.toLocaleString('en-US')} weights${a.sparsity > 0 ? ` (target ${pct(a.sparsity)}, ${a.prune}${a.protect ? ', first layer and classifier protected when small' : ''}${a.fineTune ? `, fine-tuned ${a.fineTune} epochs` : ''})` : ''}`,
  ];
  if (evaluation) lines.push(`eval       ${evaluationText(evaluation)}`);
  lines.push(`time       ${report.seconds.toFixed(1)} s`);
  out(lines.join('\n'));
  if (a.json) await writeFile(a.json, JSON.stringify(report, null, 2));
  dispose(p);
  return report;
}

// --distill changes what fine-tuning learns from: it needs fine-tuning.
function checkDistill(a: ConvertArgs): void {
  if (a.distill && !trains(a)) throw new ConvertError('E_FINE_TUNE', '--distill needs --fine-tune (or --cluster-fine-tune): it sets what fine-tuning learns from');
}

// --clusters values: 0 (none) or 2–255; --cluster-fine-tune needs something to cluster.
function checkClusterArgs(a: ConvertArgs): void {
  for (const k of a.clusters) if (k !== 0) checkClusters(k);
  if (a.clusterFineTune > 0 && !a.clusters.some((k) => k > 0)) throw new ConvertError('E_FINE_TUNE', '--cluster-fine-tune needs --clusters: it fine-tunes the shared values');
}

// What --sweep's labelled evaluation data can be.
const EVAL_LABELS = '--eval with labels: FILE.npy with --eval-labels FILE.npy, FILE.csv with --label-column NAME, an image folder with one subfolder per class, mnist or fashion-mnist';

// The sweep's sparsities, sorted and without repeats; each at least 0 and below 1.
export function sweepSparsities(list: readonly number[]): number[] {
  if (!list.length) throw new ConvertError('E_SWEEP', '--sweep needs at least one sparsity, e.g. 0.5,0.7,0.8,0.9,0.95');
  const bad = list.find((s) => !(s >= 0 && s < 1));
  if (bad !== undefined) throw new ConvertError('E_SWEEP', `--sweep takes sparsities at least 0 and below 1 (fractions of zero weights), got ${bad}`);
  return [...new Set(list)].sort((x, y) => x - y);
}

// Where a sweep writes the file of one point: model.edgeq → model-sparsity-90.edgeq,
// model-sparsity-90-clusters-16.edgeq.
export function sweepFile(out: string, sparsity: number, clusters = 0): string {
  return `${out.replace(/\.edgeq$/, '')}-sparsity-${Number((100 * sparsity).toPrecision(6))}${clusters ? `-clusters-${clusters}` : ''}.edgeq`;
}

export interface SweepPoint {
  sparsity: number; // the target
  clusters: number; // shared values per weight tensor, 0: not clustered
  measuredSparsity: number; // zeros over all weights (protected layers included)
  out: string; edgeqBytes: number; int8Accuracy: number; agreement?: number;
}

export interface SweepReport {
  model: string; floatBytes: number; eval: { dataset: string; count: number }; floatAccuracy: number;
  prune: 'layer' | 'global'; fineTune: number; clusterFineTune: number; points: SweepPoint[]; svg: string; json: string; seconds: number;
}

// --sweep: one conversion per sparsity × clusters, each sparsity from the unpruned model
// and each cluster count from the same pruned one, each file written beside --out with
// its settings in the name; size-vs-accuracy.json and .svg beside them say what each
// setting costs in accuracy and buys in size.
export async function runConvertSweep(a: ConvertArgs, out: (s: string) => void, progressWrite: (s: string) => void, tty: boolean): Promise<SweepReport> {
  const sparsities = sweepSparsities(a.sweep ?? []);
  const clusterList = [...new Set(a.clusters.length ? a.clusters : [0])].sort((x, y) => x - y);
  checkClusterArgs(a);
  if (!a.eval) throw new ConvertError('E_SWEEP', `--sweep measures int8 accuracy at each sparsity, so it needs labelled evaluation examples: ${EVAL_LABELS}`);
  if (a.fineTune > 0 && sparsities[0] === 0) throw new ConvertError('E_FINE_TUNE', '--fine-tune with --sweep needs sparsities above 0: fine-tuning recovers the accuracy pruning loses');
  checkDistill(a);
  const progress = new Progress(progressWrite, tty);
  const p = await prepare(a, progress);
  const points: SweepPoint[] = [];
  const total = sparsities.length * clusterList.length;
  let evalOf: Evaluation | undefined;
  try {
    for (const [i, sparsity] of sparsities.entries()) {
      // the first source is still unpruned; Graph models reload for every point (pruning
      // them is one shot and cheap), Layers models are pruned once and their pruned
      // weights restored before each cluster count
      let source = i === 0 ? p.source : await loadSource(a);
      let pruned: tf.Tensor[] | undefined;
      try {
        for (const [j, clusters] of clusterList.entries()) {
          const n = i * clusterList.length + j + 1;
          const prefix = `[${n}/${total}] ${Number((100 * sparsity).toPrecision(6))}%${clusters ? ` ×${clusters}` : ''} `;
          if (j > 0 && source.graph) {
            if (source !== p.source) source.floatModel.dispose();
            source = await loadSource(a);
          }
          const model = source.graph ? undefined : (source.floatModel as tf.LayersModel);
          if (model && !pruned) {
            let stage = '';
            await pruneLayersModel(model, { ...p.options, sparsity, progress: (s, f, d) => { if (s !== stage) { stage = s; progress.step(`${prefix}${s}`); } progress.update(f, d); } });
            pruned = model.getWeights().map((w) => w.clone());
          } else if (model && pruned) {
            model.setWeights(pruned);
          }
          const { bytes, layers, evaluation } = await convertAt(p, a, source, { sparsity, clusters, pruned: model !== undefined }, progress, prefix);
          if (evaluation?.int8Accuracy === undefined || evaluation.floatAccuracy === undefined) {
            throw new ConvertError('E_SWEEP', `--sweep plots accuracy, and ${a.model} is not a classifier (its output is not one score per class ending in softmax, and no class names match it): convert it at one sparsity and compare outputs with --eval`);
          }
          evalOf = evaluation;
          const file = sweepFile(a.out, sparsity, clusters);
          await writeAtomically(file, bytes);
          const weights = layers.reduce((s, l) => s + l.weights, 0);
          points.push({ sparsity, clusters, measuredSparsity: layers.reduce((s, l) => s + l.zeros, 0) / weights, out: file, edgeqBytes: bytes.length, int8Accuracy: evaluation.int8Accuracy, agreement: evaluation.agreement });
          progress.finish();
          out(`sparsity ${pct(sparsity).padStart(7)}  ${clusters ? `clusters ${String(clusters).padStart(3)}` : 'not clustered'}  ${file}  ${kb(bytes.length).padStart(9)}  int8 ${pct(evaluation.int8Accuracy)} (float ${pct(evaluation.floatAccuracy)})`);
        }
      } finally {
        pruned?.forEach((w) => w.dispose());
        if (source !== p.source) source.floatModel.dispose();
      }
    }
    const dir = dirname(a.out);
    const report: SweepReport = {
      model: a.model, floatBytes: p.source.floatBytes, eval: { dataset: evalOf!.dataset, count: evalOf!.count }, floatAccuracy: evalOf!.floatAccuracy!,
      prune: a.prune, fineTune: a.fineTune, clusterFineTune: a.clusterFineTune, points, svg: join(dir, 'size-vs-accuracy.svg'), json: join(dir, 'size-vs-accuracy.json'), seconds: progress.elapsedSeconds,
    };
    await writeAtomically(report.json, JSON.stringify(report, null, 2));
    await writeAtomically(report.svg, sizeVsAccuracy(report));
    out([
      ...p.notes,
      `swept      ${a.model}: ${sparsities.length} sparsities${clusterList.some((k) => k) ? ` × ${clusterList.length} cluster settings` : ''}, ${a.prune}${a.fineTune ? `, fine-tuned ${a.fineTune} epochs each` : ''}${a.clusterFineTune ? `, clusters fine-tuned ${a.clusterFineTune}` : ''}; float ${kb(report.floatBytes)}, accuracy ${pct(report.floatAccuracy)} on ${report.eval.dataset} (${report.eval.count.toLocaleString('en-US')} examples)`,
      `wrote      ${report.json}, ${report.svg}`,
      `time       ${report.seconds.toFixed(1)} s`,
    ].join('\n'));
    return report;
  } finally {
    progress.finish();
    dispose(p);
  }
}

// size-vs-accuracy.svg: int8 accuracy against file size, a point per sparsity, and the
// float model's accuracy as the line to stay near.
export function sizeVsAccuracy(r: SweepReport): string {
  return svgChart({
    title: `${basename(dirname(r.model)) || r.model}: file size against accuracy`,
    panels: [{
      // short enough for the panel: the JSON has the rest
      title: `${r.eval.dataset} (${r.eval.count.toLocaleString('en-US')})${r.prune === 'global' ? ', global pruning' : ''}${r.fineTune || r.clusterFineTune ? `, fine-tuned ${r.fineTune}${r.clusterFineTune ? ` + ${r.clusterFineTune}` : ''} epochs` : ''}`,
      x: { label: '.edgeq file size (KB)' }, y: { label: 'accuracy', percent: true },
      // one series per cluster count, its points labelled by sparsity
      series: [...new Set(r.points.map((q) => q.clusters))].map((k) => {
        const pts = r.points.filter((q) => q.clusters === k);
        return { name: k ? `int8, ${k} clusters, by sparsity` : 'int8, by sparsity', points: pts.map((q) => [q.edgeqBytes / 1024, q.int8Accuracy] as const), labels: pts.map((q) => `${Number((100 * q.sparsity).toPrecision(6))}%`) };
      }),
      references: [{ name: `float ${pct(r.floatAccuracy)} (${kb(r.floatBytes)})`, y: r.floatAccuracy }],
    }],
  });
}

export const command: Command = async (args, io) => {
  const { values, positionals } = parse(args, {
    out: { type: 'string', short: 'o' }, calibration: { type: 'string' }, 'calibration-size': { type: 'string' },
    'calibration-method': { type: 'string' }, eval: { type: 'string' }, 'eval-size': { type: 'string' },
    sparsity: { type: 'string' }, prune: { type: 'string' }, 'no-protect': { type: 'boolean' },
    'fine-tune': { type: 'string' }, 'fine-tune-size': { type: 'string' }, distill: { type: 'boolean' }, 'input-range': { type: 'string' },
    'pixel-mean': { type: 'string' }, 'pixel-std': { type: 'string' }, labels: { type: 'string' }, 'eval-labels': { type: 'string' },
    'label-column': { type: 'string' }, encoding: { type: 'string' }, name: { type: 'string' }, 'class-names': { type: 'string' }, 'data-dir': { type: 'string' },
    'sequence-length': { type: 'string' }, sweep: { type: 'string' }, clusters: { type: 'string' }, 'cluster-fine-tune': { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' },
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
  const sweep = values.sweep === undefined ? undefined : parseSweep(values.sweep);
  if (sweep && values.sparsity !== undefined) throw new UsageError('--sweep and --sparsity exclude each other: --sweep converts at each of its sparsities');
  if (sweep && values.json) throw new UsageError('--sweep writes its report to size-vs-accuracy.json beside --out; --json is for a single conversion');
  const convertArgs: ConvertArgs = {
    model: positionals[0], out: values.out, calibration: values.calibration,
    calibrationSize: int('calibration-size', values['calibration-size'], 500, 1),
    calibrationMethod: oneOf('calibration-method', values['calibration-method'], ['minmax', 'percentile'] as const, 'minmax'),
    eval: values.eval, evalSize: values['eval-size'] === undefined ? undefined : int('eval-size', values['eval-size'], 0, 1),
    sparsity, prune: oneOf('prune', values.prune, ['layer', 'global'] as const, 'layer'), protect: !values['no-protect'],
    fineTune: int('fine-tune', values['fine-tune'], 0, 0), fineTuneSize: int('fine-tune-size', values['fine-tune-size'], 2000, 1), distill: values.distill ?? false,
    inputRange: values['input-range'] === undefined ? undefined : oneOf('input-range', values['input-range'], Object.keys(INPUT_RANGES) as InputRange[], '0-1'),
    pixelMean: numbers('pixel-mean', values['pixel-mean']), pixelStd: numbers('pixel-std', values['pixel-std']),
    labels: values.labels, evalLabels: values['eval-labels'], labelColumn: values['label-column'],
    encoding: oneOf('encoding', values.encoding, ['auto', 'raw', 'bitmask', 'huffman', 'codebook'] as const, 'auto'),
    name: values.name, classNames: values['class-names']?.split(',').map((s) => s.trim()), dataDir: values['data-dir'], json: values.json,
    sequenceLength: values['sequence-length'] === undefined ? undefined : int('sequence-length', values['sequence-length'], 0, 1), sweep,
    clusters: clusterCounts(values.clusters, Boolean(sweep)),
    // default: one epoch when pruning is fine-tuned and something is clustered
    clusterFineTune: int('cluster-fine-tune', values['cluster-fine-tune'], Number(values['fine-tune'] ?? 0) > 0 && (values.clusters ?? '').split(',').some((k) => Number(k) > 0) ? 1 : 0, 0),
  };
  await (sweep ? runConvertSweep : runConvert)(convertArgs, io.out, io.progress ?? (() => {}), io.tty ?? false);
  return 0;
};

// --clusters' text: one whole number 2–255 (a list with --sweep, 0 for none); a usage
// error (exit 2) otherwise.
export function clusterCounts(text: string | undefined, sweep: boolean): number[] {
  if (text === undefined) return [];
  const items = text.split(',').map((x) => x.trim());
  if (!sweep && items.length > 1) throw new UsageError(`--clusters takes one number (a list only with --sweep), got '${text}'`);
  const counts = items.map(Number);
  const bad = items.find((x, i) => x === '' || !Number.isInteger(counts[i]) || (counts[i] !== 0 || !sweep) && (counts[i] < 2 || counts[i] > MAX_CLUSTERS));
  if (bad !== undefined) throw new UsageError(`--clusters takes whole numbers from 2 to ${MAX_CLUSTERS}${sweep ? ' (or 0: not clustered)' : ''}, got '${bad}'`);
  return counts;
}

// --sweep's text: numbers separated by commas, each in [0, 1); a usage error (exit 2)
// otherwise, as for --sparsity.
export function parseSweep(text: string): number[] {
  const items = text.split(',').map((x) => x.trim());
  const bad = items.find((x) => x === '' || !Number.isFinite(Number(x)));
  if (bad !== undefined) throw new UsageError(`--sweep takes sparsities separated by commas, e.g. 0.5,0.7,0.9, got '${text}'`);
  try {
    return sweepSparsities(items.map(Number));
  } catch (e) {
    if (e instanceof ConvertError) throw new UsageError(e.message);
    throw e;
  }
}
