// `edgeq eval`: an .edgeq model on the user's examples: accuracy (classifiers with
// labels) and, against the float source model, top-1 agreement and the int8 output
// error (max |error|, RMSE, SNR) for every kind of model.

import * as tf from '@tensorflow/tfjs';
import { writeFile } from 'node:fs/promises';
import { parse, UsageError, type Command } from '../../runtime/cli/args.js';
import { DataError } from '../../runtime/errors.js';
import { loadModelFile } from '../../runtime/node.js';
import { evaluate, evaluationText, floatOutputs, int8Outputs, type Predictor } from '../convert/evaluate.js';
import { loadGraphModelFile } from '../convert/graph-model.js';
import { modelInputs } from '../convert/inputs.js';
import { isGraphModel, loadLayersModelFile, readModelFiles } from '../convert/load.js';
import { isDataset } from '../data/datasets.js';
import { readExamples } from '../data/examples.js';
import { chooseBackend } from '../train/backend.js';
import { Progress } from './progress.js';

const EVAL_HELP = `usage: edgeq eval <model.edgeq> --data <data> [--labels FILE.npy] [--float model.json] [--json FILE]

Runs the model on examples and reports, for classifiers with labelled examples, the
accuracy; with --float, the source model's accuracy, the top-1 agreement of int8 with
float (classifiers), and for every model the error of the int8 outputs against float:
max |error|, RMSE and SNR in dB. Regressors, autoencoders and image-to-image models are
evaluated by those error figures.

<data> is one of: file.npy ([N, ...model input], in the model's input units), file.csv
(one example per row; --label-column NAME), a folder of PNG / JPEG images (one
subfolder per class; pixels, turned into inputs by the model's pixel rule), mnist or
fashion-mnist (their test split).

options:
  --data DATA            the examples (required)
  --labels FILE.npy      class indices of the examples, [N] or [N, 1]
  --label-column NAME    the label column of CSV data (name or 0-based number)
  --float FILE           the float source model (TF.js model.json) to compare with
  --size N               use the first N examples
  --data-dir DIR         where fashion-mnist's IDX files are
  --json FILE            also write the figures as JSON
  -h, --help             this help`;

export const command: Command = async (args, io) => {
  const { values, positionals } = parse(args, {
    data: { type: 'string' }, labels: { type: 'string' }, 'label-column': { type: 'string' }, float: { type: 'string' },
    size: { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { io.out(EVAL_HELP); return 0; }
  if (positionals.length !== 1) throw new UsageError(`eval takes one model file, got ${positionals.length}`);
  if (!values.data) throw new UsageError('eval needs --data: a .npy or .csv file, a folder of images, mnist or fashion-mnist');
  const size = values.size === undefined ? undefined : Number(values.size);
  if (size !== undefined && !(Number.isInteger(size) && size >= 1)) throw new UsageError(`--size takes a positive integer, got '${values.size}'`);
  const progress = new Progress(io.progress ?? (() => {}), io.tty ?? false);
  const model = await loadModelFile(positionals[0]);
  let float: Predictor | undefined;
  let x: tf.Tensor | undefined;
  try {
    progress.step('load data');
    const ex = await readExamples(values.data, {
      inputShape: model.inputShape, split: 'test', labels: values.labels, labelColumn: values['label-column'], dataDir: values['data-dir'], limit: size,
    });
    if (ex.pixels && !model.info.pixelRule) {
      throw new DataError('E_PIXEL_RULE', `${ex.source} holds pixels, and ${positionals[0]} has no pixel rule: give the values the model takes (.npy or CSV), or re-convert it with --input-range or --pixel-mean/--pixel-std`);
    }
    if (model.info.floatInputsScaled && values.float && ex.values) {
      throw new DataError('E_FORMAT_1', `${positionals[0]} is a format-1 file, which scales float inputs by its pixel rule, so its float inputs are not the source model's: re-convert it with this edgeq`);
    }
    const inputs = modelInputs(ex, model.info.pixelRule ?? undefined);
    x = inputs.x;
    let floatOut: Float32Array | undefined;
    if (values.float) {
      progress.step('float model');
      tf.enableProdMode();
      await chooseBackend('wasm');
      const file = values.float;
      float = isGraphModel((await readModelFiles(file)).json) ? (await loadGraphModelFile(file)).model : (await loadLayersModelFile(file)).model;
      floatOut = floatOutputs(float, x, (f) => progress.update(f));
    }
    progress.step('int8 model');
    const int8 = int8Outputs(model, inputs.engine, ex.count, (f) => progress.update(f));
    progress.finish();
    const dataset = `${ex.source}${isDataset(ex.source) ? ' test' : ''}`;
    const e = evaluate({ dataset, count: ex.count, classifier: model.isClassifier, int8, float: floatOut, labels: ex.labels });
    io.out([
      `model      ${positionals[0]}${model.name ? ` (${model.name})` : ''}, ${e.classifier ? `classifier, ${model.outputShape[0]} classes` : `outputs [${model.outputShape.join(', ')}]`}`,
      `eval       ${evaluationText(e)}`,
    ].join('\n'));
    // as convert's --json report: an SNR of Infinity (int8 equal to float) is written as null
    if (values.json) await writeFile(values.json, JSON.stringify({ model: positionals[0], ...e }, null, 2));
    return 0;
  } finally {
    x?.dispose();
    float?.dispose();
    model.dispose();
  }
};
