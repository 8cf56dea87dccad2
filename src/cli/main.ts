// The edgeq command line. `main` takes argv and writable streams and returns the exit
// code, so tests run it in-process; src/cli/edgeq.ts is the executable.
//
// Exit codes: 0 success, 1 the model or input was rejected (the message says why),
// 2 the command line was wrong.

import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EdgeqError, InputError } from '../errors.js';
import { loadModelFile, type LayerInfo, type Model } from '../node.js';
import { EDGEQ_VERSION } from '../version.js';
import { decodeImage, fitImage } from './image.js';

// progress: raw writes (no newline added) for progress bars; tty: redraw in place
export interface Io { out: (s: string) => void; err: (s: string) => void; progress?: (s: string) => void; tty?: boolean }

const HELP = `edgeq ${EDGEQ_VERSION}: run compressed int8 neural networks on CPU-only devices

usage: edgeq <command> [options]

commands:
  demo                           the shipped models on their test images (npm start)
  train --arch cnn|lstm --out <dir> [--data mnist|fashion-mnist]
                                 train a reference model with TF.js on WebGPU
  convert <model.json> --out <model.edgeq> --calibration <dataset>
                                 prune, quantize and encode a TF.js / Keras model
  inspect <model.edgeq>          layers, shapes, quantization, sparsity, sizes, arena
  serve <model.edgeq …>          an offline HTTP inference server for gateways
  run <model.edgeq> <input>      classify one input and print the top classes

options:
  -h, --help                     help (also: edgeq <command> --help)
  -v, --version                  print the version

Exit codes: 0 success, 1 the model or input was rejected, 2 a usage error.`;

const INSPECT_HELP = `usage: edgeq inspect <model.edgeq> [--json]

Validates the model as the engine loads it and prints its name, source, input and
output, every layer (output shape, activation quantization, weight encoding and
sparsity, multiply-accumulates), how the engine runs it (conv2d on the sparse kernel,
conv2d + max pool fused), and the sizes: file, packed weights, activation arena.

options:
  --json        print the same as JSON
  -h, --help    this help`;

const RUN_HELP = `usage: edgeq run <model.edgeq> <input> [--top K] [--invert] [--repeat N] [--build simd|scalar] [--json]

Classifies one input and prints the top K classes with their scores and the latency.

<input> is one of:
  image.png, image.pgm   resized to the model's input and converted to its channels
                         (grey models: luminance; [steps, features] models: rows)
  input.bin              raw: one byte per value (pixels), or little-endian float32
  input.json             an array of numbers (nested arrays are flattened)
Values are in the model's input units (pixels 0–255 for image models).

options:
  --top K              how many classes to print (default 3)
  --invert             invert image pixels (255 − v): dark-on-light images for
                       light-on-dark models such as MNIST
  --repeat N           run N times and report the median latency (default 1)
  --build simd|scalar  force an engine build (default: SIMD where supported)
  --json               print the result as JSON
  -h, --help           this help`;

class UsageError extends Error {}

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true } as const);
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/, ''));
  }
}

const kb = (n: number) => (n >= 1024 * 1024 ? `${(n / 1048576).toFixed(2)} MB` : `${(n / 1024).toFixed(1)} KB`);
const shape = (s: readonly number[]) => `[${s.join('×')}]`;

