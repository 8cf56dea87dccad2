// The .edgeq writer (docs/FORMAT.md). The engine holds the one reader.

import * as F from '../../../assembly/format.js';
import { ModelSpecError } from '../../runtime/errors.js';
import { EDGEQ_VERSION } from '../../runtime/version.js';
import { FLOAT_ACTIVATION, FUSED_ACTIVATION, OP, PADDING, RNN_DIRECTION } from '../../runtime/codes.js';
import { crc32 } from './crc32.js';
import { encodeCodebook, encodeRleHuffman } from './huffman.js';
import type { EdgeqModel, Layer, WeightEncoding, Quant } from './model.js';
import { windowOut } from './shapes.js';


interface TensorRec {
  dtype: number; kind: number; dims: number[]; encoding: number;
  scale: number; zeroPoint: number; data?: Uint8Array; scales?: Float32Array;
  dataOffset?: number; scalesOffset?: number;
}
interface OpRec {
  type: number; input: number; output: number; weights?: number; bias?: number; recurrent?: number; // recurrent: O_INPUT2 for two-input ops
  activation?: number; padding?: number; params?: number[];
}

function fail(where: string, what: string): never {
  throw new ModelSpecError('E_MODEL_SPEC', `${where}: ${what}`);
}

function bitmask(values: Int8Array): Uint8Array {
  const nnz = values.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
  const maskBytes = Math.ceil(values.length / 8);
  const out = new Uint8Array(maskBytes + nnz);
  let j = maskBytes;
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== 0) {
      out[i >> 3] |= 1 << (i & 7);
      out[j++] = values[i] & 0xff;
    }
  }
  return out;
}

