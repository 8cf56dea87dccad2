// The public runtime API: load a model from bytes, predict, classify, dispose.
// No Node or npm dependency; hosts supply the engine (bytes, a compiled
// WebAssembly.Module — required on Cloudflare Workers — or a loader).

import * as F from '../../assembly/format.js';
import type { EngineExports } from './engine.js';
import { topClasses, type Classification } from './classes.js';
import { ALPHA_ACTIVATIONS, DTYPE, ENCODING, FLOAT_ACTIVATION, type Dtype, type Encoding, FUSED_ACTIVATION, nameOf, OP, OPS, PADDING, RNN_DIRECTION, type FloatActivation, type OpSpec, type RnnDirection } from './codes.js';
import { relaxedSimdSupported, simdSupported } from './engine.js';
import { flattenInput, sequenceNote } from './input.js';
import {
  DisposedError, EdgeqError, EngineError, InputError, ModelFormatError, UnsupportedOpError, UnsupportedVersionError,
} from './errors.js';

export type EngineBuildName = 'simd' | 'scalar' | 'relaxed';
// Where the engine .wasm comes from: its bytes, a compiled module, or a function
// returning either for the build edgeq chose.
export type EngineSource =
  | BufferSource | WebAssembly.Module
  | ((build: EngineBuildName) => Promise<BufferSource | WebAssembly.Module> | BufferSource | WebAssembly.Module);

export interface LoadOptions {
  engine?: EngineSource;
  // 'auto' (default): SIMD where this JavaScript engine validates it, else scalar.
  // 'relaxed' (opt-in): the relaxed-SIMD engine, the same results bit for bit; refused
  // where WebAssembly.validate refuses relaxed SIMD. 'auto' does not choose it: no
  // platform measured here runs it faster (x86 V8 lowers its dot to three instructions).
  build?: EngineBuildName | 'auto';
}

export interface TensorInfo {
  shape: number[];
  dtype: Dtype;
  scale: number; // activations and per-tensor constants
  zeroPoint: number;
}

export interface LayerInfo {
  index: number;
  type: string;
  input: TensorInfo;
  input2?: TensorInfo; // add, multiply, concatenate: the second input
  output: TensorInfo;
  activation?: string;
  padding?: 'valid' | 'same' | 'causal';
  strides?: number[];
  dilation?: number; // conv1d
  window?: number[];
  depthMultiplier?: number; // depthwise conv2d: output channels per input channel
  alpha?: number; // activation: leaky ReLU's slope, ELU's scale
  factors?: number[]; // upsample2d: height and width factors
  pads?: number[]; // pad2d: top, bottom, left, right
  returnSequences?: boolean; // lstm, gru
  recurrentActivation?: string;
  direction?: RnnDirection; // lstm, gru: the step order (go_backwards, Bidirectional)
  resetAfter?: boolean; // gru
  average?: boolean; // add: (x + x2) / 2
  weights?: WeightInfo[];
  macs: number; // per batch item
  packedBytes: number;
  fusedWith?: number; // the op this one runs as one kernel with (conv2d + max pool)
  kernel?: 'gemm' | 'sparse'; // conv2d: im2col + gemm, or the kernel that skips zero weights
}

export interface WeightInfo {
  role: 'weights' | 'bias' | 'recurrent';
  shape: number[];
  dtype: Dtype;
  encoding: Encoding;
  fileBytes: number;
  nonZero: number | null; // int8 only
  scales: number; // per-channel scale count (0: none)
}

export type { Classification };

export interface ModelInfo {
  build: EngineBuildName;
  fileBytes: number;
  weightBytes: number; // packed weights in engine memory
  arenaBytes: number; // activations + scratch at batch 1
  scratchBytes: number; // the kernels' scratch at batch 1, part of arenaBytes
  arenaLivePeak: number; // the most activation bytes alive at once at batch 1 (a lower bound on any plan)
  macs: number; // per batch item
  formatVersion: number;
  // How pixel inputs (Uint8Array, Uint8ClampedArray, ImageData) become the model's
  // input values: pixel × mul[c] + add[c], c the channel (one entry: every channel).
  // null: the model takes float inputs only. Float inputs are the source model's own
  // values, used as they are — except in format-1 files, which apply this rule to
  // float inputs too (floatInputsScaled).
  pixelRule: { mul: number[]; add: number[] } | null;
  floatInputsScaled: boolean;
}

