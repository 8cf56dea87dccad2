// `edgeq run`: one input through a model, top classes and latency. A toolchain command:
// it decodes images (PNG, JPEG, PGM), which the runtime does not.

import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { kb, parse, shape, UsageError, type Command } from '../../runtime/cli/args.js';
import { topClasses } from '../../runtime/classes.js';
import { InputError } from '../../runtime/errors.js';
import { flattenInput, itemShapeText, sequenceNote } from '../../runtime/input.js';
import { loadModelFile, type Model } from '../../runtime/node.js';
import { readCsvExamples, readNpyExamples } from '../data/examples.js';
import { decodeImage, fitImage } from '../data/image.js';

const RUN_HELP = `usage: edgeq run <model.edgeq> <input> [--top K] [--invert] [--repeat N] [--build simd|scalar] [--json]

Classifies one input and prints the top K classes with their scores and the latency.

<input> is one of:
  image.png, .jpg, .pgm  pixels: resized to the model's input and converted to its
                         channels (grey models: luminance; [steps, features]: rows),
                         then turned into input values by the model's pixel rule
  input.npy              one example ([...model input] or [1, ...model input])
  input.csv              one row of numbers (the first row; a header is skipped)
  input.json             an array of numbers (nested arrays are flattened)
  input.bin              raw: one byte per value (pixels), or little-endian float32
Numbers (.npy, CSV, JSON, float32) are the values the source model takes, used as
they are. For models that are not classifiers, the outputs are printed.

options:
  --top K              how many classes to print (default 3)
  --invert             invert image pixels (255 − v): dark-on-light images for
                       light-on-dark models such as MNIST
  --repeat N           run N times and report the median latency (default 1)
  --build simd|scalar  force an engine build (default: SIMD where supported)
  --json               print the result as JSON
  -h, --help           this help`;

export async function readInput(file: string, model: Model, invert: boolean): Promise<{ values: Float32Array | Uint8Array; note: string }> {
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
    if (flat.length !== n) {
      // a nested array of another shape: say which axis is off (steps, features)
      try {
        flattenInput(parsed as unknown[], model.inputShape);
      } catch (e) {
        throw e instanceof InputError ? new InputError(e.code, `${file}: ${e.message}`) : e;
      }
      throw new InputError('E_INPUT_LENGTH', `${file} has ${flat.length} numbers; the model takes ${itemShapeText(model.inputShape)} = ${n}${sequenceNote(model.inputShape, flat.length)}`);
    }
    return { values: Float32Array.from(flat as number[]), note: `${flat.length} values from JSON` };
  }
  if (ext === '.npy' || ext === '.csv') {
    const ex = ext === '.npy' ? readNpyExamples(bytes, file, model.inputShape) : readCsvExamples(new TextDecoder().decode(bytes), file, { inputShape: model.inputShape });
    return { values: ex.values!.subarray(0, n), note: `${n} values from ${ext === '.npy' ? '.npy' : 'CSV'}${ex.count > 1 ? ` (the first of ${ex.count} examples)` : ''}` };
  }
  if (ext === '.bin' || ext === '.raw') {
    if (bytes.length === n) return { values: bytes, note: `${n} bytes (pixels)` };
    if (bytes.length === 4 * n) return { values: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), note: `${n} float32 values` };
    throw new InputError('E_INPUT_LENGTH', `${file} has ${bytes.length} bytes; the model takes ${n} values (${itemShapeText(model.inputShape)}): ${n} bytes (pixels) or ${4 * n} bytes (float32)`);
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

export const command: Command = async (args, io) => {
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
    const best = model.isClassifier ? topClasses(scores, model.labels, top) : undefined;
    if (values.json) {
      io.out(JSON.stringify({ model: model.name, input: inputFile, ...(best ? { top: best } : { outputs: Array.from(scores) }), latencyMs: median, runs: repeat, build: model.info.build }, null, 2));
      return 0;
    }
    const width = Math.max(...(best ?? []).map((b) => b.label.length), 5);
    const shown = 16;
    const g = (v: number) => Number(v.toPrecision(5));
    io.out([
      `model    ${model.name || modelFile} (${kb(model.info.fileBytes)}, ${model.info.build} build)`,
      `input    ${inputFile}: ${note}`,
      ...(best
        ? best.map((b, i) => `${i === 0 ? `top ${top}`.padEnd(9) : ' '.repeat(9)}${String(b.index).padStart(3)}  ${b.label.padEnd(width)}  ${b.score.toFixed(4)}`)
        : [`output   [${model.outputShape.join(', ')}]: ${Array.from(scores.subarray(0, shown), g).join(', ')}${scores.length > shown ? `, … (${scores.length} values; --json for all)` : ''}`]),
      `latency  ${median.toFixed(3)} ms${repeat > 1 ? ` (median of ${repeat} runs)` : ' (one run; --repeat N for a median)'}`,
    ].join('\n'));
    return 0;
  } finally {
    model.dispose();
  }
};
