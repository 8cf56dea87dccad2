// The edgeq command line. `main` takes argv and writable streams and returns the exit
// code, so tests run it in-process; src/runtime/cli/edgeq.ts is the executable.
//
// The runtime package runs `inspect` and `serve` itself. The commands that need TF.js,
// datasets or image decoding (demo, train, convert, eval, run, explain, upgrade) live in the toolchain
// (src/toolchain/cli/) and are loaded from there on demand; an install of the runtime
// alone says how to get them.
//
// Exit codes: 0 success, 1 the model or input was rejected (the message says why),
// 2 the command line was wrong.

import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { EdgeqError } from '../errors.js';
import { loadModelFile, type LayerInfo, type Model } from '../node.js';
import { EDGEQ_VERSION } from '../version.js';
import { kb, parse, shape, UsageError, type Command, type Io } from './args.js';

export type { Io };

const HELP = `edgeq ${EDGEQ_VERSION}: run compressed int8 neural networks on CPU-only devices

usage: edgeq <command> [options]

commands:
  demo                           the shipped models on their test images (npm start)
  train --arch cnn|lstm --out <dir> [--data mnist|fashion-mnist]
                                 train a reference model with TF.js on WebGPU
  convert <model.json> --out <model.edgeq> --calibration <data>
                                 prune, quantize and encode a TF.js / Keras model
  eval <model.edgeq> --data <data> [--labels <labels.npy>] [--float <model.json>]
                                 accuracy, agreement and error against float
  upgrade <old.edgeq> --out <new.edgeq>
                                 rewrite a format-1 file as format 2
  inspect <model.edgeq>          layers, shapes, quantization, sparsity, sizes, arena
  serve <model.edgeq …>          an offline HTTP inference server for gateways
  run <model.edgeq> <input>      one input through the model: top classes or outputs
  explain <model.edgeq> <input> [--method occlusion|lime|shap] [--out heat.png] [--json a.json]
                                 which parts of the input the answer depends on

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

// The toolchain's commands, loaded on demand (they pull in TF.js or decoders).
const TOOLCHAIN: Record<string, () => Promise<{ command: Command }>> = {
  demo: () => import('../../toolchain/cli/demo.js'),
  train: () => import('../../toolchain/cli/train.js'),
  convert: () => import('../../toolchain/cli/convert.js'),
  run: () => import('../../toolchain/cli/run.js'),
  explain: () => import('../../toolchain/cli/explain.js'),
  eval: () => import('../../toolchain/cli/eval.js'),
  upgrade: () => import('../../toolchain/cli/upgrade.js'),
};

async function toolchainCommand(name: string): Promise<Command> {
  try {
    return (await TOOLCHAIN[name]()).command;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw e;
    throw new UsageError(`'edgeq ${name}' is part of edgeq's toolchain (converter, trainer, data tools), which the runtime package does not install (${(e as Error).message.split('\n')[0]}). In a clone of the edgeq repository, \`npm ci\` installs it.`);
  }
}

export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') { io.out(HELP); return command === undefined ? 2 : 0; }
    if (command === '-v' || command === '--version') { io.out(EDGEQ_VERSION); return 0; }
    if (command === 'inspect') return await inspect(rest, io);
    if (command === 'serve') return await serve(rest, io);
    if (Object.hasOwn(TOOLCHAIN, command)) return await (await toolchainCommand(command))(rest, io);
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

const SERVE_HELP = `usage: edgeq serve <model.edgeq> [more.edgeq …] [--port 8080] [--host 127.0.0.1] [options]

An offline HTTP inference server (node:http only). Each model is served under its file
name without .edgeq:
  POST /v1/models/<name>:predict   {"instances": [[…], …]} (values in the model's input
                                   units) or raw pixels as application/octet-stream
                                   → {"predictions": [[…]], "top": [[{index, label, score}]]}
  POST /v1/models/<name>:explain   one instance and {"options": {method, target, samples, …}}
                                   → {"attributions": […], "target", "baseScore", …}
  GET  /health                     {"status": "ok", "models": [...]}
  GET  /metrics                    requests, errors, latency percentiles, batches, memory
Concurrent requests to a model are batched into one engine call, run by the first free
of --threads engine instances (worker threads, each with every model). An explanation
runs on one of them too, never the last free one (with one thread, explanations and
batches take turns; 4 per thread may wait). When a model's queue (or the explanations'
queue) is full the server answers 429 with Retry-After instead of letting latency grow;
an engine fault is a 500, input the runtime refuses a 400. SIGTERM or SIGINT stops
accepting, finishes requests in flight, and exits 0.

options:
  --port N              default 8080 (0: any free port)
  --host H              default 127.0.0.1 (0.0.0.0 to serve the network)
  --max-batch N         items per engine call, default 64
  --batch-wait-ms N     how long a request waits for others, default 2
  --max-body BYTES      request size limit, default 4194304
  --threads N           engine threads, default one per core (0: the server's own thread)
  --max-queue N         items a model's queue holds before 429, default 16 × max-batch
  -h, --help            this help`;