export type ImageDataLike = { data: Uint8ClampedArray; width: number; height: number };



// ---- engine instances: compiled once per build, instances pooled --------------------

// An idle instance keeps the model it last held (its file's bytes at `at`, `length`
// long; length 0: none), so that loading the same bytes again takes it as it is.
interface Idle { e: EngineExports; at: number; length: number }
interface Pool { module: WebAssembly.Module; idle: Idle[] }
const pools = new Map<unknown, Promise<Pool>>();
const MAX_IDLE = 4;

let defaultSource: EngineSource | undefined;
// Entry points (Node, browser bundle) call this once with where their engine files are.
export function setDefaultEngine(source: EngineSource): void {
  defaultSource = source;
}

async function poolFor(source: EngineSource, build: EngineBuildName): Promise<Pool> {
  const key = typeof source === 'function' ? `${build}:${String(source)}` : source;
  let p = pools.get(key);
  if (!p) {
    p = (async () => {
      let s: BufferSource | WebAssembly.Module;
      try {
        s = typeof source === 'function' ? await source(build) : source;
      } catch (e) {
        if (e instanceof EdgeqError) throw e; // a loader that says why (edgeq.inline.js: no relaxed build)
        throw new EngineError('E_ENGINE_MISSING', `cannot get the ${build} engine: ${(e as Error).message}`);
      }
      try {
        const module = s instanceof WebAssembly.Module ? s : await WebAssembly.compile(s);
        return { module, idle: [] };
      } catch (e) {
        throw new EngineError('E_ENGINE_COMPILE', `the ${build} engine does not compile here: ${(e as Error).message}`);
      }
    })();
    pools.set(key, p);
    p.catch(() => pools.delete(key));
  }
  return p;
}

async function acquire(pool: Pool): Promise<EngineExports> {
  const idle = pool.idle.pop();
  if (idle) return idle.e;
  try {
    const instance = await instantiate(pool.module);
    return instance.exports as unknown as EngineExports;
  } catch (err) {
    throw new EngineError('E_ENGINE_INSTANTIATE', `cannot start the engine: ${(err as Error).message}`);
  }
}

// The synchronous constructor where the host allows it: in a fresh Node process the
// promise of WebAssembly.instantiate settled 0.8 ms after the instance was made
// (bench/cold.ts). Chromium refuses it on a page's main thread for modules over 4 KB;
// any refusal falls back to the promise, whose error is the one reported.
function instantiate(module: WebAssembly.Module): WebAssembly.Instance | Promise<WebAssembly.Instance> {
  try {
    return new WebAssembly.Instance(module, {});
  } catch {
    return WebAssembly.instantiate(module, {});
  }
}

function release(pool: Pool, e: EngineExports, at = 0, length = 0): void {
  if (pool.idle.length < MAX_IDLE) pool.idle.push({ e, at, length });
}

// An idle instance that holds a model loaded from exactly these bytes (compared with
// the copy in its memory, which the engine never changes), taken from the pool: the
// model is then ready without validating and packing it again.
function takeLoaded(pool: Pool, bytes: Uint8Array): Idle | null {
  for (let i = pool.idle.length - 1; i >= 0; i--) {
    const idle = pool.idle[i];
    if (idle.length === 0 || idle.length !== bytes.length || !sameBytes(new Uint8Array(idle.e.memory.buffer, idle.at, idle.length), bytes)) continue;
    pool.idle.splice(i, 1);
    return idle;
  }
  return null;
}

function sameBytes(held: Uint8Array, bytes: Uint8Array): boolean {
  let i = 0;
  // four bytes a step where both are aligned (the engine's copy always is)
  if (bytes.byteOffset % 4 === 0) {
    const a = new Int32Array(held.buffer, held.byteOffset, held.length >> 2), b = new Int32Array(bytes.buffer, bytes.byteOffset, held.length >> 2);
    for (; i < a.length; i++) if (a[i] !== b[i]) return false;
    i <<= 2;
  }
  for (; i < held.length; i++) if (held[i] !== bytes[i]) return false;
  return true;
}

