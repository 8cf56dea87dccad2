// A user's examples, from wherever they are: a .npy array, a CSV file, a folder of
// images (one subfolder per class), or a dataset by name. What the converter's
// calibration, evaluation and fine-tuning and `edgeq eval` read.
//
// Values from .npy and CSV are in the source model's own input units, used as they
// are. Images and datasets are pixels (0–255): the model's pixel rule turns them into
// input values.

import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DataError } from '../../runtime/errors.js';
import { parseCsv } from './csv.js';
import { DATASETS, isDataset, loadDataset } from './datasets.js';
import { decodeImage, fitImage } from './image.js';
import { parseNpy } from './npy.js';

export interface Examples {
  source: string;
  count: number;
  shape: number[]; // one example
  values?: Float32Array; // count × shape, in the model's input units (.npy, CSV)
  pixels?: Uint8Array; // count × shape, 0–255 (images, datasets)
  labels?: Int32Array;
  classes?: string[]; // label index → name, where the source names them
}

export interface ExampleOptions {
  inputShape: readonly number[]; // one example, as the model takes it
  split?: 'train' | 'test'; // for datasets by name (default train)
  labels?: string; // a .npy of integer labels, one per example
  labelColumn?: string; // CSV: the label column's name (or number, from 0)
  dataDir?: string; // where fashion-mnist's files are
  limit?: number; // at most this many examples, from the start
}

const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.pgm'];
const product = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError('E_DATA_FILE', code === 'ENOENT' ? `${file} not found` : `cannot read ${file}: ${(e as Error).message}`);
  }
}

export async function readExamples(spec: string, o: ExampleOptions): Promise<Examples> {
  let ex: Examples;
  if (isDataset(spec)) {
    const d = await loadDataset(spec, o.split ?? 'train', { dir: o.dataDir });
    if (product(o.inputShape) !== d.height * d.width) {
      throw new DataError('E_DATA_SHAPE', `${spec} has ${d.height}×${d.width} grey images; the model takes ${shapeText(o.inputShape)}: give your own data (.npy, CSV or a folder of images)`);
    }
    ex = { source: spec, count: d.count, shape: [...o.inputShape], pixels: d.images, labels: Int32Array.from(d.labels), classes: d.classes };
  } else {
    const info = await stat(spec).catch(() => undefined);
    if (!info) throw new DataError('E_DATA_FILE', `${spec} not found: give a .npy or .csv file, a folder of images, or one of ${DATASETS.join(', ')}`);
    const ext = extname(spec).toLowerCase();
    if (info.isDirectory()) ex = await readImageFolder(spec, o.inputShape);
    else if (ext === '.npy') ex = readNpyExamples(await readBytes(spec), spec, o.inputShape);
    else if (ext === '.csv') ex = readCsvExamples(new TextDecoder().decode(await readBytes(spec)), spec, o);
    else throw new DataError('E_DATA_KIND', `${spec}: cannot tell what it holds from '${ext || 'no extension'}': give a .npy or .csv file, a folder of images, or one of ${DATASETS.join(', ')}`);
  }
  if (o.labels !== undefined) ex.labels = readLabels(await readBytes(o.labels), o.labels, ex);
  return o.limit !== undefined && o.limit < ex.count ? take(ex, o.limit) : ex;
}

// [N, ...inputShape], or one example of inputShape.
export function readNpyExamples(bytes: Uint8Array, file: string, inputShape: readonly number[]): Examples {
  const a = parseNpy(bytes, file);
  const one = a.shape.length === inputShape.length && a.shape.every((d, i) => d === inputShape[i]);
  const many = a.shape.length === inputShape.length + 1 && a.shape.slice(1).every((d, i) => d === inputShape[i]);
  if (!one && !many) {
    throw new DataError('E_DATA_SHAPE', `${file} has shape ${shapeText(a.shape)}; the model takes ${shapeText(inputShape)} per example, so the file must be [N, ${inputShape.join(', ')}]`);
  }
  const count = one ? 1 : a.shape[0];
  if (count === 0) throw new DataError('E_DATA_EMPTY', `${file} holds no examples`);
  const values = Float32Array.from(a.data);
  checkFinite(values, file, product(inputShape));
  return { source: file, count, shape: [...inputShape], values };
}