export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') { io.out(HELP); return command === undefined ? 2 : 0; }
    if (command === '-v' || command === '--version') { io.out(EDGEQ_VERSION); return 0; }
    if (command === 'demo') { const { runDemo } = await import('./demo.js'); await runDemo(io.out); return 0; }
    if (command === 'train') return await train(rest, io);
    if (command === 'convert') return await convert(rest, io);
    if (command === 'inspect') return await inspect(rest, io);
    if (command === 'serve') return await serve(rest, io);
    if (command === 'run') return await run(rest, io);
    throw new UsageError(`unknown command '${command}'`);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`edgeq: ${e.message}\nrun 'edgeq --help' for usage`);
      return 2;
    }
    if (e instanceof EdgeqError) {
      io.err(`edgeq: ${e.message}`);
      return 1;
    }
    io.err(`edgeq: unexpected error: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}

async function train(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    arch: { type: 'string' }, data: { type: 'string' }, 'data-dir': { type: 'string' }, epochs: { type: 'string' },
    batch: { type: 'string' }, lr: { type: 'string' }, subset: { type: 'string' }, backend: { type: 'string' },
    seed: { type: 'string' }, out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' },
  });
  const { TRAIN_HELP, ARCHS, runTrain } = await import('./train.js');
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
}

async function convert(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    out: { type: 'string', short: 'o' }, calibration: { type: 'string' }, 'calibration-size': { type: 'string' },
    'calibration-method': { type: 'string' }, eval: { type: 'string' }, 'eval-size': { type: 'string' },
    sparsity: { type: 'string' }, prune: { type: 'string' }, 'no-protect': { type: 'boolean' },
    'fine-tune': { type: 'string' }, 'fine-tune-size': { type: 'string' }, 'input-range': { type: 'string' },
    encoding: { type: 'string' }, name: { type: 'string' }, labels: { type: 'string' }, 'data-dir': { type: 'string' },
    json: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  const { CONVERT_HELP, INPUT_RANGES, runConvert } = await import('./convert.js');
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
}

const SERVE_HELP = `usage: edgeq serve <model.edgeq> [more.edgeq …] [--port 8080] [--host 127.0.0.1] [options]

An offline HTTP inference server (node:http only). Each model is served under its file
name without .edgeq:
  POST /v1/models/<name>:predict   {"instances": [[…], …]} (values in the model's input
                                   units) or raw pixels as application/octet-stream
                                   → {"predictions": [[…]], "top": [[{index, label, score}]]}
  GET  /health                     {"status": "ok", "models": [...]}
  GET  /metrics                    requests, errors, latency percentiles, batches, memory
Concurrent requests to a model are batched into one engine call. SIGTERM or SIGINT
stops accepting, finishes requests in flight, and exits 0.

options:
  --port N              default 8080 (0: any free port)
  --host H              default 127.0.0.1 (0.0.0.0 to serve the network)
  --max-batch N         items per engine call, default 64
  --batch-wait-ms N     how long a request waits for others, default 2
  --max-body BYTES      request size limit, default 4194304
  -h, --help            this help`;

async function serve(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    port: { type: 'string' }, host: { type: 'string' }, 'max-batch': { type: 'string' }, 'batch-wait-ms': { type: 'string' },
    'max-body': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { io.out(SERVE_HELP); return 0; }
  if (positionals.length === 0) throw new UsageError('serve takes at least one model file');
  const num = (name: string, v: string | undefined, dflt: number, min: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} takes an integer ≥ ${min}, got '${v}'`);
    return n;
  };
  const options = {
    port: num('port', values.port, 8080, 0), host: values.host ?? '127.0.0.1', maxBatch: num('max-batch', values['max-batch'], 64, 1),
    batchWaitMs: num('batch-wait-ms', values['batch-wait-ms'], 2, 0), maxBodyBytes: num('max-body', values['max-body'], 4 << 20, 1),
  };
  const { InferenceServer } = await import('../serve/server.js');
  const models = new Map<string, import('../model.js').Model>();
  for (const file of positionals) {
    const name = file.replace(/^.*[/\\]/, '').replace(/\.edgeq$/, '');
    if (models.has(name)) throw new UsageError(`two models are named '${name}'`);
    models.set(name, await loadModelFile(file));
  }
  const server = new InferenceServer(models, options);
  const address = await server.listen();
  io.out(`edgeq serve: ${[...models.keys()].join(', ')} on http://${address.address}:${address.port} (POST /v1/models/<name>:predict, GET /health, GET /metrics)`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      io.out(`${signal}: finishing requests in flight, then exiting`);
      void server.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  for (const m of models.values()) m.dispose();
  return 0;
}