// ---- status codes → typed errors ---------------------------------------------------

const REASONS: Record<number, string> = {
  [F.R_FIELD]: 'a field has a value outside its allowed set',
  [F.R_RANGE]: 'an offset or size points outside its section',
  [F.R_ALIGN]: 'an offset is not aligned',
  [F.R_SHAPE]: 'shapes are inconsistent',
  [F.R_QUANT]: 'a scale or zero point is invalid',
  [F.R_ENCODING]: 'encoded weight data is inconsistent',
  [F.R_TENSOR_REF]: 'it refers to a missing tensor or one of the wrong kind',
  [F.R_ORDER]: 'a tensor is used before it is produced, or produced twice',
  [F.R_PARAM]: 'an op parameter is invalid',
  [F.R_LIMIT]: 'a size limit is exceeded',
};

function isImageData(x: unknown): x is ImageDataLike {
  const d = x as ImageDataLike;
  return typeof d === 'object' && d !== null && !ArrayBuffer.isView(x) && d.data instanceof Uint8ClampedArray && d.data.length === d.width * d.height * 4;
}

function pixelRuleOf(e: EngineExports): ModelInfo['pixelRule'] {
  const c = e.model_pixel_channels();
  if (c === 0) return null;
  const row = (which: number) => Array.from({ length: c }, (_, i) => e.model_pixel_rule(i, which));
  return { mul: row(0), add: row(1) };
}

function loadError(status: number, e: EngineExports, bytes: Uint8Array): EdgeqError {
  const index = e.model_error_index();
  const reason = REASONS[e.model_error_reason()] ?? 'unknown reason';
  const fix = 're-convert the model with `edgeq convert`, or check that the file was copied completely';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (status) {
    case F.E_TRUNCATED: {
      const want = bytes.length >= F.H_FILE_SIZE + 4 ? view.getUint32(F.H_FILE_SIZE, true) : F.HEADER_SIZE;
      return new ModelFormatError('E_TRUNCATED', `model file is truncated: it has ${bytes.length} bytes, its header says ${want}; ${fix}`);
    }
    case F.E_MAGIC: {
      const got = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
      return new ModelFormatError('E_MAGIC', `not an .edgeq model: it starts with bytes ${got}, an .edgeq file starts with 45 44 47 51 ("EDGQ")`);
    }
    case F.E_VERSION:
      return new UnsupportedVersionError('E_VERSION', `model format version ${view.getUint32(F.H_VERSION, true)} is not supported: this edgeq reads versions 1 and 2; upgrade edgeq or re-convert the model with this version`);
    case F.E_CHECKSUM:
      return new ModelFormatError('E_CHECKSUM', `model file is corrupted: its checksum does not match its contents; ${fix}`);
    case F.E_HEADER:
      return new ModelFormatError('E_HEADER', `model header is invalid: ${reason}; ${fix}`);
    case F.E_TENSOR:
      return new ModelFormatError('E_TENSOR', `model tensor ${index} is invalid: ${reason}; ${fix}`);
    case F.E_OP:
      return new ModelFormatError('E_OP', `model layer ${index} is invalid: ${reason}; ${fix}`);
    case F.E_UNSUPPORTED_OP: {
      const record = view.getUint32(F.H_OPS_OFFSET, true) + index * F.OP_RECORD_SIZE;
      const type = record + F.O_TYPE + 4 <= bytes.length ? view.getInt32(record + F.O_TYPE, true) : -1;
      return new UnsupportedOpError('E_UNSUPPORTED_OP', `model layer ${index} has op type ${type}, which this engine does not run (supported: ${Object.keys(OP).join(', ')}); upgrade edgeq or convert without that layer`);
    }
    case F.E_GRAPH:
      return new ModelFormatError('E_GRAPH', `model graph is invalid${index >= 0 ? ` at tensor/layer ${index}` : ''}: ${reason}; ${fix}`);
    case F.E_MEMORY:
      return new EngineError('E_MEMORY', 'not enough memory to load the model: free other models or use a device with more memory');
    default:
      return new EngineError('E_ENGINE', `engine returned status ${status}`);
  }
}

