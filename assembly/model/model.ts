// The model engine: validates an .edgeq file in wasm memory, plans the activation
// arena, prepares the ops, and runs the graph. One model per instance.
//
// A model file is untrusted input. Every header field, table record, offset, size,
// count, shape and op parameter is checked before it is used (docs/FORMAT.md lists the
// rules), with 64-bit arithmetic where a sum or product could wrap. A failed check
// returns a negative status; model_error_index / model_error_reason say where and why.
//
// This file is the op-independent core: the header and tensor table, the graph's
// order and lifetimes, the arena plan, and loops over the op registry
// (assembly/ops/registry.ts) for each op's checks, preparation and run.

import * as F from "../format";
import { mem_alloc, mem_release } from "../memory";
import { MAGIC_BITS, quantize, quantize4 } from "../quant";
import { crc32 } from "./crc32";
import { codebook_values, rle_huffman_values } from "./huffman";
import {
  E_BATCH, E_CHECKSUM, E_GRAPH, E_HEADER, E_MAGIC, E_MEMORY, E_NO_MODEL, E_INPUT_VALUE, E_NO_PIXEL_RULE, E_OP, E_TENSOR, E_TRUNCATED,
  E_UNSUPPORTED_OP, E_VERSION, FUSED_DONE, FUSED_NEXT, OK, R_ALIGN, R_ENCODING, R_FIELD, R_LIMIT, R_ORDER, R_PARAM, R_QUANT,
  R_RANGE, R_SHAPE, R_TENSOR_REF, allocTables, arr, buf, channelScalesPtr, setChannelScales, clearError, dim, elems, errIndex, errReason, data, f32f,
  fail, finite, i32f, isActivation, nO, nT, oFused, oKernel, oMacs, oPackedSize, opField20, opInput, opOutput,
  opType, orec, param, setArr, setBuffers, setModel, table, tArena, tElems, tFirst, tLast, tNnz, tRoot, trec, u32f, u8f,
} from "./context";
import { ALIAS, CHECK, F32_OUTPUT, FLAGS, FUSE_NEXT, PREPARE, READS_FIELD20, RUN, SCRATCH } from "../ops/registry";

export function model_error_index(): i32 { return errIndex; }
export function model_error_reason(): i32 { return errReason; }

// ---- the loaded model -------------------------------------------------------------

// sections and constant data start at multiples of F.DATA_ALIGN
const ALIGN_MASK: u64 = <u64>F.DATA_ALIGN - 1;

let loaded = false;
let base: usize = 0; // file bytes
let inputT: i32 = 0;
let outputT: i32 = 0;
let version: i32 = 0;
// Input rules: real input = float × floatMul + floatAdd (1 and 0 from version 2 on:
// float inputs are in the model's own units), = pixel × mul[c] + add[c] for pixels.
let floatMul: f32 = 1;
let floatAdd: f32 = 0;
let pixelC: i32 = 0; // channels the pixel rule covers: 0 none, 1 every value, else per channel (last axis)
let pixelRule: usize = 0; // f32 [2][pixelC]: the mul row, then the add row

let arenaBytes1: usize = 0; // activations at batch 1
let weightBytes: usize = 0;
let capacity: i32 = 0; // batch the buffers below hold
let inStage: usize = 0;
let outStage: usize = 0;

// ---- load -------------------------------------------------------------------------