// int8 weights in the requested encoding ('auto': the smallest; ties go to the
// simpler encoding: raw, bitmask, rle-huffman, codebook). A tensor without a non-zero
// value has no codebook: 'codebook' then gets the smallest of the others.
function encodeWeights(values: Int8Array, encoding: WeightEncoding = 'auto'): { encoding: number; data: Uint8Array } {
  const raw = { encoding: F.ENCODING_RAW, data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
  if (encoding === 'raw') return raw;
  const mask = { encoding: F.ENCODING_BITMASK, data: bitmask(values) };
  if (encoding === 'bitmask') return mask;
  const huffman = { encoding: F.ENCODING_RLE_HUFFMAN, data: encodeRleHuffman(values) };
  if (encoding === 'huffman') return huffman;
  const book = encodeCodebook(values);
  const codebook = book && { encoding: F.ENCODING_CODEBOOK, data: book };
  if (encoding === 'codebook' && codebook) return codebook;
  return [raw, mask, huffman, ...(codebook ? [codebook] : [])].reduce((best, e) => (e.data.length < best.data.length ? e : best));
}

const bytesOf = (a: Int32Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function checkQuant(where: string, q: Quant): void {
  if (!(q.scale > 0) || !Number.isFinite(q.scale)) fail(where, `scale must be a positive finite number, got ${q.scale}`);
  if (!Number.isInteger(q.zeroPoint) || q.zeroPoint < -128 || q.zeroPoint > 127) fail(where, `zero point must be an integer in [-128, 127], got ${q.zeroPoint}`);
}

// One scale per output channel, or one for the whole tensor (written as a per-tensor
// scale: clustered weights share one, so that their codes are shared).
function checkScales(where: string, s: Float32Array, n: number): void {
  if (s.length !== n && s.length !== 1) fail(where, `expected ${n} weight scales (one per output channel) or 1, got ${s.length}`);
  s.forEach((v, i) => { if (!(v > 0) || !Number.isFinite(v)) fail(where, `weight scale ${i} must be positive and finite, got ${v}`); });
}

export function encodeModel(model: EdgeqModel): Uint8Array {
  const tensors: TensorRec[] = [];
  const ops: OpRec[] = [];
  const { input } = model;
  checkQuant('input', input.quant);
  if (input.shape.length < 1 || input.shape.length > 4 || input.shape.some((d) => !Number.isInteger(d) || d < 1)) {
    fail('input', `shape must have 1 to 4 positive integer dimensions, got [${input.shape}]`);
  }
  tensors.push({ dtype: F.DTYPE_INT8, kind: F.KIND_ACTIVATION, dims: input.shape, encoding: 0, scale: input.quant.scale, zeroPoint: input.quant.zeroPoint });
  let cur = 0;
  const shape = () => tensors[cur].dims;
  const quant = (): Quant => ({ scale: tensors[cur].scale, zeroPoint: tensors[cur].zeroPoint });
  const act = (dims: number[], q: Quant, dtype = F.DTYPE_INT8) => {
    tensors.push({ dtype, kind: F.KIND_ACTIVATION, dims, encoding: 0, scale: q.scale, zeroPoint: q.zeroPoint });
    return tensors.length - 1;
  };
  const weights = (values: Int8Array, dims: number[], scales: Float32Array, enc?: WeightEncoding) => {
    const { encoding, data } = encodeWeights(values, enc);
    const one = scales.length === 1 && dims[0] !== 1; // a one-channel tensor keeps the per-channel form older engines read
    tensors.push({ dtype: F.DTYPE_INT8, kind: F.KIND_CONSTANT, dims, encoding, scale: one ? scales[0] : 0, zeroPoint: 0, data, ...(one ? {} : { scales }) });
    return tensors.length - 1;
  };
  const constant = (dtype: number, values: Int32Array | Float32Array, dims = [values.length]) => {
    tensors.push({ dtype, kind: F.KIND_CONSTANT, dims, encoding: F.ENCODING_RAW, scale: 0, zeroPoint: 0, data: bytesOf(values) });
    return tensors.length - 1;
  };

  const outs: number[] = []; // each layer's output tensor
  const tensorOf = (where: string, j: number) => {
    if (!Number.isInteger(j) || j < -1 || j >= outs.length) fail(where, `reads layer ${j}, which is not an earlier layer (−1 is the model input)`);
    return j === -1 ? 0 : outs[j];
  };
  model.layers.forEach((layer: Layer, i: number) => {
    const where = `layer ${i} (${layer.type})`;
    const two = layer.type === 'add' || layer.type === 'multiply' || layer.type === 'concatenate';
    if (layer.inputs) {
      if (layer.inputs.length !== (two ? 2 : 1)) fail(where, `takes ${two ? 2 : 1} input${two ? 's' : ''}, got ${layer.inputs.length}`);
      cur = tensorOf(where, layer.inputs[0]);
    } else if (two) {
      fail(where, 'needs inputs: [a, b], the layers it reads');
    }
    const s = shape();
    if (tensors[cur].dtype !== F.DTYPE_INT8) fail(where, 'follows a softmax; softmax must be the last layer');
    switch (layer.type) {
      case 'conv2d': {
        if (s.length !== 3) fail(where, `needs an [h, w, c] input, got [${s}]`);
        const [h, w, c] = s;
        const [kh, kw] = layer.kernel;
        const [sh, sw] = layer.strides;
        if (layer.weights.length !== layer.filters * kh * kw * c) fail(where, `weights have ${layer.weights.length} values, expected ${layer.filters}×${kh}×${kw}×${c}`);
        checkScales(where, layer.weightScales, layer.filters);
        checkQuant(where, layer.output);
        if (layer.bias && layer.bias.length !== layer.filters) fail(where, `bias has ${layer.bias.length} values, expected ${layer.filters}`);
        const oh = windowOut(h, kh, sh, layer.padding), ow = windowOut(w, kw, sw, layer.padding);
        if (oh < 1 || ow < 1) fail(where, `a ${kh}×${kw} kernel does not fit a ${h}×${w} input`);
        const wt = weights(layer.weights, [layer.filters, kh, kw, c], layer.weightScales, layer.encoding);
        const bt = layer.bias ? constant(F.DTYPE_INT32, layer.bias) : F.NONE;
        const y = act([oh, ow, layer.filters], layer.output);
        ops.push({ type: OP[layer.type], input: cur, output: y, weights: wt, bias: bt, activation: FUSED_ACTIVATION[layer.activation], padding: PADDING[layer.padding], params: [sh, sw] });
        cur = y;
        break;
      }
      case 'conv1d': {
        if (s.length !== 2) fail(where, `needs a [steps, channels] input, got [${s}]`);
        const [steps, c] = s;
        const { kernel: k, stride, dilation } = layer;
        if (![k, stride, dilation].every(Number.isInteger) || k < 1 || stride < 1 || stride > 64 || dilation < 1 || dilation > 4096) fail(where, `kernel ${k}, stride ${stride} (1 to 64) or dilation ${dilation} (1 to 4096) out of range`);
        if (layer.weights.length !== layer.filters * k * c) fail(where, `weights have ${layer.weights.length} values, expected ${layer.filters}×${k}×${c}`);
        checkScales(where, layer.weightScales, layer.filters);
        checkQuant(where, layer.output);
        if (layer.bias && layer.bias.length !== layer.filters) fail(where, `bias has ${layer.bias.length} values, expected ${layer.filters}`);
        const span = (k - 1) * dilation + 1;
        const out = windowOut(steps, span, stride, layer.padding);
        if (out < 1) fail(where, `a kernel spanning ${span} steps does not fit ${steps} steps`);
        const wt = weights(layer.weights, [layer.filters, k, c], layer.weightScales, layer.encoding);
        const bt = layer.bias ? constant(F.DTYPE_INT32, layer.bias) : F.NONE;
        const y = act([out, layer.filters], layer.output);
        ops.push({ type: OP[layer.type], input: cur, output: y, weights: wt, bias: bt, activation: FUSED_ACTIVATION[layer.activation], padding: PADDING[layer.padding], params: [stride, dilation] });
        cur = y;
        break;
      }
      case 'depthwise_conv2d': {
        if (s.length !== 3) fail(where, `needs an [h, w, c] input, got [${s}]`);
        const [h, w, c] = s;
        const [kh, kw] = layer.kernel;
        const [sh, sw] = layer.strides;
        const m = layer.multiplier, oc = c * m;
        if (!Number.isInteger(m) || m < 1 || m > 64) fail(where, `depth multiplier must be 1 to 64, got ${m}`);
        if (layer.weights.length !== oc * kh * kw) fail(where, `weights have ${layer.weights.length} values, expected ${oc}×${kh}×${kw}`);
        checkScales(where, layer.weightScales, oc);
        checkQuant(where, layer.output);
        if (layer.bias && layer.bias.length !== oc) fail(where, `bias has ${layer.bias.length} values, expected ${oc}`);
        const oh = windowOut(h, kh, sh, layer.padding), ow = windowOut(w, kw, sw, layer.padding);
        if (oh < 1 || ow < 1) fail(where, `a ${kh}×${kw} kernel does not fit a ${h}×${w} input`);
        const wt = weights(layer.weights, [oc, kh, kw, 1], layer.weightScales, layer.encoding);
        const bt = layer.bias ? constant(F.DTYPE_INT32, layer.bias) : F.NONE;
        const y = act([oh, ow, oc], layer.output);
        ops.push({ type: OP[layer.type], input: cur, output: y, weights: wt, bias: bt, activation: FUSED_ACTIVATION[layer.activation], padding: PADDING[layer.padding], params: [sh, sw, m] });
        cur = y;
        break;
      }
      case 'add':
      case 'multiply':
      case 'concatenate': {
        const x2 = tensorOf(where, layer.inputs![1]);
        const s2 = tensors[x2].dims;
        if (tensors[x2].dtype !== F.DTYPE_INT8) fail(where, 'reads a softmax output');
        checkQuant(where, layer.output);
        let dims = s;
        if (layer.type === 'concatenate') {
          if (s2.length !== s.length || s.slice(0, -1).some((d, k) => d !== s2[k])) fail(where, `cannot concatenate [${s}] and [${s2}] on the last axis`);
          dims = [...s.slice(0, -1), s[s.length - 1] + s2[s2.length - 1]];
        } else if (!(s2.length === s.length && s2.every((d, k) => d === s[k])) && !(s2[s2.length - 1] === s[s.length - 1] && s2.slice(0, -1).every((d) => d === 1))) {
          fail(where, `inputs [${s}] and [${s2}] differ: they must match, or the second be a vector over the first's last axis`);
        }
        const y = act(dims, layer.output);
        ops.push({
          type: OP[layer.type], input: cur, output: y, recurrent: x2,
          activation: layer.type === 'concatenate' ? 0 : FUSED_ACTIVATION[layer.activation],
          params: layer.type === 'add' && layer.average ? [1] : [],
        });
        cur = y;
        break;
      }
      case 'channel_affine': {
        const c = s[s.length - 1];
        if (layer.scale.length !== c || layer.shift.length !== c) fail(where, `scale and shift need ${c} values (the last axis), got ${layer.scale.length} and ${layer.shift.length}`);
        if ([...layer.scale, ...layer.shift].some((v) => !Number.isFinite(Math.fround(v)))) fail(where, 'scale and shift must be finite float32 numbers');
        checkQuant(where, layer.output);
        const ab = new Float32Array(2 * c);
        ab.set(layer.scale); ab.set(layer.shift, c);
        const wt = constant(F.DTYPE_FLOAT32, ab);
        const y = act([...s], layer.output);
        ops.push({ type: OP[layer.type], input: cur, output: y, weights: wt });
        cur = y;
        break;
      }
      case 'activation': {
        checkQuant(where, layer.output);
        const alpha = layer.alpha ?? 0;
        if (!Number.isFinite(Math.fround(alpha))) fail(where, `alpha must be a finite float32, got ${alpha}`);
        const y = act([...s], layer.output);
        ops.push({ type: OP[layer.type], input: cur, output: y, activation: FLOAT_ACTIVATION[layer.activation], params: [new Int32Array(Float32Array.of(alpha).buffer)[0]] });
        cur = y;
        break;
      }
      case 'dense': {
        // a vector [k], or a sequence [steps, k] with the weights applied to every step
        if (s.length !== 1 && s.length !== 2) fail(where, `needs a [k] or [steps, k] input, got [${s}]: add a flatten layer before it`);
        const k = s[s.length - 1];
        if (layer.weights.length !== layer.units * k) fail(where, `weights have ${layer.weights.length} values, expected ${layer.units}×${k}`);
        checkScales(where, layer.weightScales, layer.units);
        checkQuant(where, layer.output);
        if (layer.bias && layer.bias.length !== layer.units) fail(where, `bias has ${layer.bias.length} values, expected ${layer.units}`);
        const wt = weights(layer.weights, [layer.units, k], layer.weightScales, layer.encoding);
        const bt = layer.bias ? constant(F.DTYPE_INT32, layer.bias) : F.NONE;
        const y = act([...s.slice(0, -1), layer.units], layer.output);
        ops.push({ type: OP[layer.type], input: cur, output: y, weights: wt, bias: bt, activation: FUSED_ACTIVATION[layer.activation] });
        cur = y;
        break;
      }
      case 'max_pool2d':
      case 'avg_pool2d': {
        if (s.length !== 3) fail(where, `needs an [h, w, c] input, got [${s}]`);
        const oh = windowOut(s[0], layer.pool[0], layer.strides[0], layer.padding);
        const ow = windowOut(s[1], layer.pool[1], layer.strides[1], layer.padding);
        if (oh < 1 || ow < 1) fail(where, `a ${layer.pool[0]}×${layer.pool[1]} window does not fit a ${s[0]}×${s[1]} input`);
        const y = act([oh, ow, s[2]], quant());
        ops.push({ type: OP[layer.type], input: cur, output: y, padding: PADDING[layer.padding], params: [...layer.pool, ...layer.strides] });
        cur = y;
        break;
      }
      case 'max_pool1d':
      case 'avg_pool1d': {
        if (s.length !== 2) fail(where, `needs a [steps, channels] input, got [${s}]`);
        if (![layer.pool, layer.stride].every((v) => Number.isInteger(v) && v >= 1 && v <= 4096)) fail(where, `pool ${layer.pool} and stride ${layer.stride} must be 1 to 4096`);
        const out = windowOut(s[0], layer.pool, layer.stride, layer.padding);
        if (out < 1) fail(where, `a window of ${layer.pool} does not fit ${s[0]} steps`);
        const y = act([out, s[1]], quant());
        ops.push({ type: OP[layer.type], input: cur, output: y, padding: PADDING[layer.padding], params: [layer.pool, layer.stride] });
        cur = y;
        break;
      }
      case 'global_max_pool1d':
      case 'global_avg_pool1d': {
        if (s.length !== 2) fail(where, `needs a [steps, channels] input, got [${s}]`);
        const y = act([s[1]], quant());
        ops.push({ type: OP[layer.type], input: cur, output: y });
        cur = y;
        break;
      }
      case 'upsample2d':
      case 'pad2d': {
        if (s.length !== 3) fail(where, `needs an [h, w, c] input, got [${s}]`);
        const p = layer.type === 'upsample2d' ? layer.factors : layer.pads;
        if (p.some((v) => !Number.isInteger(v) || v < (layer.type === 'upsample2d' ? 1 : 0) || v > (layer.type === 'upsample2d' ? 64 : 4096))) fail(where, `${layer.type === 'upsample2d' ? 'factors' : 'pads'} out of range: [${p}]`);
        const dims = layer.type === 'upsample2d' ? [s[0] * layer.factors[0], s[1] * layer.factors[1], s[2]] : [s[0] + layer.pads[0] + layer.pads[1], s[1] + layer.pads[2] + layer.pads[3], s[2]];
        const y = act(dims, quant());
        ops.push({ type: OP[layer.type], input: cur, output: y, params: [...p] });
        cur = y;
        break;
      }
      case 'global_max_pool2d':
      case 'global_avg_pool2d': {
        if (s.length !== 3) fail(where, `needs an [h, w, c] input, got [${s}]`);
        const y = act([s[2]], quant());
        ops.push({ type: OP[layer.type], input: cur, output: y });
        cur = y;
        break;
      }
      case 'flatten':
      case 'reshape': {
        const n = s.reduce((a, b) => a * b, 1);
        const dims = layer.type === 'flatten' ? [n] : layer.shape;
        if (dims.length < 1 || dims.length > 4 || dims.reduce((a, b) => a * b, 1) !== n) fail(where, `cannot reshape [${s}] to [${dims}]`);
        const y = act(dims, quant());
        ops.push({ type: OP.reshape, input: cur, output: y }); // flatten too
        cur = y;
        break;
      }
      case 'softmax': {
        if (s.length !== 1) fail(where, `needs a flat input, got [${s}]`);
        const y = act([s[0]], { scale: 0, zeroPoint: 0 }, F.DTYPE_FLOAT32);
        ops.push({ type: OP[layer.type], input: cur, output: y });
        cur = y;
        break;
      }
      case 'lstm':
      case 'gru': {
        if (s.length !== 2) fail(where, `needs a [steps, features] input, got [${s}]`);
        const [steps, feat] = s;
        const n = (layer.type === 'lstm' ? 4 : 3) * layer.units;
        const resetAfter = layer.type === 'gru' && layer.resetAfter;
        const nb = resetAfter ? 2 * n : n;
        if (layer.kernel.length !== n * feat) fail(where, `kernel has ${layer.kernel.length} values, expected ${n}×${feat}`);
        if (layer.recurrent.length !== n * layer.units) fail(where, `recurrent kernel has ${layer.recurrent.length} values, expected ${n}×${layer.units}`);
        if (layer.bias.length !== nb || layer.bias.some((v) => !Number.isFinite(v))) fail(where, `bias must have ${nb} finite values`);
        checkScales(where, layer.kernelScales, n);
        checkScales(where, layer.recurrentScales, n);
        checkQuant(where, layer.output);
        const wx = weights(layer.kernel, [n, feat], layer.kernelScales, layer.encoding);
        const wh = weights(layer.recurrent, [n, layer.units], layer.recurrentScales, layer.encoding);
        const bt = constant(F.DTYPE_FLOAT32, layer.bias, resetAfter ? [2, n] : [n]);
        const y = act(layer.returnSequences ? [steps, layer.units] : [layer.units], layer.output);
        const params = [layer.returnSequences ? 1 : 0, FLOAT_ACTIVATION[layer.recurrentActivation], RNN_DIRECTION[layer.direction ?? 'forward']];
        if (layer.type === 'gru') params.push(resetAfter ? 1 : 0);
        ops.push({ type: OP[layer.type], input: cur, output: y, weights: wx, bias: bt, recurrent: wh, activation: FLOAT_ACTIVATION[layer.activation], params });
        cur = y;
        break;
      }
      default:
        fail(where, `unknown layer type '${(layer as { type: string }).type}'`);
    }
    outs.push(cur);
  });
  if (ops.length === 0) fail('model', 'has no layers');
  let pixelRule: number = F.NONE;
  if (input.pixelRule) {
    const { mul, add } = input.pixelRule;
    const c = input.shape[input.shape.length - 1];
    if (mul.length !== add.length || (mul.length !== 1 && mul.length !== c)) fail('input', `the pixel rule needs 1 or ${c} (channels) values of mul and of add, got ${mul.length} and ${add.length}`);
    if ([...mul, ...add].some((v) => !Number.isFinite(Math.fround(v)))) fail('input', 'the pixel rule must be finite float32 numbers');
    pixelRule = tensors.length;
    tensors.push({ dtype: F.DTYPE_FLOAT32, kind: F.KIND_CONSTANT, dims: [2, mul.length], encoding: F.ENCODING_RAW, scale: 0, zeroPoint: 0, data: bytesOf(Float32Array.from([...mul, ...add])) });
  }

  const meta = new TextEncoder().encode(JSON.stringify({
    ...model.metadata,
    converter: model.metadata.converter ?? { name: 'edgeq', version: EDGEQ_VERSION },
  }));
  const align = (n: number) => Math.ceil(n / F.DATA_ALIGN) * F.DATA_ALIGN;
  const tensorsAt = F.HEADER_SIZE;
  const opsAt = tensorsAt + tensors.length * F.TENSOR_RECORD_SIZE;
  const metaAt = opsAt + ops.length * F.OP_RECORD_SIZE;
  const dataAt = align(metaAt + meta.length);
  let dataLen = 0;
  for (const t of tensors) {
    if (t.data) { t.dataOffset = dataLen; dataLen = align(dataLen + t.data.length); }
    if (t.scales) { t.scalesOffset = dataLen; dataLen = align(dataLen + t.scales.byteLength); }
  }
  const size = dataAt + dataLen;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  const u32 = (at: number, v: number) => view.setUint32(at, v >>> 0, true);
  u32(F.H_MAGIC, F.MAGIC);
  u32(F.H_VERSION, F.VERSION);
  u32(F.H_FILE_SIZE, size);
  u32(F.H_FLAGS, 0);
  u32(F.H_TENSOR_COUNT, tensors.length);
  u32(F.H_OP_COUNT, ops.length);
  u32(F.H_INPUT, 0);
  u32(F.H_OUTPUT, cur);
  view.setInt32(F.H_PIXEL_RULE, pixelRule, true);
  u32(F.H_RESERVED, 0);
  u32(F.H_META_OFFSET, metaAt);
  u32(F.H_META_SIZE, meta.length);
  u32(F.H_TENSORS_OFFSET, tensorsAt);
  u32(F.H_OPS_OFFSET, opsAt);
  u32(F.H_DATA_OFFSET, dataAt);
  tensors.forEach((t, i) => {
    const r = tensorsAt + i * F.TENSOR_RECORD_SIZE;
    bytes[r + F.T_DTYPE] = t.dtype;
    bytes[r + F.T_KIND] = t.kind;
    bytes[r + F.T_RANK] = t.dims.length;
    bytes[r + F.T_ENCODING] = t.encoding;
    t.dims.forEach((d, j) => u32(r + F.T_DIMS + 4 * j, d));
    view.setFloat32(r + F.T_SCALE, t.scale, true);
    view.setInt32(r + F.T_ZERO_POINT, t.zeroPoint, true);
    if (t.data) {
      u32(r + F.T_DATA_OFFSET, t.dataOffset!);
      u32(r + F.T_DATA_SIZE, t.data.length);
      bytes.set(t.data, dataAt + t.dataOffset!);
    }
    if (t.scales) {
      u32(r + F.T_SCALES_OFFSET, t.scalesOffset!);
      u32(r + F.T_SCALE_COUNT, t.scales.length);
      bytes.set(bytesOf(t.scales), dataAt + t.scalesOffset!);
    }
  });
  ops.forEach((o, i) => {
    const r = opsAt + i * F.OP_RECORD_SIZE;
    const i32 = (at: number, v: number) => view.setInt32(r + at, v, true);
    i32(F.O_TYPE, o.type);
    i32(F.O_INPUT, o.input);
    i32(F.O_OUTPUT, o.output);
    i32(F.O_WEIGHTS, o.weights ?? F.NONE);
    i32(F.O_BIAS, o.bias ?? F.NONE);
    i32(F.O_RECURRENT, o.recurrent ?? F.NONE);
    i32(F.O_ACTIVATION, o.activation ?? 0);
    i32(F.O_PADDING, o.padding ?? 0);
    (o.params ?? []).forEach((p, j) => i32(F.O_PARAMS + 4 * j, p));
  });
  bytes.set(meta, metaAt);
  u32(F.H_CRC32, crc32(bytes.subarray(16)));
  return bytes;
}