// ---- the model -----------------------------------------------------------------------

export class Model {
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly labels: readonly string[];
  // A classifier outputs one score per class: a vector of at least two values that
  // ends in softmax or has a label per value. Regressors, autoencoders and
  // image-to-image models are not (their outputs are values, not classes).
  readonly isClassifier: boolean;
  private e: EngineExports | null;
  private readonly inputLength: number;
  private readonly outputLength: number;
  private readonly takesPixels: boolean;
  private infoCache: Readonly<ModelInfo> | null = null;
  private faulted = false;

  /** @internal use loadModel */
  constructor(private readonly pool: Pool, e: EngineExports, private readonly build: EngineBuildName, private readonly fileBytes: number, private readonly fileAt: number) {
    this.e = e;
    const inT = e.model_input_tensor(), outT = e.model_output_tensor();
    this.inputShape = Object.freeze(shapeOf(e, inT));
    this.outputShape = Object.freeze(shapeOf(e, outT));
    this.inputLength = e.model_tensor_info(inT, 12);
    this.outputLength = e.model_tensor_info(outT, 12);
    let meta: Record<string, unknown> = {};
    try {
      const raw = new Uint8Array(e.memory.buffer, e.model_metadata_ptr(), e.model_metadata_size());
      const parsed: unknown = JSON.parse(metadataText(raw));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) meta = parsed as Record<string, unknown>;
      else throw new Error('not an object');
    } catch (err) {
      throw new ModelFormatError('E_METADATA', `model metadata is not a JSON object (${(err as Error).message}); re-convert the model`);
    }
    this.metadata = Object.freeze(meta);
    const labels = Array.isArray(meta.labels) ? meta.labels.map(String) : [];
    this.labels = Object.freeze(labels);
    const vector = this.outputShape.length === 1 && this.outputShape[0] >= 2;
    this.isClassifier = vector && (labels.length === this.outputShape[0] || e.model_op_info(e.model_op_count() - 1, 0) === F.OP_SOFTMAX);
    this.takesPixels = e.model_pixel_channels() !== 0;
  }

  // Sizes, MACs, the pixel rule: computed on first use, not at load (in a fresh process
  // each engine export compiles on its first call; at load they were a twentieth of the
  // pruned CNN's bytes → first result), and kept when the model is disposed.
  get info(): Readonly<ModelInfo> {
    if (this.infoCache) return this.infoCache;
    const e = this.engine();
    let macs = 0;
    for (let o = 0; o < e.model_op_count(); o++) macs += e.model_op_info(o, 13) >>> 0;
    this.infoCache = Object.freeze({
      build: this.build, fileBytes: this.fileBytes, macs,
      weightBytes: e.model_weight_bytes(),
      arenaBytes: e.model_arena_bytes(),
      scratchBytes: e.model_scratch_bytes(),
      arenaLivePeak: e.model_arena_live_peak(),
      formatVersion: e.model_format_version(),
      pixelRule: pixelRuleOf(e),
      floatInputsScaled: e.model_format_version() === 1,
    });
    return this.infoCache;
  }

  get name(): string {
    return typeof this.metadata.name === 'string' ? this.metadata.name : '';
  }

  private engine(): EngineExports {
    if (!this.e) throw new DisposedError('E_DISPOSED', 'this model was disposed: load it again with loadModel()');
    return this.e;
  }

  // input: `batch` items one after another, NHWC. Any array of numbers (Float32Array,
  // number[], …) holds the source model's own input values, used as they are; so does a
  // nested array of the model's shape ([steps][features], [batch][steps][features], …).
  // Uint8Array, Uint8ClampedArray and ImageData are pixels (0–255), which the model's
  // pixel rule turns into input values; a model without one refuses them.
  predict(input: ArrayLike<number> | ImageDataLike, options: { batch?: number } = {}): Float32Array {
    const e = this.engine();
    if (isImageData(input)) input = this.imageDataPixels(input, options.batch ?? 1);
    const batch = options.batch ?? 1;
    if (!Number.isInteger(batch) || batch < 1 || batch > 65536) {
      throw new InputError('E_BATCH', `batch must be an integer from 1 to 65536, got ${batch}`);
    }
    if (!input || typeof (input as ArrayLike<number>).length !== 'number') {
      throw new InputError('E_INPUT_TYPE', 'input must be an array or typed array of numbers');
    }
    input = flattenInput(input, this.inputShape, batch) as ArrayLike<number>;
    const want = batch * this.inputLength;
    if (input.length !== want) {
      const [steps, features] = this.inputShape;
      const sequence = this.inputShape.length === 2 ? `: ${steps} steps × ${features} feature${features === 1 ? '' : 's'}${batch === 1 ? '' : ' each'}` : '';
      throw new InputError('E_INPUT_LENGTH', `input has ${input.length} values; the model takes ${batch === 1 ? '' : `${batch} × `}[${this.inputShape.join(', ')}] = ${want}${sequence}${batch === 1 && input.length % this.inputLength === 0 && input.length > 0 ? ` (for ${input.length / this.inputLength} items pass { batch: ${input.length / this.inputLength} })` : ''}${sequenceNote(this.inputShape, input.length, batch)}`);
    }
    const pixels = input instanceof Uint8Array || input instanceof Uint8ClampedArray;
    if (pixels && !this.takesPixels) {
      throw new InputError('E_NO_PIXEL_RULE', "this model has no pixel rule, so it cannot take pixels (Uint8Array, Uint8ClampedArray, ImageData): pass the values its source model takes, as a Float32Array or an array of numbers, or re-convert it with --input-range or --pixel-mean/--pixel-std to say how its source scales pixels");
    }
    // typed arrays hold numbers only; the engine finds a non-finite one (status −14)
    if (!pixels && !ArrayBuffer.isView(input)) {
      for (let i = 0; i < input.length; i++) {
        const v = input[i];
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw new InputError('E_INPUT_VALUE', `input value ${i} is ${Array.isArray(v) ? 'an array' : String(v)}: every value must be a finite number`);
        }
      }
    }
    // an engine that failed or trapped mid-prepare or mid-run is not reused with its model
    // on a reload of the same bytes (dispose releases it as holding none)
    let status: number, run: number;
    try {
      status = e.model_prepare(batch);
      if (status === 0) {
        const at = e.model_input_ptr();
        if (pixels) new Uint8Array(e.memory.buffer, at, want).set(input as Uint8Array);
        else new Float32Array(e.memory.buffer, at, want).set(input);
      }
      run = status === 0 ? e.model_run(batch, pixels ? 1 : 0) : 0;
    } catch (err) {
      this.faulted = true;
      throw new EngineError('E_ENGINE', `the engine trapped: ${(err as Error).message}`);
    }
    if (status !== 0) {
      this.faulted = true;
      throw new EngineError('E_MEMORY', `not enough memory for a batch of ${batch}: use a smaller batch`);
    }
    if (run === F.E_INPUT_VALUE) {
      const i = e.model_error_index();
      throw new InputError('E_INPUT_VALUE', `input value ${i} is ${String(input[i])}${Number.isFinite(input[i]) ? ' (beyond float32)' : ''}: every value must be a finite number`);
    }
    if (run !== 0) {
      this.faulted = true;
      throw new EngineError('E_ENGINE', `the engine failed to run (status ${run})`);
    }
    return new Float32Array(e.memory.buffer, e.model_output_ptr(), batch * this.outputLength).slice();
  }

  // A browser ImageData (RGBA rows) as the model's [height, width, channels] pixels:
  // RGB, or grey (0.299 R + 0.587 G + 0.114 B, as edgeq's image readers make it).
  private imageDataPixels(img: ImageDataLike, batch: number): Uint8Array {
    const [h, w, c] = this.inputShape;
    if (batch !== 1 || this.inputShape.length !== 3 || h !== img.height || w !== img.width || (c !== 1 && c !== 3)) {
      throw new InputError('E_INPUT_IMAGE', `an ImageData of ${img.width}×${img.height} does not fit this model, which takes [${this.inputShape.join(', ')}]: draw the image at the model's width × height (one image per call), or pass pixels or values`);
    }
    const out = new Uint8Array(h * w * c);
    for (let i = 0; i < h * w; i++) {
      const r = img.data[i * 4], g = img.data[i * 4 + 1], b = img.data[i * 4 + 2];
      if (c === 3) { out[i * 3] = r; out[i * 3 + 1] = g; out[i * 3 + 2] = b; }
      else out[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
    return out;
  }

  // Top-k classes of one item, best first.
  classify(input: ArrayLike<number> | ImageDataLike, k = 3): Classification[] {
    if (!this.isClassifier) {
      throw new InputError('E_NOT_CLASSIFIER', `classify needs a classifier; this model outputs [${this.outputShape.join(', ')}] values${this.outputShape.length === 1 && this.outputShape[0] > 1 ? ' and neither ends in softmax nor names its classes (convert it with --class-names if its outputs are class scores)' : ''}: use predict() for its outputs`);
    }
    const scores = this.predict(input);
    if (!Number.isInteger(k) || k < 1) throw new InputError('E_TOP_K', `k must be a positive integer, got ${k}`);
    return topClasses(scores, this.labels, k);
  }

  // Layers with shapes, quantization, weight encodings and sizes (what `edgeq inspect` prints).
  layers(): LayerInfo[] {
    const e = this.engine();
    const out: LayerInfo[] = [];
    for (let o = 0; o < e.model_op_count(); o++) {
      const f = (field: number) => e.model_op_info(o, field);
      const type = f(0);
      const name = nameOf(OP, type);
      const info: LayerInfo = {
        index: o, type: name ?? String(type),
        input: tensorInfo(e, f(1)), output: tensorInfo(e, f(2)),
        macs: f(13) >>> 0, packedBytes: f(12) >>> 0,
      };
      const spec: OpSpec | undefined = name === undefined ? undefined : OPS[name];
      if (type === F.OP_CONV2D) info.kernel = f(15) === 1 ? 'sparse' : 'gemm';
      if (f(14) === 1) info.fusedWith = o + 1;
      if (f(14) === 2) info.fusedWith = o - 1;
      if (spec?.activation) info.activation = nameOf(spec.activation === 'fused' ? FUSED_ACTIVATION : FLOAT_ACTIVATION, f(6));
      if (spec?.input2) info.input2 = tensorInfo(e, f(5));
      if (spec?.padding) info.padding = nameOf(PADDING, f(7));
      for (const [key, { at, as }] of Object.entries(spec?.params ?? {})) {
        const v = at.map((i) => f(8 + i));
        const value = as === 'bool' ? v[0] === 1 : as === 'floatActivation' ? nameOf(FLOAT_ACTIVATION, v[0]) : as === 'direction' ? nameOf(RNN_DIRECTION, v[0])
          : as === 'alpha' ? new Float32Array(Int32Array.of(v[0]).buffer)[0] : v.length === 1 && as !== 'list' ? v[0] : v;
        if (as === 'alpha' && !ALPHA_ACTIVATIONS.includes(info.activation as FloatActivation)) continue;
        (info as unknown as Record<string, unknown>)[key] = value;
      }
      const weights: WeightInfo[] = [];
      for (const [field, role] of [[3, 'weights'], [4, 'bias'], [5, 'recurrent']] as const) {
        const t = f(field);
        if (t < 0 || (field === 5 && info.input2)) continue; // field 5 of a two-input op is its second input
        const ti = (x: number) => e.model_tensor_info(t, x);
        const dtype = nameOf(DTYPE, ti(0)) as WeightInfo['dtype'];
        weights.push({
          role, dtype, shape: shapeOf(e, t), encoding: nameOf(ENCODING, ti(3)) as WeightInfo['encoding'],
          fileBytes: ti(9) + ti(10) * 4, nonZero: dtype === 'int8' ? ti(11) : null, scales: ti(10),
        });
      }
      if (weights.length) info.weights = weights;
      out.push(info);
    }
    return out;
  }

  get disposed(): boolean {
    return this.e === null;
  }

  dispose(): void {
    if (!this.e) return;
    void this.info; // stays readable after dispose, as it was when computed at load
    release(this.pool, this.e, this.fileAt, this.faulted ? 0 : this.fileBytes);
    this.e = null;
  }
}

// The metadata's UTF-8 as a string. ASCII (what the converter writes unless a name or
// label is not) without a TextDecoder: a process's first one costs ~0.15 ms, a twentieth
// of a cold start.
function metadataText(raw: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < raw.length && ascii; i++) ascii = raw[i] < 0x80;
  if (!ascii) return new TextDecoder().decode(raw);
  let s = '';
  for (let i = 0; i < raw.length; i += 4096) s += String.fromCharCode.apply(null, raw.subarray(i, i + 4096) as unknown as number[]);
  return s;
}