async function inspect(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) { io.out(INSPECT_HELP); return 0; }
  if (positionals.length !== 1) throw new UsageError(`inspect takes one model file, got ${positionals.length}`);
  const model = await loadModelFile(positionals[0]);
  try {
    const layers = model.layers();
    const fileWeightBytes = layers.flatMap((l) => l.weights ?? []).reduce((a, w) => a + w.fileBytes, 0);
    if (values.json) {
      io.out(JSON.stringify({ file: positionals[0], metadata: model.metadata, inputShape: model.inputShape, outputShape: model.outputShape, info: { ...model.info, fileWeightBytes }, layers }, null, 2));
      return 0;
    }
    const meta = model.metadata as { source?: { format?: string; file?: string }; converter?: { name?: string; version?: string }; description?: string };
    const lines = [
      `model      ${model.name || '(unnamed)'}${meta.description ? ` — ${meta.description}` : ''}`,
      `file       ${positionals[0]}, ${kb(model.info.fileBytes)} (${model.info.fileBytes} bytes)`,
    ];
    if (meta.source) lines.push(`source     ${[meta.source.format, meta.source.file].filter(Boolean).join(', ')}`);
    if (meta.converter) lines.push(`converter  ${meta.converter.name ?? ''} ${meta.converter.version ?? ''}`);
    const l0 = layers[0];
    const norm = model.info.inputNormalization;
    lines.push(`input      ${shape(model.inputShape)} int8, scale ${fmt(l0.input.scale)}, zero point ${l0.input.zeroPoint}; raw input × ${fmt(norm.mul)} + ${fmt(norm.add)}`);
    const last = layers[layers.length - 1].output;
    lines.push(`output     ${shape(model.outputShape)} ${last.dtype}${model.labels.length ? `, ${model.labels.length} labels: ${model.labels.slice(0, 10).join(', ')}${model.labels.length > 10 ? ', …' : ''}` : ''}`);
    lines.push('', '  #  layer                    output        quantization (scale, zp)  weights                                     MACs');
    for (const l of layers) lines.push(layerLine(l));
    const fused = layers.filter((l) => l.fusedWith !== undefined && l.fusedWith > l.index).map((l) => `#${l.index} + #${l.fusedWith}`);
    if (fused.length) lines.push('', `fused      ${fused.join(', ')} run as one kernel each (conv2d + max pool: the conv output is never stored)`);
    const macs = model.info.macs;
    lines.push('',
      `weights    ${kb(fileWeightBytes)} in the file, ${kb(model.info.weightBytes)} packed in engine memory`,
      `arena      ${kb(model.info.arenaBytes)} of activations and scratch at batch 1`,
      `compute    ${macs.toLocaleString('en-US')} multiply-accumulates per input`);
    io.out(lines.join('\n'));
    return 0;
  } finally {
    model.dispose();
  }
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

function layerLine(l: LayerInfo): string {
  let name = l.type;
  if (l.type === 'conv2d') name += ` ${l.weights![0].shape[1]}×${l.weights![0].shape[2]}/${l.strides![0]}`;
  if (l.window) name += ` ${l.window.join('×')}/${l.strides![0]}`;
  const extra = [l.activation && l.activation !== 'none' ? l.activation : '', l.padding === 'same' ? 'same' : '', l.returnSequences ? 'seq' : '', l.kernel === 'sparse' ? 'sparse' : ''].filter(Boolean).join(',');
  if (extra) name += ` ${extra}`;
  const q = l.output.dtype === 'int8' ? `${fmt(l.output.scale)}, ${l.output.zeroPoint}` : l.output.dtype;
  const w = (l.weights ?? []).filter((x) => x.role !== 'bias').map((x) => {
    const n = x.shape.reduce((a, b) => a * b, 1);
    const sparsity = x.nonZero === null ? '' : ` ${(100 * (1 - x.nonZero / n)).toFixed(1)}% zero`;
    return `${shape(x.shape)} ${x.encoding}${sparsity} ${kb(x.fileBytes)}`;
  }).join('; ');
  return `${String(l.index).padStart(3)}  ${name.padEnd(24)} ${shape(l.output.shape).padEnd(13)} ${q.padEnd(25)} ${w.padEnd(43)} ${l.macs ? l.macs.toLocaleString('en-US') : ''}`.trimEnd();
}

