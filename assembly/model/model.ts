// The model engine: validates an .edgeq file in wasm memory, plans the activation
// arena, packs the weights, and runs the graph. One model per instance.
//
// A model file is untrusted input. Every header field, table record, offset, size,
// count, shape and op parameter is checked before it is used (docs/FORMAT.md lists the
// rules), with 64-bit arithmetic where a sum or product could wrap. A failed check
// returns a negative status; model_error_index / model_error_reason say where and why.

import * as F from "../format";
import { mem_alloc, mem_release } from "../memory";
import { ACT_F_HARD_SIGMOID, ACT_F_RELU, ACT_F_SIGMOID, ACT_F_TANH, ACT_NONE, ACT_RELU6, PAD_SAME } from "../format";
import { quant_multiplier, quantize } from "../quant";
import { channel_affine_prepare, channel_affine_s8_table } from "../kernels/channel_affine";
import { upsample2d_s8_rows } from "../kernels/upsample2d";
import { pad2d_s8_rows } from "../kernels/pad2d";
import { activation_s8_lut, activation_s8_table } from "../kernels/activation_s8";
import { add_s8_x16 } from "../kernels/add";
import { multiply_s8_x16 } from "../kernels/multiply";
import { concat_s8_x16 } from "../kernels/concat";
import { depthwise_conv2d_pack, depthwise_conv2d_packed_size, depthwise_conv2d_s8_c8 } from "../kernels/depthwise_conv2d";
import { softmax_s8_f32 } from "../kernels/activation";
import {
  conv2d_maxpool2d_s8_im2col, conv2d_maxpool2d_s8_sparse, conv2d_maxpool2d_scratch_size, conv2d_s8_im2col,
  conv2d_scratch_size, conv2d_sparse_pack, conv2d_sparse_packed_size, conv2d_sparse_pairs, conv2d_sparse_scratch_size,
  conv2d_sparse_tiles,
} from "../kernels/conv2d";
import { dense_s8_gemm } from "../kernels/dense";
import { gemm_pack, gemm_packed_size } from "../kernels/gemm";
import { lstm_pack, lstm_packed_size, lstm_s8_gemm, lstm_scratch_size } from "../kernels/lstm";
import { avgpool2d_s8_c16, global_avgpool2d_s8_c16, global_maxpool2d_s8_c16, maxpool2d_s8_c16 } from "../kernels/pool2d";
import { window_out_size } from "../kernels/window";
import { crc32 } from "./crc32";
import { rle_huffman_decode } from "./huffman";

// status codes (negative); docs/FORMAT.md and src/runtime/errors.ts give their meaning
export const OK: i32 = 0;
export const E_TRUNCATED: i32 = -1;
export const E_MAGIC: i32 = -2;
export const E_VERSION: i32 = -3;
export const E_CHECKSUM: i32 = -4;
export const E_HEADER: i32 = -5;
export const E_TENSOR: i32 = -6;
export const E_OP: i32 = -7;
export const E_UNSUPPORTED_OP: i32 = -8;
export const E_GRAPH: i32 = -9;
export const E_MEMORY: i32 = -10;
export const E_NO_MODEL: i32 = -11;
export const E_BATCH: i32 = -12;
export const E_NO_PIXEL_RULE: i32 = -13; // pixel input to a model without a pixel rule

// reasons (model_error_reason)
const R_FIELD: i32 = 1; // a field has a value outside its table
const R_RANGE: i32 = 2; // an offset/size points outside its section or file
const R_ALIGN: i32 = 3; // misaligned offset
const R_SHAPE: i32 = 4; // dims / shapes inconsistent
const R_QUANT: i32 = 5; // scale or zero point invalid
const R_ENCODING: i32 = 6; // encoded data inconsistent
const R_TENSOR_REF: i32 = 7; // op refers to a missing or wrong-kind tensor
const R_ORDER: i32 = 8; // tensor used before produced, or produced twice
const R_PARAM: i32 = 9; // op parameter invalid
const R_LIMIT: i32 = 10; // over a size limit

let errIndex: i32 = -1;
let errReason: i32 = 0;

// @ts-ignore: decorator
@inline function fail(code: i32, index: i32, reason: i32): i32 {
  errIndex = index;
  errReason = reason;
  return code;
}

export function model_error_index(): i32 { return errIndex; }
export function model_error_reason(): i32 { return errReason; }

// ---- the loaded model -------------------------------------------------------------

let loaded = false;
let base: usize = 0; // file bytes
let nT: i32 = 0;
let nO: i32 = 0;
let tensors: usize = 0; // record table
let ops: usize = 0;
let data: usize = 0; // data section
let inputT: i32 = 0;
let outputT: i32 = 0;
let version: i32 = 0;
// Input rules: real input = float × floatMul + floatAdd (1 and 0 from version 2 on:
// float inputs are in the model's own units), = pixel × mul[c] + add[c] for pixels.
let floatMul: f32 = 1;
let floatAdd: f32 = 0;
let pixelC: i32 = 0; // channels the pixel rule covers: 0 none, 1 every value, else per channel (last axis)
let pixelRule: usize = 0; // f32 [2][pixelC]: the mul row, then the add row

// runtime tables, allocated at load
let tElems: usize = 0; // u32 [nT]: elements (per batch item for activations)
let tNnz: usize = 0; // u32 [nT]: non-zero count of int8 constants
let tArena: usize = 0; // u32 [nT]: arena offset at batch 1 (activations)
let tRoot: usize = 0; // i32 [nT]: tensor whose buffer this one shares (reshape)
let tFirst: usize = 0; // i32 [nT]: op that produces it (-1: graph input), root only
let tLast: usize = 0; // i32 [nT]: last op that reads it (nO: graph output)
let oPacked: usize = 0; // u32 [nO]: packed weights
let oPackedSize: usize = 0; // u32 [nO]
let oMacs: usize = 0; // u32 [nO]: multiply-accumulates per batch item
let oFused: usize = 0; // i32 [nO]: FUSED_* (how runOp runs it)
let oSparse: usize = 0; // i32 [nO]: 1 when a conv2d runs conv2d_maxpool2d_s8_sparse

let arenaBytes1: usize = 0; // activations at batch 1
let weightBytes: usize = 0;
let capacity: i32 = 0; // batch the buffers below hold
let arena: usize = 0;
let scratch: usize = 0;
let inStage: usize = 0;
let outStage: usize = 0;

// oFused: 0 runs alone (tables start zeroed)
const FUSED_CONV_MAXPOOL: i32 = 1; // a conv2d that also runs the max pool after it
const FUSED_DONE: i32 = 2; // that max pool: nothing left to run