function shapeOf(e: EngineExports, t: number): number[] {
  const rank = e.model_tensor_info(t, 2);
  return Array.from({ length: rank }, (_, d) => e.model_tensor_info(t, 4 + d));
}

function tensorInfo(e: EngineExports, t: number): TensorInfo {
  return { shape: shapeOf(e, t), dtype: nameOf(DTYPE, e.model_tensor_info(t, 0)) as TensorInfo['dtype'], scale: e.model_tensor_scale(t, 0), zeroPoint: e.model_tensor_info(t, 8) };
}

async function bytesOf(source: Uint8Array | ArrayBuffer | ArrayBufferView | Response): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) throw new ModelFormatError('E_FETCH', `fetching the model failed: HTTP ${source.status} ${source.statusText}`);
    return new Uint8Array(await source.arrayBuffer());
  }
  throw new InputError('E_SOURCE', 'loadModel takes a Uint8Array, an ArrayBuffer, a typed array or a fetch Response');
}

const buildOf = (e: EngineExports): EngineBuildName => (e.engine_relaxed?.() ? 'relaxed' : e.engine_simd() ? 'simd' : 'scalar');

// Loads an .edgeq model. Throws ModelFormatError, UnsupportedVersionError,
// UnsupportedOpError or EngineError, each saying what is wrong.
export async function loadModel(source: Uint8Array | ArrayBuffer | ArrayBufferView | Response, options: LoadOptions = {}): Promise<Model> {
  const bytes = await bytesOf(source);
  const engineSource = options.engine ?? defaultSource;
  if (!engineSource) {
    throw new EngineError('E_ENGINE_MISSING', 'no engine given: pass { engine } (the .wasm bytes, a WebAssembly.Module, or a loader) or import edgeq from its Node or browser entry');
  }
  // only a loader function can choose; bytes and modules are the build they are
  if (options.build === 'relaxed' && !relaxedSimdSupported()) {
    throw new EngineError('E_ENGINE_BUILD', "build 'relaxed' needs relaxed SIMD, which this JavaScript engine refuses (WebAssembly.validate): use build 'simd' or 'auto'");
  }
  const build: EngineBuildName = options.build === 'simd' || options.build === 'scalar' || options.build === 'relaxed' ? options.build
    : simdSupported() ? 'simd' : 'scalar';
  const pool = await poolFor(engineSource, build);
  const held = takeLoaded(pool, bytes);
  if (held) return new Model(pool, held.e, buildOf(held.e), bytes.length, held.at);
  const e = await acquire(pool);
  try {
    e.mem_reset();
    const at = e.mem_alloc(bytes.length);
    if (!at) throw new EngineError('E_MEMORY', `not enough memory for a ${bytes.length}-byte model`);
    new Uint8Array(e.memory.buffer, at, bytes.length).set(bytes);
    const status = e.model_load(at, bytes.length);
    if (status !== 0) throw loadError(status, e, bytes);
    return new Model(pool, e, buildOf(e), bytes.length, at);
  } catch (err) {
    release(pool, e);
    throw err;
  }
}