export function readCsvExamples(text: string, file: string, o: Pick<ExampleOptions, 'inputShape' | 'labelColumn'>): Examples {
  const c = parseCsv(text, file, { labelColumn: o.labelColumn });
  if (c.width !== product(o.inputShape)) {
    throw new DataError('E_DATA_SHAPE', `${file} has ${c.width} value columns${o.labelColumn === undefined ? '' : ' besides the label'}; the model takes ${shapeText(o.inputShape)} = ${product(o.inputShape)} values per example${o.labelColumn === undefined ? ' (is one column a label? --label-column NAME)' : ''}`);
  }
  return { source: file, count: c.count, shape: [...o.inputShape], values: c.values, labels: c.labels, classes: c.classes };
}

// One subfolder per class (sorted names are the classes), or images directly in the
// folder (unlabelled). Each image is resized to the model's height × width and
// converted to its channels.
export async function readImageFolder(dir: string, inputShape: readonly number[]): Promise<Examples> {
  const [h, w, c] = inputShape.length === 3 ? inputShape : inputShape.length === 2 ? [...inputShape, 1] : [0, 0, 0];
  if (!h || (c !== 1 && c !== 3)) throw new DataError('E_DATA_SHAPE', `${dir} is a folder of images; the model takes ${shapeText(inputShape)}, which is not an image (height × width × 1 or 3): give .npy or CSV data`);
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  const isImage = (name: string) => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
  const classes = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const files: { path: string; label: number }[] = entries.filter((e) => e.isFile() && isImage(e.name)).map((e) => ({ path: join(dir, e.name), label: -1 }));
  if (files.length && classes.length) throw new DataError('E_DATA_FOLDER', `${dir} has both images and subfolders: put every image in its class's subfolder`);
  for (const [label, name] of classes.entries()) {
    const inner = (await readdir(join(dir, name), { withFileTypes: true })).filter((e) => e.isFile() && isImage(e.name)).map((e) => e.name).sort();
    for (const f of inner) files.push({ path: join(dir, name, f), label });
  }
  if (files.length === 0) throw new DataError('E_DATA_EMPTY', `${dir} has no images (${IMAGE_EXTENSIONS.join(', ')}), directly or in class subfolders`);
  const per = h * w * c;
  const pixels = new Uint8Array(files.length * per);
  for (const [i, f] of files.entries()) pixels.set(fitImage(decodeImage(await readBytes(f.path), f.path), w, h, c as 1 | 3), i * per);
  const ex: Examples = { source: dir, count: files.length, shape: [...inputShape], pixels };
  if (classes.length) { ex.labels = Int32Array.from(files, (f) => f.label); ex.classes = classes; }
  return ex;
}

// A .npy of integer class indices: [N] or [N, 1].
function readLabels(bytes: Uint8Array, file: string, ex: Examples): Int32Array {
  const a = parseNpy(bytes, file);
  if (!(a.shape.length === 1 || (a.shape.length === 2 && a.shape[1] === 1))) throw new DataError('E_LABELS', `${file} has shape ${shapeText(a.shape)}: labels are one integer per example, [N] or [N, 1]`);
  if (a.shape[0] !== ex.count) throw new DataError('E_LABELS', `${file} has ${a.shape[0]} labels for ${ex.count} examples in ${ex.source}`);
  const labels = new Int32Array(ex.count);
  for (let i = 0; i < ex.count; i++) {
    const v = a.data[i];
    if (!Number.isInteger(v) || v < 0) throw new DataError('E_LABELS', `${file}: label ${i} is ${v}; labels are class indices 0, 1, 2, …`);
    labels[i] = v;
  }
  return labels;
}

function checkFinite(values: Float32Array, file: string, per: number): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new DataError('E_DATA_VALUE', `${file}: example ${Math.floor(i / per)}, value ${i % per} is ${values[i]}: every value must be finite`);
  }
}

export function take(ex: Examples, n: number): Examples {
  const per = product(ex.shape);
  return {
    ...ex, count: n, values: ex.values?.slice(0, n * per), pixels: ex.pixels?.slice(0, n * per), labels: ex.labels?.slice(0, n),
  };
}