async function readInput(file: string, model: Model, invert: boolean): Promise<{ values: Float32Array | Uint8Array; note: string }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new InputError('E_INPUT_FILE', (e as NodeJS.ErrnoException).code === 'ENOENT' ? `input file not found: ${file}` : `cannot read ${file}: ${(e as Error).message}`);
  }
  const n = model.inputShape.reduce((a, b) => a * b, 1);
  const ext = extname(file).toLowerCase();
  if (ext === '.json') {
    let parsed: unknown;
    try { parsed = JSON.parse(new TextDecoder().decode(bytes)); } catch (e) { throw new InputError('E_INPUT_JSON', `${file} is not valid JSON: ${(e as Error).message}`); }
    const flat = Array.isArray(parsed) ? (parsed as unknown[]).flat(8) : [];
    if (!Array.isArray(parsed) || flat.some((v) => typeof v !== 'number')) throw new InputError('E_INPUT_JSON', `${file} must hold an array of numbers`);
    if (flat.length !== n) throw new InputError('E_INPUT_LENGTH', `${file} has ${flat.length} numbers; the model takes ${shape(model.inputShape)} = ${n}`);
    return { values: Float32Array.from(flat as number[]), note: `${flat.length} values from JSON` };
  }
  if (ext === '.bin' || ext === '.raw') {
    if (bytes.length === n) return { values: bytes, note: `${n} bytes (pixels)` };
    if (bytes.length === 4 * n) return { values: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), note: `${n} float32 values` };
    throw new InputError('E_INPUT_LENGTH', `${file} has ${bytes.length} bytes; the model takes ${n} values: ${n} bytes (pixels) or ${4 * n} bytes (float32)`);
  }
  const img = decodeImage(bytes, file);
  const s = model.inputShape;
  let w: number, h: number, c: 1 | 3;
  if (s.length === 3 && (s[2] === 1 || s[2] === 3)) [h, w, c] = [s[0], s[1], s[2] as 1 | 3];
  else if (s.length === 2) [h, w, c] = [s[0], s[1], 1];
  else throw new InputError('E_INPUT_IMAGE', `the model takes ${shape(s)}, which is not an image: give a .bin or .json input`);
  const pixels = fitImage(img, w, h, c);
  if (invert) for (let i = 0; i < pixels.length; i++) pixels[i] = 255 - pixels[i];
  const resized = img.width !== w || img.height !== h ? `, resized from ${img.width}×${img.height}` : '';
  return { values: pixels, note: `${w}×${h} ${c === 1 ? 'grey' : 'RGB'} image${resized}${invert ? ', inverted' : ''}` };
}

async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    top: { type: 'string' }, invert: { type: 'boolean' }, repeat: { type: 'string' }, build: { type: 'string' },
    json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { io.out(RUN_HELP); return 0; }
  if (positionals.length !== 2) throw new UsageError(`run takes a model file and an input file, got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}`);
  const top = values.top === undefined ? 3 : Number(values.top);
  if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top takes a positive integer, got '${values.top}'`);
  const repeat = values.repeat === undefined ? 1 : Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100000) throw new UsageError(`--repeat takes an integer from 1 to 100000, got '${values.repeat}'`);
  if (values.build !== undefined && values.build !== 'simd' && values.build !== 'scalar') throw new UsageError(`--build takes simd or scalar, got '${values.build}'`);
  const build = values.build as 'simd' | 'scalar' | undefined;
  const [modelFile, inputFile] = positionals;
  const model = await loadModelFile(modelFile, { build });
  try {
    const { values: input, note } = await readInput(inputFile, model, values.invert === true);
    const times: number[] = [];
    let scores: Float32Array = new Float32Array(0);
    for (let i = 0; i < repeat; i++) {
      const t = performance.now();
      scores = model.predict(input);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1];
    const best = Array.from(scores, (score, index) => ({ index, label: model.labels[index] ?? String(index), score }))
      .sort((a, b) => b.score - a.score || a.index - b.index).slice(0, top);
    if (values.json) {
      io.out(JSON.stringify({ model: model.name, input: inputFile, top: best, latencyMs: median, runs: repeat, build: model.info.build }, null, 2));
      return 0;
    }
    const width = Math.max(...best.map((b) => b.label.length), 5);
    io.out([
      `model    ${model.name || modelFile} (${kb(model.info.fileBytes)}, ${model.info.build} build)`,
      `input    ${inputFile}: ${note}`,
      ...best.map((b, i) => `${i === 0 ? `top ${top}`.padEnd(9) : ' '.repeat(9)}${String(b.index).padStart(3)}  ${b.label.padEnd(width)}  ${b.score.toFixed(4)}`),
      `latency  ${median.toFixed(3)} ms${repeat > 1 ? ` (median of ${repeat} runs)` : ' (one run; --repeat N for a median)'}`,
    ].join('\n'));
    return 0;
  } finally {
    model.dispose();
  }
}