async function serve(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    port: { type: 'string' }, host: { type: 'string' }, 'max-batch': { type: 'string' }, 'batch-wait-ms': { type: 'string' },
    'max-body': { type: 'string' }, threads: { type: 'string' }, 'max-queue': { type: 'string' }, help: { type: 'boolean', short: 'h' },
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
    threads: num('threads', values.threads, availableParallelism(), 0), sources: new Map<string, Uint8Array>(),
  };
  const maxQueue = values['max-queue'] === undefined ? undefined : num('max-queue', values['max-queue'], 0, 1);
  const { InferenceServer } = await import('../serve.js');
  const models = new Map<string, import('../model.js').Model>();
  for (const file of positionals) {
    const name = file.replace(/^.*[/\\]/, '').replace(/\.edgeq$/, '');
    if (models.has(name)) throw new UsageError(`two models are named '${name}'`);
    models.set(name, await loadModelFile(file)); // its errors name the file
    options.sources.set(name, await readFile(file));
  }
  const server = new InferenceServer(models, { ...options, ...(maxQueue ? { maxQueue } : {}) });
  const address = await server.listen();
  io.out(`edgeq serve: ${[...models.keys()].join(', ')} on http://${address.address}:${address.port}, ${options.threads ? `${options.threads} engine thread${options.threads > 1 ? 's' : ''}` : 'one thread'} (POST /v1/models/<name>:predict and :explain, GET /health, GET /metrics)`);
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
    lines.push(`format     ${model.info.formatVersion}`);
    lines.push(`input      ${shape(model.inputShape)} int8, scale ${fmt(l0.input.scale)}, zero point ${l0.input.zeroPoint}`);
    lines.push(`pixels     ${pixelRuleText(model.info)}`);
    const last = layers[layers.length - 1].output;
    lines.push(`output     ${shape(model.outputShape)} ${last.dtype}${model.labels.length ? `, ${model.labels.length} labels: ${model.labels.slice(0, 10).join(', ')}${model.labels.length > 10 ? ', …' : ''}` : ''}`);
    lines.push('', '  #  layer                    output        quantization (scale, zp)  weights                                     MACs');
    for (const l of layers) lines.push(layerLine(l));
    const fused = layers.filter((l) => l.fusedWith !== undefined && l.fusedWith > l.index).map((l) => `#${l.index} + #${l.fusedWith}`);
    if (fused.length) lines.push('', `fused      ${fused.join(', ')} run as one kernel each (conv2d + max pool: the conv output is never stored)`);
    const macs = model.info.macs;
    lines.push('',
      `weights    ${kb(fileWeightBytes)} in the file, ${kb(model.info.weightBytes)} packed in engine memory`,
      `arena      ${kb(model.info.arenaBytes)} at batch 1: activations ${kb(model.info.arenaBytes - model.info.scratchBytes)} as planned (greedy by size over lifetimes; those alive at once need ${kb(model.info.arenaLivePeak)}), scratch ${kb(model.info.scratchBytes)}`,
      `compute    ${macs.toLocaleString('en-US')} multiply-accumulates per input`);
    io.out(lines.join('\n'));
    return 0;
  } finally {
    model.dispose();
  }
}

// How the model takes pixel inputs, in words.
function pixelRuleText(info: Model['info']): string {
  const rule = info.pixelRule;
  if (!rule) return 'none: the model takes the float values its source takes (pixel inputs are refused)';
  const list = (v: number[]) => (v.length === 1 ? fmt(v[0]) : `[${v.map(fmt).join(', ')}]`);
  const text = `pixel × ${list(rule.mul)} + ${list(rule.add)}${rule.mul.length > 1 ? ' per channel' : ''}`;
  return info.floatInputsScaled ? `${text}; format 1: float inputs are scaled by it too (re-convert for float inputs in the source's units)` : text;
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

function layerLine(l: LayerInfo): string {
  let name = l.type;
  if (l.type === 'conv2d') name += ` ${l.weights![0].shape[1]}×${l.weights![0].shape[2]}/${l.strides![0]}`;
  if (l.type === 'conv1d') name += ` ${l.weights![0].shape[1]}/${l.strides![0]}${l.dilation! > 1 ? ` d${l.dilation}` : ''}`;
  if (l.window) name += ` ${l.window.join('×')}/${l.strides![0]}`;
  const extra = [l.activation && l.activation !== 'none' ? l.activation : '', l.padding && l.padding !== 'valid' ? l.padding : '', l.returnSequences ? 'seq' : '', l.direction && l.direction !== 'forward' ? l.direction : '', l.resetAfter ? 'reset_after' : '', l.average ? 'average' : '', l.kernel === 'sparse' ? 'sparse' : ''].filter(Boolean).join(',');
  if (extra) name += ` ${extra}`;
  const q = l.output.dtype === 'int8' ? `${fmt(l.output.scale)}, ${l.output.zeroPoint}` : l.output.dtype;
  const w = (l.weights ?? []).filter((x) => x.role !== 'bias').map((x) => {
    const n = x.shape.reduce((a, b) => a * b, 1);
    const sparsity = x.nonZero === null ? '' : ` ${(100 * (1 - x.nonZero / n)).toFixed(1)}% zero`;
    return `${shape(x.shape)} ${x.encoding}${sparsity} ${kb(x.fileBytes)}`;
  }).join('; ');
  return `${String(l.index).padStart(3)}  ${name.padEnd(24)} ${shape(l.output.shape).padEnd(13)} ${q.padEnd(25)} ${w.padEnd(43)} ${l.macs ? l.macs.toLocaleString('en-US') : ''}`.trimEnd();
}