// Validates and prepares the model in [ptr, ptr + len). The bytes must stay in place
// while the model is loaded. Returns OK or a negative status.
export function model_load(ptr: usize, len: usize): i32 {
  loaded = false;
  capacity = 0;
  clearError();
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
  if ((tOff & ALIGN_MASK) != 0 || (oOff & ALIGN_MASK) != 0 || (dOff & ALIGN_MASK) != 0) return fail(E_HEADER, -1, R_ALIGN);
  if (tOff < <u64>F.HEADER_SIZE || tOff + tc * F.TENSOR_RECORD_SIZE > size) return fail(E_HEADER, -1, R_RANGE);
  if (oOff < <u64>F.HEADER_SIZE || oOff + oc * F.OP_RECORD_SIZE > size) return fail(E_HEADER, -1, R_RANGE);
  if (mOff < <u64>F.HEADER_SIZE || mOff + mSize > size) return fail(E_HEADER, -1, R_RANGE);
  if (dOff < <u64>F.HEADER_SIZE || dOff > size) return fail(E_HEADER, -1, R_RANGE);
  const inMul = f32f(ptr, F.H_INPUT_MUL);
  const inAdd = f32f(ptr, F.H_INPUT_ADD);
  if (ver == 1 && (!finite(inMul) || !finite(inAdd))) return fail(E_HEADER, -1, R_FIELD);
  if (ver >= 2 && load<u32>(ptr + F.H_RESERVED) != 0) return fail(E_HEADER, -1, R_FIELD);

  base = ptr;
  setModel(<i32>tc, <i32>oc, ptr + <usize>tOff, ptr + <usize>oOff, ptr + <usize>dOff);
  const dataLen: u64 = size - dOff;
  version = <i32>ver;
  inputT = load<i32>(ptr + F.H_INPUT);
  outputT = load<i32>(ptr + F.H_OUTPUT);
  if (inputT < 0 || inputT >= nT || outputT < 0 || outputT >= nT || inputT == outputT) return fail(E_GRAPH, -1, R_TENSOR_REF);

  const rule = table(2);
  if (!rule) return fail(E_MEMORY, -1, R_LIMIT);
  if (!allocTables()) return fail(E_MEMORY, -1, R_LIMIT);

  for (let t = 0; t < nT; t++) {
    const s = checkTensor(t, dataLen);
    if (s != OK) return s;
    if (!setChannelScales(t)) return fail(E_MEMORY, t, R_LIMIT);
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
  const prepared = prepareOps();
  if (prepared != OK) return prepared;
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
  if ((dOff & ALIGN_MASK) != 0) return fail(E_TENSOR, t, R_ALIGN);
  if (dOff + dSize > dataLen) return fail(E_TENSOR, t, R_RANGE);
  const width: u64 = dtype == F.DTYPE_INT8 ? 1 : 4;
  if (enc == F.ENCODING_RAW) {
    if (dSize != n * width) return fail(E_TENSOR, t, R_ENCODING);
    if (dtype == F.DTYPE_INT8) {
      setArr(tNnz, t, nonZeros(data + <usize>dOff, <usize>n));
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
  } else if (enc == F.ENCODING_RLE_HUFFMAN || enc == F.ENCODING_CODEBOOK) {
    if (dtype != F.DTYPE_INT8) return fail(E_TENSOR, t, R_ENCODING);
    const nnz = enc == F.ENCODING_CODEBOOK
      ? codebook_values(data + <usize>dOff, <usize>dSize, <usize>n)
      : rle_huffman_values(data + <usize>dOff, <usize>dSize, <usize>n);
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

// The non-zero bytes in [p, p + n): 16 a step where the build has SIMD (a fresh engine
// loads in V8's baseline code, where the byte loop was half of an LSTM's tensor checks).
function nonZeros(p: usize, n: usize): i32 {
  let count: i32 = 0;
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = i8x16.splat(0);
    for (; i + 16 <= n; i += 16) count += popcnt<i32>(i8x16.bitmask(i8x16.ne(v128.load(p + i), zero)));
  }
  for (; i < n; i++) if (load<i8>(p + i) != 0) count++;
  return count;
}

// Checks op o: what every op shares (its input written before, its output not yet,
// the output's dtype, parameters 4–7 zero, a second input where the op reads one),
// then the op's own checks (the padding's range among them); records the lifetimes
// the arena planner uses.
function checkOp(o: i32): i32 {
  const type = opType(o);
  if (type < 1 || type > F.OP_LAST) return fail(E_UNSUPPORTED_OP, o, R_FIELD);
  const flags = unchecked(FLAGS[type]);
  for (let i = 4; i < 8; i++) if (param(o, i) != 0) return fail(E_OP, o, R_PARAM);
  const x = opInput(o), y = opOutput(o);
  if (!isActivation(x, F.DTYPE_INT8)) return fail(E_OP, o, R_TENSOR_REF);
  if (!written(x)) return fail(E_GRAPH, o, R_ORDER);
  if (y < 0 || y >= nT || u8f(trec(y), F.T_KIND) != F.KIND_ACTIVATION || y == x) return fail(E_OP, o, R_TENSOR_REF);
  if (arr(tFirst, y) != -2) return fail(E_GRAPH, o, R_ORDER);
  if (u8f(trec(y), F.T_DTYPE) != (flags & F32_OUTPUT ? F.DTYPE_FLOAT32 : F.DTYPE_INT8)) return fail(E_OP, o, R_TENSOR_REF);
  const x2 = opField20(o);
  if (flags & READS_FIELD20) {
    if (!isActivation(x2, F.DTYPE_INT8) || x2 == y) return fail(E_OP, o, R_TENSOR_REF);
    if (!written(x2)) return fail(E_GRAPH, o, R_ORDER);
  }
  const s = unchecked(CHECK[type])(o);
  if (s != OK) return s;

  // lifetimes: y is produced here; an alias shares x's buffer
  const rx = arr(tRoot, x);
  setArr(tLast, rx, o);
  if (flags & READS_FIELD20) setArr(tLast, arr(tRoot, x2), o);
  setArr(tFirst, y, o);
  if (flags & ALIAS) setArr(tRoot, y, rx);
  else setArr(tLast, y, o); // written here even if nothing reads it
  return OK;
}

// @ts-ignore: decorator
@inline function written(t: i32): bool {
  return arr(tFirst, arr(tRoot, t)) != -2 && arr(tFirst, t) != -2;
}

// Ops that run the op after them (conv2d + a max pool): the first writes the second's
// output, whose input is then never stored.
function planFusion(): void {
  for (let o = 0; o + 1 < nO; o++) {
    if (arr(oFused, o) != 0 || !unchecked(FUSE_NEXT[opType(o)])(o)) continue;
    setArr(oFused, o, FUSED_NEXT);
    setArr(oFused, o + 1, FUSED_DONE);
  }
}

// @ts-ignore: decorator
@inline function fusedAway(t: i32): bool {
  const o = arr(tFirst, t);
  return o >= 0 && arr(oFused, o) == FUSED_NEXT;
}

// The op that writes t: a fused op's output is written by the op before it.
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

function prepareOps(): i32 {
  weightBytes = 0;
  for (let o = 0; o < nO; o++) {
    const s = unchecked(PREPARE[opType(o)])(o);
    if (s != OK) return s;
    weightBytes += <usize>arr(oPackedSize, o);
  }
  return OK;
}

// ---- buffers for a batch size ------------------------------------------------------

function scratchBytes(batch: i32): u64 {
  let most: u64 = 0;
  for (let o = 0; o < nO; o++) {
    if (arr(oFused, o) == FUSED_DONE) continue;
    const need = unchecked(SCRATCH[opType(o)])(o, batch);
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
  setBuffers(pa, ps);
  inStage = pi; outStage = po;
  capacity = batch;
  return OK;
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
    const bad = quantizeFloats(x, n, inv, zp);
    if (bad >= 0) return fail(E_INPUT_VALUE, bad, R_FIELD);
  } else {
    quantizePixels(x, n, inv, zp);
  }
  for (let o = 0; o < nO; o++) {
    if (arr(oFused, o) != FUSED_DONE) unchecked(RUN[opType(o)])(o, batch);
  }
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

// Float inputs → int8 codes at x: (v × floatMul + floatAdd) / input scale, the one
// rounding rule. Returns the index of the first value that is not finite (the codes
// are then not all written), or −1.
function quantizeFloats(x: usize, n: i32, inv: f32, zp: i32): i32 {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // 16 values a step, the scalar's f32 operations lane by lane (quantize4)
    const mul = f32x4.splat(floatMul), add = f32x4.splat(floatAdd), scale = f32x4.splat(inv);
    const magic = i32x4.splat(MAGIC_BITS - zp), lo = f32x4.splat(<f32>(<i32>-128 - zp)), hi = f32x4.splat(<f32>(<i32>127 - zp));
    const zero = f32x4.splat(0);
    for (; i + 16 <= n; i += 16) {
      const p = inStage + (<usize>i << 2);
      const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
      // v − v is 0 for finite v, NaN for ±∞ and NaN
      const finite4 = f32x4.eq(f32x4.add(f32x4.add(f32x4.sub(v0, v0), f32x4.sub(v1, v1)), f32x4.add(f32x4.sub(v2, v2), f32x4.sub(v3, v3))), zero);
      if (!i32x4.all_true(finite4)) break; // the scalar loop finds which
      const q0 = quantize4(f32x4.mul(f32x4.add(f32x4.mul(v0, mul), add), scale), magic, lo, hi);
      const q1 = quantize4(f32x4.mul(f32x4.add(f32x4.mul(v1, mul), add), scale), magic, lo, hi);
      const q2 = quantize4(f32x4.mul(f32x4.add(f32x4.mul(v2, mul), add), scale), magic, lo, hi);
      const q3 = quantize4(f32x4.mul(f32x4.add(f32x4.mul(v3, mul), add), scale), magic, lo, hi);
      v128.store(x + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(inStage + (<usize>i << 2));
    if (!finite(v)) return i;
    store<i8>(x + <usize>i, quantize((v * floatMul + floatAdd) * inv, zp, -128, 127));
  }
  return -1;
}

// Pixels → int8 codes at x: pixel × mul[c] + add[c] (c = index mod pixelC, the pixel
// rule), then / input scale, the one rounding rule.
function quantizePixels(x: usize, n: i32, inv: f32, zp: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD && 12 % pixelC == 0) {
    // The rule repeats every 12 values (pixelC 1, 2, 3, 4, 6, 12): 12 values a step in
    // three f32x4 lanes groups, each lane with its channel's mul and add; the scalar's
    // f32 operations lane by lane. A step writes 16 bytes, the last 4 rewritten next.
    const m0 = ruleLanes(0, 0), m1 = ruleLanes(0, 4), m2 = ruleLanes(0, 8);
    const a0 = ruleLanes(pixelC, 0), a1 = ruleLanes(pixelC, 4), a2 = ruleLanes(pixelC, 8);
    const scale = f32x4.splat(inv);
    const magic = i32x4.splat(MAGIC_BITS - zp), lo = f32x4.splat(<f32>(<i32>-128 - zp)), hi = f32x4.splat(<f32>(<i32>127 - zp));
    for (; i + 16 <= n; i += 12) {
      const p = v128.load(inStage + <usize>i);
      const w0 = i16x8.extend_low_i8x16_u(p), w1 = i16x8.extend_high_i8x16_u(p);
      const f0 = f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(w0));
      const f1 = f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(w0));
      const f2 = f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(w1));
      const q0 = quantize4(f32x4.mul(f32x4.add(f32x4.mul(f0, m0), a0), scale), magic, lo, hi);
      const q1 = quantize4(f32x4.mul(f32x4.add(f32x4.mul(f1, m1), a1), scale), magic, lo, hi);
      const q2 = quantize4(f32x4.mul(f32x4.add(f32x4.mul(f2, m2), a2), scale), magic, lo, hi);
      v128.store(x + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q2)));
    }
  }
  for (let c = i % pixelC; i < n; i++) {
    const v = <f32>load<u8>(inStage + <usize>i) * load<f32>(pixelRule + (<usize>c << 2)) + load<f32>(pixelRule + (<usize>(pixelC + c) << 2));
    store<i8>(x + <usize>i, quantize(v * inv, zp, -128, 127));
    if (++c == pixelC) c = 0;
  }
}

// Four lanes of the pixel rule's row (0: mul, pixelC: add) for values at + 0 .. 3.
function ruleLanes(row: i32, at: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(pixelRule + (<usize>(row + (at % pixelC)) << 2)));
  v = f32x4.replace_lane(v, 1, load<f32>(pixelRule + (<usize>(row + ((at + 1) % pixelC)) << 2)));
  v = f32x4.replace_lane(v, 2, load<f32>(pixelRule + (<usize>(row + ((at + 2) % pixelC)) << 2)));
  v = f32x4.replace_lane(v, 3, load<f32>(pixelRule + (<usize>(row + ((at + 3) % pixelC)) << 2)));
  return v;
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
  if (!u32f(trec(t), F.T_SCALE_COUNT)) return f32f(trec(t), F.T_SCALE);
  const p = channelScalesPtr(t);
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
  if (field == 15) return arr(oKernel, o);
  return -1;
}