// @ts-ignore: decorator
@inline function u8f(rec: usize, field: i32): i32 { return <i32>load<u8>(rec + field); }
// @ts-ignore: decorator
@inline function i32f(rec: usize, field: i32): i32 { return load<i32>(rec + field); }
// @ts-ignore: decorator
@inline function u32f(rec: usize, field: i32): u64 { return <u64>load<u32>(rec + field); }
// @ts-ignore: decorator
@inline function f32f(rec: usize, field: i32): f32 { return load<f32>(rec + field); }
// @ts-ignore: decorator
@inline function trec(t: i32): usize { return tensors + <usize>t * F.TENSOR_RECORD_SIZE; }
// @ts-ignore: decorator
@inline function orec(o: i32): usize { return ops + <usize>o * F.OP_RECORD_SIZE; }
// @ts-ignore: decorator
@inline function dim(t: i32, d: i32): i32 { return load<i32>(trec(t) + F.T_DIMS + (d << 2)); }
// @ts-ignore: decorator
@inline function rank(t: i32): i32 { return u8f(trec(t), F.T_RANK); }
// @ts-ignore: decorator
@inline function elems(t: i32): i32 { return load<i32>(tElems + (<usize>t << 2)); }
// @ts-ignore: decorator
@inline function arr(a: usize, i: i32): i32 { return load<i32>(a + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setArr(a: usize, i: i32, v: i32): void { store<i32>(a + (<usize>i << 2), v); }

function finite(x: f32): bool { return x - x == 0; }

function table(count: i32): usize {
  const p = mem_alloc(<usize>count << 2);
  if (p) memory.fill(p, 0, <usize>count << 2);
  return p;
}

// ---- load -------------------------------------------------------------------------

// Validates and prepares the model in [ptr, ptr + len). The bytes must stay in place
// while the model is loaded. Returns OK or a negative status.
export function model_load(ptr: usize, len: usize): i32 {
  loaded = false;
  capacity = 0;
  errIndex = -1;
  errReason = 0;
  if (len < <usize>F.HEADER_SIZE) return fail(E_TRUNCATED, -1, R_RANGE);
  if (load<u32>(ptr + F.H_MAGIC) != <u32>F.MAGIC) return fail(E_MAGIC, -1, R_FIELD);
  const ver = load<u32>(ptr + F.H_VERSION);
  if (ver < 1 || ver > <u32>F.VERSION) return fail(E_VERSION, -1, R_FIELD);
  const size = u32f(ptr, F.H_FILE_SIZE);
  if (size > <u64>len) return fail(E_TRUNCATED, -1, R_RANGE);
  if (size < <u64>F.HEADER_SIZE) return fail(E_HEADER, -1, R_RANGE);
  if (crc32(ptr + 16, <usize>size - 16) != load<u32>(ptr + F.H_CRC32)) return fail(E_CHECKSUM, -1, R_FIELD);
  if (load<u32>(ptr + F.H_FLAGS) != 0) return fail(E_HEADER, -1, R_FIELD);

  const tc = u32f(ptr, F.H_TENSOR_COUNT);
  const oc = u32f(ptr, F.H_OP_COUNT);
  if (tc < 2 || tc > <u64>F.MAX_TENSORS || oc < 1 || oc > <u64>F.MAX_OPS) return fail(E_HEADER, -1, R_LIMIT);
  const tOff = u32f(ptr, F.H_TENSORS_OFFSET);
  const oOff = u32f(ptr, F.H_OPS_OFFSET);
  const mOff = u32f(ptr, F.H_META_OFFSET);
  const mSize = u32f(ptr, F.H_META_SIZE);
  const dOff = u32f(ptr, F.H_DATA_OFFSET);
  if ((tOff & 15) != 0 || (oOff & 15) != 0 || (dOff & 15) != 0) return fail(E_HEADER, -1, R_ALIGN);
  if (tOff < <u64>F.HEADER_SIZE || tOff + tc * F.TENSOR_RECORD_SIZE > size) return fail(E_HEADER, -1, R_RANGE);
  if (oOff < <u64>F.HEADER_SIZE || oOff + oc * F.OP_RECORD_SIZE > size) return fail(E_HEADER, -1, R_RANGE);
  if (mOff < <u64>F.HEADER_SIZE || mOff + mSize > size) return fail(E_HEADER, -1, R_RANGE);
  if (dOff < <u64>F.HEADER_SIZE || dOff > size) return fail(E_HEADER, -1, R_RANGE);
  const inMul = f32f(ptr, F.H_INPUT_MUL);
  const inAdd = f32f(ptr, F.H_INPUT_ADD);
  if (ver == 1 && (!finite(inMul) || !finite(inAdd))) return fail(E_HEADER, -1, R_FIELD);
  if (ver >= 2 && load<u32>(ptr + F.H_RESERVED) != 0) return fail(E_HEADER, -1, R_FIELD);

  base = ptr;
  nT = <i32>tc;
  nO = <i32>oc;
  tensors = ptr + <usize>tOff;
  ops = ptr + <usize>oOff;
  data = ptr + <usize>dOff;
  const dataLen: u64 = size - dOff;
  version = <i32>ver;
  inputT = load<i32>(ptr + F.H_INPUT);
  outputT = load<i32>(ptr + F.H_OUTPUT);
  if (inputT < 0 || inputT >= nT || outputT < 0 || outputT >= nT || inputT == outputT) return fail(E_GRAPH, -1, R_TENSOR_REF);

  const rule = table(2);
  if (!rule) return fail(E_MEMORY, -1, R_LIMIT);
  tElems = table(nT); tNnz = table(nT); tArena = table(nT); tRoot = table(nT);
  tFirst = table(nT); tLast = table(nT);
  oPacked = table(nO); oPackedSize = table(nO); oMacs = table(nO); oFused = table(nO); oSparse = table(nO);
  if (!tElems || !tNnz || !tArena || !tRoot || !tFirst || !tLast || !oPacked || !oPackedSize || !oMacs || !oFused || !oSparse) {
    return fail(E_MEMORY, -1, R_LIMIT);
  }

  for (let t = 0; t < nT; t++) {
    const s = checkTensor(t, dataLen);
    if (s != OK) return s;
    setArr(tRoot, t, t);
    setArr(tFirst, t, -2); // not produced
    setArr(tLast, t, -1);
  }
  const inRec = trec(inputT);
  if (u8f(inRec, F.T_KIND) != F.KIND_ACTIVATION || u8f(inRec, F.T_DTYPE) != F.DTYPE_INT8) return fail(E_GRAPH, inputT, R_TENSOR_REF);
  if (u8f(trec(outputT), F.T_KIND) != F.KIND_ACTIVATION) return fail(E_GRAPH, outputT, R_TENSOR_REF);
  setArr(tFirst, inputT, -1);
  if (version == 1) {
    floatMul = inMul; floatAdd = inAdd;
    store<f32>(rule, inMul); store<f32>(rule + 4, inAdd);
    pixelC = 1; pixelRule = rule;
  } else {
    floatMul = 1; floatAdd = 0;
    const s = checkPixelRule(load<i32>(ptr + F.H_PIXEL_RULE));
    if (s != OK) return s;
  }

  for (let o = 0; o < nO; o++) {
    const s = checkOp(o);
    if (s != OK) return s;
  }
  if (arr(tFirst, outputT) < 0) return fail(E_GRAPH, outputT, R_ORDER);
  setArr(tLast, arr(tRoot, outputT), nO);

  planFusion();
  const plan = planArena();
  if (plan != OK) return plan;
  const packs = packWeights();
  if (packs != OK) return packs;
  loaded = true;
  return OK;
}

// Version 2's pixel rule: NONE, or a raw float32 constant [2, C], C = 1 or the input's
// last dimension, every value finite; no op reads it.
function checkPixelRule(t: i32): i32 {
  pixelC = 0; pixelRule = 0;
  if (t == F.NONE) return OK;
  if (t < 0 || t >= nT) return fail(E_HEADER, -1, R_TENSOR_REF);
  const r = trec(t);
  if (u8f(r, F.T_KIND) != F.KIND_CONSTANT || u8f(r, F.T_DTYPE) != F.DTYPE_FLOAT32 || u8f(r, F.T_ENCODING) != F.ENCODING_RAW) return fail(E_TENSOR, t, R_FIELD);
  const x = trec(inputT);
  const c = i32f(r, F.T_DIMS + 4);
  if (u8f(r, F.T_RANK) != 2 || i32f(r, F.T_DIMS) != 2 || (c != 1 && c != i32f(x, F.T_DIMS + ((<i32>u8f(x, F.T_RANK) - 1) << 2)))) return fail(E_TENSOR, t, R_SHAPE);
  const p = data + <usize>load<u32>(r + F.T_DATA_OFFSET);
  for (let i = 0; i < 2 * c; i++) if (!finite(load<f32>(p + (<usize>i << 2)))) return fail(E_TENSOR, t, R_FIELD);
  pixelC = c; pixelRule = p;
  return OK;
}

function checkTensor(t: i32, dataLen: u64): i32 {
  const r = trec(t);
  const dtype = u8f(r, F.T_DTYPE);
  const kind = u8f(r, F.T_KIND);
  const rk = u8f(r, F.T_RANK);
  const enc = u8f(r, F.T_ENCODING);
  if (dtype < F.DTYPE_INT8 || dtype > F.DTYPE_FLOAT32 || kind > F.KIND_CONSTANT) return fail(E_TENSOR, t, R_FIELD);
  if (rk < 1 || rk > 4) return fail(E_TENSOR, t, R_SHAPE);
  if (load<u32>(r + F.T_RESERVED) != 0) return fail(E_TENSOR, t, R_FIELD);
  let n: u64 = 1;
  for (let d = 0; d < 4; d++) {
    const v = u32f(r, F.T_DIMS + (d << 2));
    if (d < rk) {
      if (v < 1 || v > <u64>F.MAX_DIM) return fail(E_TENSOR, t, R_SHAPE);
      n *= v;
      if (n > <u64>F.MAX_ELEMENTS) return fail(E_TENSOR, t, R_LIMIT);
    } else if (v != 0) {
      return fail(E_TENSOR, t, R_SHAPE);
    }
  }
  setArr(tElems, t, <i32>n);
  const scale = f32f(r, F.T_SCALE);
  const zp = i32f(r, F.T_ZERO_POINT);
  const dOff = u32f(r, F.T_DATA_OFFSET);
  const dSize = u32f(r, F.T_DATA_SIZE);
  const sOff = u32f(r, F.T_SCALES_OFFSET);
  const sCount = u32f(r, F.T_SCALE_COUNT);
  if (kind == F.KIND_ACTIVATION) {
    if (enc != F.ENCODING_RAW || dOff != 0 || dSize != 0 || sOff != 0 || sCount != 0) return fail(E_TENSOR, t, R_FIELD);
    if (dtype == F.DTYPE_INT32) return fail(E_TENSOR, t, R_FIELD);
    if (dtype == F.DTYPE_INT8 && (!finite(scale) || scale <= 0 || zp < -128 || zp > 127)) return fail(E_TENSOR, t, R_QUANT);
    if (dtype == F.DTYPE_FLOAT32 && (scale != 0 || zp != 0)) return fail(E_TENSOR, t, R_QUANT);
    return OK;
  }
  // constants
  if ((dOff & 15) != 0) return fail(E_TENSOR, t, R_ALIGN);
  if (dOff + dSize > dataLen) return fail(E_TENSOR, t, R_RANGE);
  const width: u64 = dtype == F.DTYPE_INT8 ? 1 : 4;
  if (enc == F.ENCODING_RAW) {
    if (dSize != n * width) return fail(E_TENSOR, t, R_ENCODING);
    if (dtype == F.DTYPE_INT8) {
      let nnz: i32 = 0;
      for (let i: u64 = 0; i < n; i++) if (load<i8>(data + <usize>(dOff + i)) != 0) nnz++;
      setArr(tNnz, t, nnz);
    }
  } else if (enc == F.ENCODING_BITMASK) {
    if (dtype != F.DTYPE_INT8) return fail(E_TENSOR, t, R_ENCODING);
    const maskBytes = (n + 7) >> 3;
    if (dSize < maskBytes) return fail(E_TENSOR, t, R_ENCODING);
    let nnz: u64 = 0;
    const mask = data + <usize>dOff;
    for (let i: u64 = 0; i < maskBytes; i++) nnz += <u64>popcnt<u32>(load<u8>(mask + <usize>i));
    // bits past the last element must be clear
    if ((n & 7) != 0 && (load<u8>(mask + <usize>(maskBytes - 1)) >> <u8>(n & 7)) != 0) return fail(E_TENSOR, t, R_ENCODING);
    if (dSize != maskBytes + nnz) return fail(E_TENSOR, t, R_ENCODING);
    setArr(tNnz, t, <i32>nnz);
  } else if (enc == F.ENCODING_RLE_HUFFMAN) {
    if (dtype != F.DTYPE_INT8) return fail(E_TENSOR, t, R_ENCODING);
    const nnz = rle_huffman_decode(data + <usize>dOff, <usize>dSize, <usize>n, 0);
    if (nnz < 0) return fail(E_TENSOR, t, R_ENCODING);
    setArr(tNnz, t, <i32>nnz);
  } else {
    return fail(E_TENSOR, t, R_ENCODING);
  }
  if (dtype != F.DTYPE_INT8) {
    if (scale != 0 || zp != 0 || sCount != 0 || sOff != 0) return fail(E_TENSOR, t, R_QUANT);
    return OK;
  }
  if (zp != 0) return fail(E_TENSOR, t, R_QUANT); // int8 weights are symmetric
  if (sCount == 0) {
    if (sOff != 0 || !finite(scale) || scale <= 0) return fail(E_TENSOR, t, R_QUANT);
    return OK;
  }
  if (scale != 0 || sCount != u32f(r, F.T_DIMS)) return fail(E_TENSOR, t, R_QUANT);
  if ((sOff & 3) != 0) return fail(E_TENSOR, t, R_ALIGN);
  if (sOff + sCount * 4 > dataLen) return fail(E_TENSOR, t, R_RANGE);
  for (let i: u64 = 0; i < sCount; i++) {
    const s = load<f32>(data + <usize>(sOff + i * 4));
    if (!finite(s) || s <= 0) return fail(E_TENSOR, t, R_QUANT);
  }
  return OK;
}

// Per-channel scales of constant t, or 0 when it has one per-tensor scale.
// @ts-ignore: decorator
@inline function channelScalesPtr(t: i32): usize {
  const r = trec(t);
  return load<u32>(r + F.T_SCALE_COUNT) ? data + <usize>load<u32>(r + F.T_SCALES_OFFSET) : 0;
}

function isActivation(t: i32, dtype: i32): bool {
  if (t < 0 || t >= nT) return false;
  const r = trec(t);
  return u8f(r, F.T_KIND) == F.KIND_ACTIVATION && u8f(r, F.T_DTYPE) == dtype;
}

function isConstant(t: i32, dtype: i32, rk: i32): bool {
  if (t < 0 || t >= nT) return false;
  const r = trec(t);
  return u8f(r, F.T_KIND) == F.KIND_CONSTANT && u8f(r, F.T_DTYPE) == dtype && u8f(r, F.T_RANK) == rk;
}

// @ts-ignore: decorator
@inline function shapeIs3(t: i32, a: i32, b: i32, c: i32): bool {
  return rank(t) == 3 && dim(t, 0) == a && dim(t, 1) == b && dim(t, 2) == c;
}

// @ts-ignore: decorator
@inline function sameShape(a: i32, b: i32): bool {
  const rk = rank(a);
  if (rank(b) != rk) return false;
  for (let d = 0; d < rk; d++) if (dim(a, d) != dim(b, d)) return false;
  return true;
}

// @ts-ignore: decorator
@inline function sameQuant(a: i32, b: i32): bool {
  return f32f(trec(a), F.T_SCALE) == f32f(trec(b), F.T_SCALE) && i32f(trec(a), F.T_ZERO_POINT) == i32f(trec(b), F.T_ZERO_POINT);
}

function checkOp(o: i32): i32 {
  const r = orec(o);
  const type = i32f(r, F.O_TYPE);
  if (type < 1 || type > F.OP_LAST) return fail(E_UNSUPPORTED_OP, o, R_FIELD);
  const x = i32f(r, F.O_INPUT);
  const y = i32f(r, F.O_OUTPUT);
  const w = i32f(r, F.O_WEIGHTS);
  const b = i32f(r, F.O_BIAS);
  const rw = i32f(r, F.O_RECURRENT);
  const act = i32f(r, F.O_ACTIVATION);
  const pad = i32f(r, F.O_PADDING);
  const p0 = i32f(r, F.O_PARAMS), p1 = i32f(r, F.O_PARAMS + 4), p2 = i32f(r, F.O_PARAMS + 8), p3 = i32f(r, F.O_PARAMS + 12);
  for (let i = 4; i < 8; i++) if (i32f(r, F.O_PARAMS + (i << 2)) != 0) return fail(E_OP, o, R_PARAM);
  if (!isActivation(x, F.DTYPE_INT8)) return fail(E_OP, o, R_TENSOR_REF);
  if (arr(tFirst, arr(tRoot, x)) == -2 || arr(tFirst, x) == -2) return fail(E_GRAPH, o, R_ORDER);
  if (y < 0 || y >= nT || u8f(trec(y), F.T_KIND) != F.KIND_ACTIVATION || y == x) return fail(E_OP, o, R_TENSOR_REF);
  if (arr(tFirst, y) != -2) return fail(E_GRAPH, o, R_ORDER);
  const yDtype = type == F.OP_SOFTMAX ? F.DTYPE_FLOAT32 : F.DTYPE_INT8;
  if (u8f(trec(y), F.T_DTYPE) != yDtype) return fail(E_OP, o, R_TENSOR_REF);
  if (pad != 0 && pad != PAD_SAME) return fail(E_OP, o, R_PARAM);
  const usesWeights = type == F.OP_CONV2D || type == F.OP_DEPTHWISE_CONV2D || type == F.OP_DENSE || type == F.OP_LSTM;
  const affine = type == F.OP_CHANNEL_AFFINE; // weights: f32 [2·C], a then b
  const binary = type == F.OP_ADD || type == F.OP_MULTIPLY || type == F.OP_CONCATENATE; // a second input in O_INPUT2
  if (!usesWeights && !affine && (w != F.NONE || b != F.NONE)) return fail(E_OP, o, R_TENSOR_REF);
  if (affine && b != F.NONE) return fail(E_OP, o, R_TENSOR_REF);
  if (type != F.OP_LSTM && !binary && rw != F.NONE) return fail(E_OP, o, R_TENSOR_REF);
  if (binary) {
    if (!isActivation(rw, F.DTYPE_INT8) || rw == y) return fail(E_OP, o, R_TENSOR_REF);
    if (arr(tFirst, arr(tRoot, rw)) == -2 || arr(tFirst, rw) == -2) return fail(E_GRAPH, o, R_ORDER);
  }
  const fusesActivation = usesWeights || type == F.OP_ADD || type == F.OP_MULTIPLY;
  if (!fusesActivation && type != F.OP_ACTIVATION && act != 0) return fail(E_OP, o, R_PARAM);
  if (type != F.OP_CONV2D && type != F.OP_DEPTHWISE_CONV2D && type != F.OP_MAX_POOL2D && type != F.OP_AVG_POOL2D && pad != 0) return fail(E_OP, o, R_PARAM);
  if (fusesActivation && type != F.OP_LSTM && (act < ACT_NONE || act > ACT_RELU6)) return fail(E_OP, o, R_PARAM);
  const ex = elems(x);
  let macs: u64 = 0;

  if (type == F.OP_CONV2D) {
    if (rank(x) != 3 || !isConstant(w, F.DTYPE_INT8, 4) || load<u32>(trec(w) + F.T_SCALE_COUNT) == 0) return fail(E_OP, o, R_TENSOR_REF);
    const h = dim(x, 0), wd = dim(x, 1), c = dim(x, 2);
    const f = dim(w, 0), kh = dim(w, 1), kw = dim(w, 2);
    if (dim(w, 3) != c) return fail(E_OP, o, R_SHAPE);
    if (b != F.NONE && (!isConstant(b, F.DTYPE_INT32, 1) || dim(b, 0) != f)) return fail(E_OP, o, R_TENSOR_REF);
    if (p0 < 1 || p1 < 1 || p0 > 64 || p1 > 64 || p2 != 0 || p3 != 0) return fail(E_OP, o, R_PARAM);
    const oh = window_out_size(h, kh, p0, pad), ow = window_out_size(wd, kw, p1, pad);
    if (oh < 1 || ow < 1 || !shapeIs3(y, oh, ow, f)) return fail(E_OP, o, R_SHAPE);
    if (!multipliersFinite(x, w, y)) return fail(E_OP, o, R_QUANT);
    macs = <u64>oh * <u64>ow * <u64>f * <u64>kh * <u64>kw * <u64>c;
  } else if (type == F.OP_DEPTHWISE_CONV2D) {
    // weights [c·m, kh, kw, 1]: output channel o reads input channel o / m
    if (rank(x) != 3 || !isConstant(w, F.DTYPE_INT8, 4) || load<u32>(trec(w) + F.T_SCALE_COUNT) == 0) return fail(E_OP, o, R_TENSOR_REF);
    const h = dim(x, 0), wd = dim(x, 1), c = dim(x, 2);
    const oc = dim(w, 0), kh = dim(w, 1), kw = dim(w, 2);
    if (p2 < 1 || p2 > 64 || dim(w, 3) != 1 || oc != c * p2) return fail(E_OP, o, R_SHAPE);
    if (b != F.NONE && (!isConstant(b, F.DTYPE_INT32, 1) || dim(b, 0) != oc)) return fail(E_OP, o, R_TENSOR_REF);
    if (p0 < 1 || p1 < 1 || p0 > 64 || p1 > 64 || p3 != 0) return fail(E_OP, o, R_PARAM);
    const oh = window_out_size(h, kh, p0, pad), ow = window_out_size(wd, kw, p1, pad);
    if (oh < 1 || ow < 1 || !shapeIs3(y, oh, ow, oc)) return fail(E_OP, o, R_SHAPE);
    if (!multipliersFinite(x, w, y)) return fail(E_OP, o, R_QUANT);
    macs = <u64>oh * <u64>ow * <u64>oc * <u64>kh * <u64>kw;
  } else if (type == F.OP_ADD || type == F.OP_MULTIPLY) {
    // y and x alike; x2 alike too, or a vector over x's last axis
    if (p0 != 0 || p1 != 0 || p2 != 0 || p3 != 0) return fail(E_OP, o, R_PARAM);
    if (!sameShape(x, y)) return fail(E_OP, o, R_SHAPE);
    // the vector: [..., 1, C] with C the last axis of x
    if (!sameShape(x, rw) && !(elems(rw) == dim(x, rank(x) - 1) && dim(rw, rank(rw) - 1) == elems(rw))) return fail(E_OP, o, R_SHAPE);
    const sx = f32f(trec(x), F.T_SCALE), s2 = f32f(trec(rw), F.T_SCALE), sy = f32f(trec(y), F.T_SCALE);
    const ok = type == F.OP_ADD ? finite(quant_multiplier(sx, 1, sy)) && finite(quant_multiplier(s2, 1, sy)) : finite(quant_multiplier(sx, s2, sy));
    if (!ok) return fail(E_OP, o, R_QUANT);
  } else if (type == F.OP_ACTIVATION) {
    // act: ACT_F_*; params[0]: alpha (f32 bits; leaky ReLU's slope, ELU's scale)
    if (act < 0 || act > F.ACT_F_LAST || !finite(reinterpret<f32>(p0)) || p1 != 0 || p2 != 0 || p3 != 0) return fail(E_OP, o, R_PARAM);
    if (!sameShape(x, y)) return fail(E_OP, o, R_SHAPE);
  } else if (type == F.OP_CHANNEL_AFFINE) {
    if (p0 != 0 || p1 != 0 || p2 != 0 || p3 != 0) return fail(E_OP, o, R_PARAM);
    if (!sameShape(x, y)) return fail(E_OP, o, R_SHAPE);
    const c = dim(x, rank(x) - 1);
    if (!isConstant(w, F.DTYPE_FLOAT32, 1) || dim(w, 0) != 2 * c) return fail(E_OP, o, R_TENSOR_REF);
    const pa = data + <usize>load<u32>(trec(w) + F.T_DATA_OFFSET);
    const sx = f32f(trec(x), F.T_SCALE), sy = f32f(trec(y), F.T_SCALE);
    for (let i = 0; i < c; i++) {
      const a = load<f32>(pa + (<usize>i << 2)), bb = load<f32>(pa + (<usize>(c + i) << 2));
      if (!finite(a) || !finite(bb) || !finite(<f32>((<f64>sx * <f64>a) / <f64>sy)) || !finite(<f32>(<f64>bb / <f64>sy))) return fail(E_TENSOR, w, R_FIELD);
    }
  } else if (type == F.OP_CONCATENATE) {
    const rk = rank(x);
    if (p0 != 0 || p1 != 0 || p2 != 0 || p3 != 0) return fail(E_OP, o, R_PARAM);
    if (rank(rw) != rk || rank(y) != rk || dim(y, rk - 1) != dim(x, rk - 1) + dim(rw, rk - 1)) return fail(E_OP, o, R_SHAPE);
    for (let d = 0; d < rk - 1; d++) if (dim(x, d) != dim(y, d) || dim(rw, d) != dim(y, d)) return fail(E_OP, o, R_SHAPE);
    const sy = f32f(trec(y), F.T_SCALE);
    if (!finite(quant_multiplier(f32f(trec(x), F.T_SCALE), 1, sy)) || !finite(quant_multiplier(f32f(trec(rw), F.T_SCALE), 1, sy))) return fail(E_OP, o, R_QUANT);
  } else if (type == F.OP_DENSE) {
    if (rank(x) != 1 || !isConstant(w, F.DTYPE_INT8, 2) || load<u32>(trec(w) + F.T_SCALE_COUNT) == 0) return fail(E_OP, o, R_TENSOR_REF);
    const n = dim(w, 0);
    if (dim(w, 1) != ex) return fail(E_OP, o, R_SHAPE);
    if (b != F.NONE && (!isConstant(b, F.DTYPE_INT32, 1) || dim(b, 0) != n)) return fail(E_OP, o, R_TENSOR_REF);
    if (p0 != 0 || p1 != 0 || p2 != 0 || p3 != 0) return fail(E_OP, o, R_PARAM);
    if (rank(y) != 1 || dim(y, 0) != n) return fail(E_OP, o, R_SHAPE);
    if (!multipliersFinite(x, w, y)) return fail(E_OP, o, R_QUANT);
    macs = <u64>n * <u64>ex;
  } else if (type == F.OP_MAX_POOL2D || type == F.OP_AVG_POOL2D) {
    if (rank(x) != 3) return fail(E_OP, o, R_SHAPE);
    if (p0 < 1 || p1 < 1 || p2 < 1 || p3 < 1 || p0 > 4096 || p1 > 4096 || p2 > 4096 || p3 > 4096) return fail(E_OP, o, R_PARAM);
    const oh = window_out_size(dim(x, 0), p0, p2, pad), ow = window_out_size(dim(x, 1), p1, p3, pad);
    if (oh < 1 || ow < 1 || !shapeIs3(y, oh, ow, dim(x, 2))) return fail(E_OP, o, R_SHAPE);
    if (!sameQuant(x, y)) return fail(E_OP, o, R_QUANT);
  } else if (type == F.OP_UPSAMPLE2D) {
    if (p0 < 1 || p1 < 1 || p0 > 64 || p1 > 64 || p2 != 0 || p3 != 0) return fail(E_OP, o, R_PARAM);
    if (rank(x) != 3 || !shapeIs3(y, dim(x, 0) * p0, dim(x, 1) * p1, dim(x, 2))) return fail(E_OP, o, R_SHAPE);
    if (!sameQuant(x, y)) return fail(E_OP, o, R_QUANT);
  } else if (type == F.OP_PAD2D) {
    // top, bottom, left, right
    if (p0 < 0 || p1 < 0 || p2 < 0 || p3 < 0 || p0 > 4096 || p1 > 4096 || p2 > 4096 || p3 > 4096) return fail(E_OP, o, R_PARAM);
    if (rank(x) != 3 || !shapeIs3(y, dim(x, 0) + p0 + p1, dim(x, 1) + p2 + p3, dim(x, 2))) return fail(E_OP, o, R_SHAPE);
    if (!sameQuant(x, y)) return fail(E_OP, o, R_QUANT);
  } else if (type == F.OP_GLOBAL_AVG_POOL2D || type == F.OP_GLOBAL_MAX_POOL2D) {
    if (rank(x) != 3 || rank(y) != 1 || dim(y, 0) != dim(x, 2)) return fail(E_OP, o, R_SHAPE);
    if (p0 != 0 || p1 != 0 || p2 != 0 || p3 != 0) return fail(E_OP, o, R_PARAM);
    if (!sameQuant(x, y)) return fail(E_OP, o, R_QUANT);
  } else if (type == F.OP_RESHAPE) {
    if (elems(y) != ex) return fail(E_OP, o, R_SHAPE);
    if (p0 != 0 || p1 != 0 || p2 != 0 || p3 != 0) return fail(E_OP, o, R_PARAM);
    if (!sameQuant(x, y)) return fail(E_OP, o, R_QUANT);
  } else if (type == F.OP_SOFTMAX) {
    if (rank(x) != 1 || rank(y) != 1 || dim(y, 0) != dim(x, 0)) return fail(E_OP, o, R_SHAPE);
    if (p0 != 0 || p1 != 0 || p2 != 0 || p3 != 0) return fail(E_OP, o, R_PARAM);
  } else { // LSTM
    if (rank(x) != 2 || !isConstant(w, F.DTYPE_INT8, 2) || !isConstant(rw, F.DTYPE_INT8, 2) || !isConstant(b, F.DTYPE_FLOAT32, 1)) return fail(E_OP, o, R_TENSOR_REF);
    if (load<u32>(trec(w) + F.T_SCALE_COUNT) == 0 || load<u32>(trec(rw) + F.T_SCALE_COUNT) == 0) return fail(E_OP, o, R_QUANT);
    const steps = dim(x, 0), feat = dim(x, 1), n = dim(w, 0);
    const units = n >> 2;
    if ((n & 3) != 0 || dim(w, 1) != feat || dim(rw, 0) != n || dim(rw, 1) != units || dim(b, 0) != n) return fail(E_OP, o, R_SHAPE);
    if (act != ACT_F_RELU && act != ACT_F_TANH) return fail(E_OP, o, R_PARAM);
    if ((p0 != 0 && p0 != 1) || (p1 != ACT_F_SIGMOID && p1 != ACT_F_HARD_SIGMOID) || p2 != 0 || p3 != 0) return fail(E_OP, o, R_PARAM);
    if (p0 == 1 ? !(rank(y) == 2 && dim(y, 0) == steps && dim(y, 1) == units) : !(rank(y) == 1 && dim(y, 0) == units)) return fail(E_OP, o, R_SHAPE);
    // bias must be finite
    const bp = data + <usize>load<u32>(trec(b) + F.T_DATA_OFFSET);
    for (let i = 0; i < n; i++) if (!finite(load<f32>(bp + (<usize>i << 2)))) return fail(E_TENSOR, b, R_FIELD);
    macs = <u64>steps * <u64>n * <u64>(feat + units);
  }
  if (macs > 0xffffffff) return fail(E_OP, o, R_LIMIT);
  store<u32>(oMacs + (<usize>o << 2), <u32>macs);

  // lifetimes: y is produced here; a reshape shares x's buffer
  const rx = arr(tRoot, x);
  setArr(tLast, rx, o);
  if (binary) setArr(tLast, arr(tRoot, rw), o);
  setArr(tFirst, y, o);
  if (type == F.OP_RESHAPE) setArr(tRoot, y, rx);
  else setArr(tLast, y, o); // written here even if nothing reads it
  return OK;
}

// Each channel's requantization multiplier must be a finite f32: kernels then agree
// (NaN would not), and requantization is monotonic, which conv + max-pool fusion needs.
function multipliersFinite(x: i32, w: i32, y: i32): bool {
  const sx = f32f(trec(x), F.T_SCALE), sy = f32f(trec(y), F.T_SCALE);
  const ps = channelScalesPtr(w);
  const n = dim(w, 0);
  for (let i = 0; i < n; i++) {
    const sw = ps ? load<f32>(ps + (<usize>i << 2)) : f32f(trec(w), F.T_SCALE);
    if (!finite(quant_multiplier(sx, sw, sy))) return false;
  }
  return true;
}

// A conv2d whose only reader is the max pool right after it runs as one kernel when
// the pool windows do not overlap (each conv output is then computed at most once):
// the conv output is never stored.
function planFusion(): void {
  for (let o = 0; o + 1 < nO; o++) {
    const r = orec(o), p = orec(o + 1);
    if (i32f(r, F.O_TYPE) != F.OP_CONV2D || i32f(p, F.O_TYPE) != F.OP_MAX_POOL2D) continue;
    const y = i32f(r, F.O_OUTPUT);
    if (i32f(p, F.O_INPUT) != y || arr(tLast, y) != o + 1) continue;
    const kh = i32f(p, F.O_PARAMS), kw = i32f(p, F.O_PARAMS + 4);
    const sh = i32f(p, F.O_PARAMS + 8), sw = i32f(p, F.O_PARAMS + 12);
    if (sh < kh || sw < kw) continue;
    setArr(oFused, o, FUSED_CONV_MAXPOOL);
    setArr(oFused, o + 1, FUSED_DONE);
  }
}

// Field of the max pool conv2d o runs fused (window h, w, stride h, w, padding), or
// of the 1×1/1 'valid' pool, which pools nothing, when o runs alone.
// @ts-ignore: decorator
@inline function fusedPool(o: i32, field: i32): i32 {
  if (arr(oFused, o) == FUSED_CONV_MAXPOOL) return i32f(orec(o + 1), field);
  return field == F.O_PADDING ? 0 : 1;
}

// @ts-ignore: decorator
@inline function fusedAway(t: i32): bool {
  const o = arr(tFirst, t);
  return o >= 0 && arr(oFused, o) == FUSED_CONV_MAXPOOL;
}

// The op that writes t: a fused max pool's output is written by its conv's op.
// @ts-ignore: decorator
@inline function born(t: i32): i32 {
  const o = arr(tFirst, t);
  return o >= 0 && arr(oFused, o) == FUSED_DONE ? o - 1 : o;
}

// Greedy by size, as TFLite Micro's GreedyMemoryPlanner: largest buffer first, each at
// the lowest 16-aligned offset that does not overlap, in address and in lifetime, a
// buffer already placed.
function planArena(): i32 {
  const order = table(nT);
  if (!order) return fail(E_MEMORY, -1, R_LIMIT);
  let count = 0;
  for (let t = 0; t < nT; t++) {
    if (u8f(trec(t), F.T_KIND) != F.KIND_ACTIVATION || arr(tRoot, t) != t || arr(tFirst, t) == -2) continue;
    if (fusedAway(t)) { setArr(tArena, t, -1); continue; }
    setArr(order, count++, t);
  }
  // selection sort by bytes, descending (tensor counts are small)
  for (let i = 0; i < count; i++) {
    let best = i;
    for (let j = i + 1; j < count; j++) if (bufferBytes(arr(order, j)) > bufferBytes(arr(order, best))) best = j;
    const tmp = arr(order, i); setArr(order, i, arr(order, best)); setArr(order, best, tmp);
  }
  let total: u64 = 0;
  for (let i = 0; i < count; i++) {
    const t = arr(order, i);
    const size = bufferBytes(t);
    let offset: u64 = 0;
    let moved = true;
    while (moved) {
      moved = false;
      for (let j = 0; j < i; j++) {
        const u = arr(order, j);
        if (born(u) > arr(tLast, t) || born(t) > arr(tLast, u)) continue; // lifetimes apart
        const uo = <u64>arr(tArena, u);
        const ue = uo + bufferBytes(u);
        if (offset < ue && uo < offset + size) { offset = ue; moved = true; }
      }
    }
    if (offset + size > <u64>F.MAX_ARENA) return fail(E_GRAPH, t, R_LIMIT);
    setArr(tArena, t, <i32>offset);
    if (offset + size > total) total = offset + size;
  }
  for (let t = 0; t < nT; t++) if (arr(tRoot, t) != t) setArr(tArena, t, arr(tArena, arr(tRoot, t)));
  mem_release(order);
  arenaBytes1 = <usize>total;
  return OK;
}

// Bytes of one batch item of activation t, rounded up to 16.
function bufferBytes(t: i32): u64 {
  const width: u64 = u8f(trec(t), F.T_DTYPE) == F.DTYPE_FLOAT32 ? 4 : 1;
  return (<u64>elems(t) * width + 15) & ~15;
}

// Dense int8 values of constant t into dst (encoded constants are expanded).
function decode(t: i32, dst: usize): void {
  const r = trec(t);
  const n = <usize>elems(t);
  const src = data + <usize>load<u32>(r + F.T_DATA_OFFSET);
  const enc = u8f(r, F.T_ENCODING);
  if (enc == F.ENCODING_RAW) {
    memory.copy(dst, src, n);
    return;
  }
  if (enc == F.ENCODING_RLE_HUFFMAN) {
    rle_huffman_decode(src, <usize>load<u32>(r + F.T_DATA_SIZE), n, dst); // checked at load
    return;
  }
  let v = src + ((n + 7) >> 3);
  for (let i: usize = 0; i < n; i++) {
    if ((load<u8>(src + (i >> 3)) >> <u8>(i & 7)) & 1) {
      store<i8>(dst + i, load<i8>(v));
      v++;
    } else {
      store<i8>(dst + i, 0);
    }
  }
}

// Whether conv2d o runs faster on the sparse kernel, from a cost model fitted to
// bench/kernels.ts on the reference CNN's layers (2-core Zen 4, Node 20): a sparse
// slot (a weight pair × 32 outputs: 64 multiply-adds) costs ~1.5× a dense slot of the
// 2x4c8 gemm, and a 2x8c2 slot (K < 16) ~2.5× a 2x4c8 one.
const SPARSE_SCRATCH_LIMIT: u64 = 1 << 26;

function sparseIsFaster(o: i32, pairs: i32): bool {
  const r = orec(o);
  if (i32f(r, F.O_PARAMS) != 1 || i32f(r, F.O_PARAMS + 4) != 1) return false; // stride 1 only
  const x = i32f(r, F.O_INPUT), w = i32f(r, F.O_WEIGHTS), y = i32f(r, F.O_OUTPUT);
  const pad = i32f(r, F.O_PADDING);
  const pkh = fusedPool(o, F.O_PARAMS), psh = fusedPool(o, F.O_PARAMS + 8), ppad = fusedPool(o, F.O_PADDING);
  const n = dim(w, 0), k = elems(w) / n;
  // its scratch (planar padded input + int32 outputs) must stay small; this also keeps
  // the kernel's 32-bit size arithmetic exact for any shape a file may declare
  const kh = dim(w, 1), kw = dim(w, 2);
  const hp: u64 = <u64>dim(x, 0) + (pad ? <u64>kh - 1 : 0), wp: u64 = <u64>dim(x, 1) + (pad ? <u64>kw - 1 : 0);
  const scratchBound = <u64>dim(x, 2) * hp * wp + (<u64>n) * (hp * wp + 32) * 4 + <u64>kw + 64;
  if (scratchBound > SPARSE_SCRATCH_LIMIT) return false;
  const sparseSlots = <f64>pairs * <f64>conv2d_sparse_tiles(dim(x, 0), dim(x, 1), n, kh, kw, pad, pkh, psh, ppad) * 64;
  const kp = k < 16 ? (k + 1) & ~1 : (k + 7) & ~7;
  const denseSlots = <f64>dim(y, 0) * <f64>dim(y, 1) * <f64>((n + 3) & ~3) * <f64>kp * (k < 16 ? 2.5 : 1);
  return 3 * sparseSlots < 2 * denseSlots;
}

function packWeights(): i32 {
  weightBytes = 0;
  for (let o = 0; o < nO; o++) {
    const r = orec(o);
    const type = i32f(r, F.O_TYPE);
    if (type == F.OP_CHANNEL_AFFINE) {
      const x = i32f(r, F.O_INPUT), y = i32f(r, F.O_OUTPUT), w = i32f(r, F.O_WEIGHTS);
      const c = dim(x, rank(x) - 1);
      const table = mem_alloc(<usize>c << 3);
      if (!table) return fail(E_MEMORY, o, R_LIMIT);
      channel_affine_prepare(c, data + <usize>load<u32>(trec(w) + F.T_DATA_OFFSET), f32f(trec(x), F.T_SCALE), f32f(trec(y), F.T_SCALE), table);
      store<u32>(oPacked + (<usize>o << 2), <u32>table);
      store<u32>(oPackedSize + (<usize>o << 2), <u32>(c << 3));
      weightBytes += <usize>c << 3;
      continue;
    }
    if (type == F.OP_ACTIVATION) {
      // the 256 possible outputs, computed once
      const x = i32f(r, F.O_INPUT), y = i32f(r, F.O_OUTPUT);
      const table = mem_alloc(256);
      if (!table) return fail(E_MEMORY, o, R_LIMIT);
      activation_s8_table(i32f(r, F.O_ACTIVATION), reinterpret<f32>(i32f(r, F.O_PARAMS)), f32f(trec(x), F.T_SCALE), i32f(trec(x), F.T_ZERO_POINT),
        f32f(trec(y), F.T_SCALE), i32f(trec(y), F.T_ZERO_POINT), table);
      store<u32>(oPacked + (<usize>o << 2), <u32>table);
      store<u32>(oPackedSize + (<usize>o << 2), 256);
      weightBytes += 256;
      continue;
    }
    if (type != F.OP_CONV2D && type != F.OP_DEPTHWISE_CONV2D && type != F.OP_DENSE && type != F.OP_LSTM) continue;
    const x = i32f(r, F.O_INPUT), y = i32f(r, F.O_OUTPUT), w = i32f(r, F.O_WEIGHTS), b = i32f(r, F.O_BIAS);
    const n = dim(w, 0);
    const k = elems(w) / n;
    let size: usize;
    let packed: usize;
    if (type == F.OP_LSTM) {
      const rw = i32f(r, F.O_RECURRENT);
      const units = n >> 2;
      size = lstm_packed_size(k, units);
      packed = mem_alloc(size);
      if (!packed) return fail(E_MEMORY, o, R_LIMIT);
      const sx = channelScalesPtr(w), sh = channelScalesPtr(rw);
      const tx = mem_alloc(<usize>elems(w));
      const th = mem_alloc(<usize>elems(rw));
      if (!tx || !th) return fail(E_MEMORY, o, R_LIMIT);
      decode(w, tx);
      decode(rw, th);
      lstm_pack(tx, sx, th, sh, k, units, f32f(trec(x), F.T_SCALE), i32f(trec(x), F.T_ZERO_POINT), packed);
      mem_release(tx);
      size += <usize>n << 2; // the f32 bias the kernel reads
    } else if (type == F.OP_DEPTHWISE_CONV2D) {
      const kh = dim(w, 1), kw = dim(w, 2);
      size = depthwise_conv2d_packed_size(n, kh, kw);
      packed = mem_alloc(size);
      const tw = mem_alloc(<usize>elems(w));
      if (!packed || !tw) return fail(E_MEMORY, o, R_LIMIT);
      decode(w, tw);
      const bias = b == F.NONE ? 0 : data + <usize>load<u32>(trec(b) + F.T_DATA_OFFSET);
      depthwise_conv2d_pack(tw, n, kh, kw, bias, channelScalesPtr(w), f32f(trec(x), F.T_SCALE), i32f(trec(x), F.T_ZERO_POINT), f32f(trec(y), F.T_SCALE), packed);
      mem_release(tw);
    } else {
      // the kernel choice needs the weights: decode them once to count, then again
      // above the packed block (the allocator releases in stack order)
      let tw = mem_alloc(<usize>elems(w));
      if (!tw) return fail(E_MEMORY, o, R_LIMIT);
      decode(w, tw);
      const pairs = type == F.OP_CONV2D ? conv2d_sparse_pairs(tw, n, k) : 0;
      mem_release(tw);
      const sparse = type == F.OP_CONV2D && sparseIsFaster(o, pairs);
      size = sparse ? conv2d_sparse_packed_size(n, pairs) : gemm_packed_size(n, k);
      packed = mem_alloc(size);
      tw = mem_alloc(<usize>elems(w));
      if (!packed || !tw) return fail(E_MEMORY, o, R_LIMIT);
      decode(w, tw);
      const sw = channelScalesPtr(w);
      const bias = b == F.NONE ? 0 : data + <usize>load<u32>(trec(b) + F.T_DATA_OFFSET);
      const inScale = f32f(trec(x), F.T_SCALE), inZp = i32f(trec(x), F.T_ZERO_POINT), outScale = f32f(trec(y), F.T_SCALE);
      if (sparse) {
        conv2d_sparse_pack(tw, n, dim(w, 1), dim(w, 2), dim(x, 2), dim(x, 0), dim(x, 1), i32f(r, F.O_PADDING),
          bias, sw, inScale, inZp, outScale, packed);
        setArr(oSparse, o, 1);
      } else {
        gemm_pack(tw, n, k, bias, sw, inScale, inZp, outScale, packed);
      }
      mem_release(tw);
    }
    store<u32>(oPacked + (<usize>o << 2), <u32>packed);
    store<u32>(oPackedSize + (<usize>o << 2), <u32>size);
    weightBytes += size;
  }
  return OK;
}

// ---- buffers for a batch size ------------------------------------------------------

function scratchBytes(batch: i32): u64 {
  let most: u64 = 0;
  for (let o = 0; o < nO; o++) {
    const r = orec(o);
    const type = i32f(r, F.O_TYPE);
    const x = i32f(r, F.O_INPUT);
    let need: u64 = 0;
    if (type == F.OP_CONV2D) {
      const w = i32f(r, F.O_WEIGHTS);
      const sw = i32f(r, F.O_PARAMS + 4), pad = i32f(r, F.O_PADDING);
      if (arr(oSparse, o)) {
        need = <u64>conv2d_sparse_scratch_size(dim(x, 0), dim(x, 1), dim(x, 2), dim(w, 0), dim(w, 1), dim(w, 2), pad,
          fusedPool(o, F.O_PARAMS), fusedPool(o, F.O_PARAMS + 8), fusedPool(o, F.O_PADDING));
      } else if (arr(oFused, o) == FUSED_CONV_MAXPOOL) {
        need = <u64>conv2d_maxpool2d_scratch_size(dim(x, 1), dim(x, 2), dim(w, 0), dim(w, 1), dim(w, 2), sw, pad,
          fusedPool(o, F.O_PARAMS), fusedPool(o, F.O_PARAMS + 4), fusedPool(o, F.O_PARAMS + 12), fusedPool(o, F.O_PADDING));
      } else {
        need = <u64>conv2d_scratch_size(dim(x, 1), dim(x, 2), dim(w, 1), dim(w, 2), sw, pad);
      }
    } else if (type == F.OP_LSTM) {
      need = <u64>lstm_scratch_size(batch, dim(x, 0), dim(i32f(r, F.O_WEIGHTS), 0) >> 2);
    }
    if (need > most) most = need;
  }
  return most;
}

// Makes room for `batch` items. Buffers only grow; a smaller batch reuses them.
export function model_prepare(batch: i32): i32 {
  if (!loaded) return E_NO_MODEL;
  if (batch < 1 || batch > 65536) return fail(E_BATCH, batch, R_LIMIT);
  if (batch <= capacity) return OK;
  const a = <u64>arenaBytes1 * <u64>batch;
  const s = scratchBytes(batch);
  const i = <u64>elems(inputT) * 4 * <u64>batch;
  const out = <u64>elems(outputT) * 4 * <u64>batch;
  if (a + s + i + out > 0x7ff00000) return fail(E_BATCH, batch, R_LIMIT);
  const pa = mem_alloc(<usize>a);
  const ps = mem_alloc(<usize>s);
  const pi = mem_alloc(<usize>i);
  const po = mem_alloc(<usize>out);
  if (!pa || !ps || !pi || !po) return fail(E_MEMORY, batch, R_LIMIT);
  arena = pa; scratch = ps; inStage = pi; outStage = po;
  capacity = batch;
  return OK;
}

// @ts-ignore: decorator
@inline function buf(t: i32, batch: i32): usize {
  return arena + <usize>load<u32>(tArena + (<usize>t << 2)) * <usize>batch;
}

// Runs `batch` items: input from model_input_ptr (f32 when inputKind is 0, u8 pixels
// when 1), output as f32 at model_output_ptr.
export function model_run(batch: i32, inputKind: i32): i32 {
  if (!loaded) return E_NO_MODEL;
  if (batch < 1 || batch > capacity) return fail(E_BATCH, batch, R_LIMIT);
  if (inputKind != 0 && pixelC == 0) return fail(E_NO_PIXEL_RULE, -1, R_FIELD);
  const xr = trec(inputT);
  const inv: f32 = <f32>1.0 / f32f(xr, F.T_SCALE);
  const zp = i32f(xr, F.T_ZERO_POINT);
  const n = elems(inputT) * batch;
  const x = buf(inputT, batch);
  if (inputKind == 0) {
    for (let i = 0; i < n; i++) {
      store<i8>(x + <usize>i, quantize((load<f32>(inStage + (<usize>i << 2)) * floatMul + floatAdd) * inv, zp, -128, 127));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const c = <usize>(i % pixelC);
      const v = <f32>load<u8>(inStage + <usize>i) * load<f32>(pixelRule + (c << 2)) + load<f32>(pixelRule + ((<usize>pixelC + c) << 2));
      store<i8>(x + <usize>i, quantize(v * inv, zp, -128, 127));
    }
  }
  for (let o = 0; o < nO; o++) runOp(o, batch);
  const yr = trec(outputT);
  const y = buf(outputT, batch);
  const m = elems(outputT) * batch;
  if (u8f(yr, F.T_DTYPE) == F.DTYPE_FLOAT32) {
    memory.copy(outStage, y, <usize>m << 2);
  } else {
    const s = f32f(yr, F.T_SCALE);
    const z = i32f(yr, F.T_ZERO_POINT);
    for (let i = 0; i < m; i++) store<f32>(outStage + (<usize>i << 2), s * <f32>(<i32>load<i8>(y + <usize>i) - z));
  }
  return OK;
}

function runOp(o: i32, batch: i32): void {
  const fused = arr(oFused, o);
  if (fused == FUSED_DONE) return;
  const r = orec(o);
  const type = i32f(r, F.O_TYPE);
  const x = i32f(r, F.O_INPUT), y = i32f(r, F.O_OUTPUT);
  const px = buf(x, batch);
  const act = i32f(r, F.O_ACTIVATION), pad = i32f(r, F.O_PADDING);
  const p0 = i32f(r, F.O_PARAMS), p1 = i32f(r, F.O_PARAMS + 4), p2 = i32f(r, F.O_PARAMS + 8), p3 = i32f(r, F.O_PARAMS + 12);
  const packed = <usize>load<u32>(oPacked + (<usize>o << 2));
  const ys = f32f(trec(y), F.T_SCALE), yz = i32f(trec(y), F.T_ZERO_POINT);
  if (type == F.OP_CONV2D && arr(oSparse, o)) {
    const w = i32f(r, F.O_WEIGHTS);
    const out = fused == FUSED_CONV_MAXPOOL ? i32f(orec(o + 1), F.O_OUTPUT) : y;
    conv2d_maxpool2d_s8_sparse(px, batch, dim(x, 0), dim(x, 1), dim(x, 2), packed, dim(w, 0), dim(w, 1), dim(w, 2),
      pad, i32f(trec(x), F.T_ZERO_POINT), ys, yz, act,
      fusedPool(o, F.O_PARAMS), fusedPool(o, F.O_PARAMS + 4), fusedPool(o, F.O_PARAMS + 8),
      fusedPool(o, F.O_PARAMS + 12), fusedPool(o, F.O_PADDING), buf(out, batch), scratch);
    return;
  }
  if (fused == FUSED_CONV_MAXPOOL) {
    const w = i32f(r, F.O_WEIGHTS), p = orec(o + 1);
    conv2d_maxpool2d_s8_im2col(px, batch, dim(x, 0), dim(x, 1), dim(x, 2), packed, dim(w, 0), dim(w, 1), dim(w, 2),
      p0, p1, pad, i32f(trec(x), F.T_ZERO_POINT), ys, yz, act,
      i32f(p, F.O_PARAMS), i32f(p, F.O_PARAMS + 4), i32f(p, F.O_PARAMS + 8), i32f(p, F.O_PARAMS + 12), i32f(p, F.O_PADDING),
      buf(i32f(p, F.O_OUTPUT), batch), scratch);
    return;
  }
  const py = buf(y, batch);
  if (type == F.OP_CONV2D) {
    const w = i32f(r, F.O_WEIGHTS);
    conv2d_s8_im2col(px, batch, dim(x, 0), dim(x, 1), dim(x, 2), packed, dim(w, 0), dim(w, 1), dim(w, 2),
      p0, p1, pad, i32f(trec(x), F.T_ZERO_POINT), ys, yz, act, py, scratch);
  } else if (type == F.OP_DEPTHWISE_CONV2D) {
    const w = i32f(r, F.O_WEIGHTS);
    depthwise_conv2d_s8_c8(px, batch, dim(x, 0), dim(x, 1), dim(x, 2), packed, p2, dim(w, 1), dim(w, 2),
      p0, p1, pad, i32f(trec(x), F.T_ZERO_POINT), ys, yz, act, py);
  } else if (type == F.OP_ADD || type == F.OP_MULTIPLY || type == F.OP_CONCATENATE) {
    const x2 = i32f(r, F.O_INPUT2);
    const px2 = buf(x2, batch);
    const xs = f32f(trec(x), F.T_SCALE), xz = i32f(trec(x), F.T_ZERO_POINT);
    const s2 = f32f(trec(x2), F.T_SCALE), z2 = i32f(trec(x2), F.T_ZERO_POINT);
    if (type == F.OP_ADD) add_s8_x16(px, px2, batch, elems(x), elems(x2), xs, xz, s2, z2, ys, yz, act, py);
    else if (type == F.OP_MULTIPLY) multiply_s8_x16(px, px2, batch, elems(x), elems(x2), xs, xz, s2, z2, ys, yz, act, py);
    else {
      const ca = dim(x, rank(x) - 1), cb = dim(x2, rank(x2) - 1);
      concat_s8_x16(px, px2, batch * (elems(x) / ca), ca, cb, xs, xz, s2, z2, ys, yz, py);
    }
  } else if (type == F.OP_ACTIVATION) {
    activation_s8_lut(px, batch * elems(x), packed, py);
  } else if (type == F.OP_CHANNEL_AFFINE) {
    channel_affine_s8_table(px, batch * elems(x), dim(x, rank(x) - 1), packed, i32f(trec(x), F.T_ZERO_POINT), yz, py);
  } else if (type == F.OP_DENSE) {
    dense_s8_gemm(px, batch, elems(x), packed, elems(y), ys, yz, act, py);
  } else if (type == F.OP_MAX_POOL2D) {
    maxpool2d_s8_c16(px, batch, dim(x, 0), dim(x, 1), dim(x, 2), p0, p1, p2, p3, pad, py);
  } else if (type == F.OP_AVG_POOL2D) {
    avgpool2d_s8_c16(px, batch, dim(x, 0), dim(x, 1), dim(x, 2), p0, p1, p2, p3, pad, py);
  } else if (type == F.OP_GLOBAL_MAX_POOL2D) {
    global_maxpool2d_s8_c16(px, batch, dim(x, 0), dim(x, 1), dim(x, 2), py);
  } else if (type == F.OP_UPSAMPLE2D) {
    upsample2d_s8_rows(px, batch, dim(x, 0), dim(x, 1), dim(x, 2), p0, p1, py);
  } else if (type == F.OP_PAD2D) {
    pad2d_s8_rows(px, batch, dim(x, 0), dim(x, 1), dim(x, 2), p0, p1, p2, p3, i32f(trec(x), F.T_ZERO_POINT), py);
  } else if (type == F.OP_GLOBAL_AVG_POOL2D) {
    global_avgpool2d_s8_c16(px, batch, dim(x, 0), dim(x, 1), dim(x, 2), py);
  } else if (type == F.OP_SOFTMAX) {
    softmax_s8_f32(px, batch, elems(x), f32f(trec(x), F.T_SCALE), py);
  } else if (type == F.OP_LSTM) {
    const w = i32f(r, F.O_WEIGHTS), b = i32f(r, F.O_BIAS);
    lstm_s8_gemm(px, batch, dim(x, 0), dim(x, 1), dim(w, 0) >> 2, packed, data + <usize>load<u32>(trec(b) + F.T_DATA_OFFSET),
      ys, yz, act, p1, p0, py, scratch);
  }
  // OP_RESHAPE: the output shares the input's buffer
}

// ---- what hosts read back ------------------------------------------------------------

export function model_input_ptr(): usize { return inStage; }
export function model_output_ptr(): usize { return outStage; }
export function model_arena_bytes(): usize { return arenaBytes1 + <usize>scratchBytes(1); }
export function model_weight_bytes(): usize { return weightBytes; }
// The scratch the kernels share at batch 1 (part of model_arena_bytes).
export function model_scratch_bytes(): usize { return loaded ? <usize>scratchBytes(1) : 0; }
// What any plan needs at batch 1: the most bytes of activations alive at once (at some
// op, every tensor written at or before it and read at or after it). The planned arena
// (model_arena_bytes, less scratch) is at least this; the gap is fragmentation.
export function model_arena_live_peak(): usize {
  if (!loaded) return 0;
  let most: u64 = 0;
  for (let o = 0; o < nO; o++) {
    let live: u64 = 0;
    for (let t = 0; t < nT; t++) {
      if (u8f(trec(t), F.T_KIND) != F.KIND_ACTIVATION || arr(tRoot, t) != t || arr(tFirst, t) == -2 || fusedAway(t)) continue;
      if (born(t) <= o && o <= arr(tLast, t)) live += bufferBytes(t);
    }
    if (live > most) most = live;
  }
  return <usize>most;
}
export function model_metadata_ptr(): usize { return base + <usize>load<u32>(base + F.H_META_OFFSET); }
export function model_metadata_size(): usize { return <usize>load<u32>(base + F.H_META_SIZE); }
export function model_tensor_count(): i32 { return loaded ? nT : 0; }
export function model_op_count(): i32 { return loaded ? nO : 0; }
export function model_input_tensor(): i32 { return inputT; }
export function model_output_tensor(): i32 { return outputT; }
export function model_format_version(): i32 { return loaded ? version : 0; }
// The pixel rule: channels it covers (0: the model takes no pixel inputs), and its
// mul (which 0) or add (which 1) for channel c.
export function model_pixel_channels(): i32 { return loaded ? pixelC : 0; }
export function model_pixel_rule(c: i32, which: i32): f32 {
  if (!loaded || c < 0 || c >= pixelC || which < 0 || which > 1) return 0;
  return load<f32>(pixelRule + (<usize>(which * pixelC + c) << 2));
}

// Tensor t, field: 0 dtype, 1 kind, 2 rank, 3 encoding, 4–7 dims, 8 zero point,
// 9 data bytes, 10 scale count, 11 non-zeros (int8 constants), 12 elements,
// 13 arena offset at batch 1 (−1: never stored, a fused conv2d's output).
export function model_tensor_info(t: i32, field: i32): i32 {
  if (!loaded || t < 0 || t >= nT) return -1;
  const r = trec(t);
  if (field == 0) return u8f(r, F.T_DTYPE);
  if (field == 1) return u8f(r, F.T_KIND);
  if (field == 2) return u8f(r, F.T_RANK);
  if (field == 3) return u8f(r, F.T_ENCODING);
  if (field >= 4 && field < 8) return i32f(r, F.T_DIMS + ((field - 4) << 2));
  if (field == 8) return i32f(r, F.T_ZERO_POINT);
  if (field == 9) return i32f(r, F.T_DATA_SIZE);
  if (field == 10) return i32f(r, F.T_SCALE_COUNT);
  if (field == 11) return arr(tNnz, t);
  if (field == 12) return elems(t);
  if (field == 13) return arr(tArena, t);
  return -1;
}

// Scale of tensor t; for per-channel constants, channel c's.
export function model_tensor_scale(t: i32, c: i32): f32 {
  if (!loaded || t < 0 || t >= nT) return 0;
  const p = channelScalesPtr(t);
  if (!p) return f32f(trec(t), F.T_SCALE);
  if (c < 0 || c >= dim(t, 0)) return 0;
  return load<f32>(p + (<usize>c << 2));
}

// Op o, field: 0 type, 1 input, 2 output, 3 weights, 4 bias, 5 recurrent,
// 6 activation, 7 padding, 8–11 params, 12 packed weight bytes, 13 MACs per item,
// 14 fusion: 0 runs alone, 1 also runs the next op (conv2d + max pool), 2 runs inside
// the previous op; 15 kernel: 1 sparse conv2d, else 0.
export function model_op_info(o: i32, field: i32): i32 {
  if (!loaded || o < 0 || o >= nO) return -1;
  if (field >= 0 && field < 12) return i32f(orec(o), field << 2);
  if (field == 12) return arr(oPackedSize, o);
  if (field == 13) return arr(oMacs, o);
  if (field == 14) return arr(oFused, o);
  if (field == 15) return arr(oSparse, o);
  return -1;
}
