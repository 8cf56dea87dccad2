// The loaded model as the ops see it (TFLite Micro's TfLiteContext): the file's tensor
// and op records, the tables the loader fills, the status codes, and the accessors
// every op module (assembly/ops/) uses to check, prepare and run its op.

import * as F from "../format";
import { mem_alloc } from "../memory";
import { quant_multiplier } from "../quant";
import { codebook_decode, rle_huffman_decode } from "./huffman";

// status codes and reasons: assembly/format.ts (used here, and by every op module through here)
import { E_OP, E_TENSOR, OK, R_ENCODING, R_LIMIT, R_PARAM, R_TENSOR_REF } from "../format";
export { OK, E_TRUNCATED, E_MAGIC, E_VERSION, E_CHECKSUM, E_HEADER, E_TENSOR, E_OP, E_UNSUPPORTED_OP, E_GRAPH, E_MEMORY, E_NO_MODEL, E_BATCH, E_NO_PIXEL_RULE, E_INPUT_VALUE, R_FIELD, R_RANGE, R_ALIGN, R_SHAPE, R_QUANT, R_ENCODING, R_TENSOR_REF, R_ORDER, R_PARAM, R_LIMIT } from "../format";

export let errIndex: i32 = -1;
export let errReason: i32 = 0;

export function fail(code: i32, index: i32, reason: i32): i32 {
  errIndex = index;
  errReason = reason;
  return code;
}

export function clearError(): void {
  errIndex = -1;
  errReason = 0;
}

// ---- the loaded model -------------------------------------------------------------

export let nT: i32 = 0;
export let nO: i32 = 0;
export let tensors: usize = 0; // record table
export let ops: usize = 0;
export let data: usize = 0; // data section

// runtime tables, allocated at load
export let tElems: usize = 0; // u32 [nT]: elements (per batch item for activations)
export let tNnz: usize = 0; // u32 [nT]: non-zero count of int8 constants
export let tArena: usize = 0; // u32 [nT]: arena offset at batch 1 (activations)
export let tScales: usize = 0; // u32 [nT]: int8 constants' per-channel scales (setChannelScales), else 0
export let tRoot: usize = 0; // i32 [nT]: tensor whose buffer this one shares (reshape)
export let tFirst: usize = 0; // i32 [nT]: op that produces it (-1: graph input, -2: none yet), root only
export let tLast: usize = 0; // i32 [nT]: last op that reads it (nO: graph output)
export let oPacked: usize = 0; // u32 [nO]: what prepare made (packed weights, tables)
export let oPackedSize: usize = 0; // u32 [nO]
export let oMacs: usize = 0; // u32 [nO]: multiply-accumulates per batch item
export let oFused: usize = 0; // i32 [nO]: FUSED_* (how the run loop runs it)
export let oKernel: usize = 0; // i32 [nO]: the kernel prepare chose, where an op has several (0: the default)

export let arena: usize = 0; // activations, at the batch size prepared
export let scratch: usize = 0; // shared by the ops, one at a time

// oFused: 0 runs alone (tables start zeroed)
export const FUSED_NEXT: i32 = 1; // also runs the op after it, whose output it writes
export const FUSED_DONE: i32 = 2; // run by the op before it: nothing left to run

// Points the context at a file's records; the loader checked their bounds.
export function setModel(tensorCount: i32, opCount: i32, tensorTable: usize, opTable: usize, dataSection: usize): void {
  nT = tensorCount; nO = opCount; tensors = tensorTable; ops = opTable; data = dataSection;
}

// Allocates the runtime tables; false when memory cannot grow.
export function allocTables(): bool {
  tElems = table(nT); tNnz = table(nT); tArena = table(nT); tRoot = table(nT);
  tFirst = table(nT); tLast = table(nT); tScales = table(nT);
  oPacked = table(nO); oPackedSize = table(nO); oMacs = table(nO); oFused = table(nO); oKernel = table(nO);
  return tElems && tNnz && tArena && tRoot && tFirst && tLast && tScales && oPacked && oPackedSize && oMacs && oFused && oKernel ? true : false;
}

export function setBuffers(arenaPtr: usize, scratchPtr: usize): void {
  arena = arenaPtr; scratch = scratchPtr;
}

export function table(count: i32): usize {
  const p = mem_alloc(<usize>count << 2);
  if (p) memory.fill(p, 0, <usize>count << 2);
  return p;
}

// ---- records -----------------------------------------------------------------------

// @ts-ignore: decorator
@inline export function u8f(rec: usize, field: i32): i32 { return <i32>load<u8>(rec + field); }
// @ts-ignore: decorator
@inline export function i32f(rec: usize, field: i32): i32 { return load<i32>(rec + field); }
// @ts-ignore: decorator
@inline export function u32f(rec: usize, field: i32): u64 { return <u64>load<u32>(rec + field); }
// @ts-ignore: decorator
@inline export function f32f(rec: usize, field: i32): f32 { return load<f32>(rec + field); }
// @ts-ignore: decorator
@inline export function trec(t: i32): usize { return tensors + <usize>t * F.TENSOR_RECORD_SIZE; }
// @ts-ignore: decorator
@inline export function orec(o: i32): usize { return ops + <usize>o * F.OP_RECORD_SIZE; }
// @ts-ignore: decorator
@inline export function arr(a: usize, i: i32): i32 { return load<i32>(a + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline export function setArr(a: usize, i: i32, v: i32): void { store<i32>(a + (<usize>i << 2), v); }

export function finite(x: f32): bool { return x - x == 0; }

// tensors
export function dim(t: i32, d: i32): i32 { return load<i32>(trec(t) + F.T_DIMS + (d << 2)); }
export function rank(t: i32): i32 { return u8f(trec(t), F.T_RANK); }
export function lastDim(t: i32): i32 { return dim(t, rank(t) - 1); }
export function elems(t: i32): i32 { return load<i32>(tElems + (<usize>t << 2)); }
export function scaleOf(t: i32): f32 { return f32f(trec(t), F.T_SCALE); }
export function zeroOf(t: i32): i32 { return i32f(trec(t), F.T_ZERO_POINT); }
// Where constant t's bytes are (raw encoding: its values).
export function constData(t: i32): usize { return data + <usize>load<u32>(trec(t) + F.T_DATA_OFFSET); }
// Activation t's buffer at the batch size prepared.
export function buf(t: i32, batch: i32): usize { return arena + <usize>load<u32>(tArena + (<usize>t << 2)) * <usize>batch; }

// op record fields
export function opType(o: i32): i32 { return i32f(orec(o), F.O_TYPE); }
export function opInput(o: i32): i32 { return i32f(orec(o), F.O_INPUT); }
export function opOutput(o: i32): i32 { return i32f(orec(o), F.O_OUTPUT); }
export function opWeights(o: i32): i32 { return i32f(orec(o), F.O_WEIGHTS); }
export function opBias(o: i32): i32 { return i32f(orec(o), F.O_BIAS); }
export function opField20(o: i32): i32 { return i32f(orec(o), F.O_RECURRENT); }
export function opActivation(o: i32): i32 { return i32f(orec(o), F.O_ACTIVATION); }
export function opPadding(o: i32): i32 { return i32f(orec(o), F.O_PADDING); }
export function param(o: i32, i: i32): i32 { return i32f(orec(o), F.O_PARAMS + (i << 2)); }
export function packedOf(o: i32): usize { return <usize>load<u32>(oPacked + (<usize>o << 2)); }

export function setPacked(o: i32, ptr: usize, size: usize): void {
  store<u32>(oPacked + (<usize>o << 2), <u32>ptr);
  store<u32>(oPackedSize + (<usize>o << 2), <u32>size);
}

// ---- checks the op modules share ------------------------------------------------------

export function isActivation(t: i32, dtype: i32): bool {
  if (t < 0 || t >= nT) return false;
  const r = trec(t);
  return u8f(r, F.T_KIND) == F.KIND_ACTIVATION && u8f(r, F.T_DTYPE) == dtype;
}

export function isConstant(t: i32, dtype: i32, rk: i32): bool {
  if (t < 0 || t >= nT) return false;
  const r = trec(t);
  return u8f(r, F.T_KIND) == F.KIND_CONSTANT && u8f(r, F.T_DTYPE) == dtype && u8f(r, F.T_RANK) == rk;
}

// An int8 weight constant of rank rk (one scale per output channel, dim 0, or one for
// the whole tensor: setChannelScales gives both per-channel scales).
export function isChannelWeights(t: i32, rk: i32): bool {
  return isConstant(t, F.DTYPE_INT8, rk) && channelScalesPtr(t) != 0;
}

// An int32 bias for n outputs, or none.
export function isBiasOrNone(b: i32, n: i32): bool {
  return b == F.NONE || (isConstant(b, F.DTYPE_INT32, 1) && dim(b, 0) == n);
}

export function shapeIs3(t: i32, a: i32, b: i32, c: i32): bool {
  return rank(t) == 3 && dim(t, 0) == a && dim(t, 1) == b && dim(t, 2) == c;
}

export function shapeIs2(t: i32, a: i32, b: i32): bool {
  return rank(t) == 2 && dim(t, 0) == a && dim(t, 1) == b;
}

// Padding 'valid' or 'same': every op that reads the padding field checks its own
// range (conv1d also takes 'causal').
export function validOrSame(pad: i32): bool {
  return pad == F.PAD_VALID || pad == F.PAD_SAME;
}

export function sameShape(a: i32, b: i32): bool {
  const rk = rank(a);
  if (rank(b) != rk) return false;
  for (let d = 0; d < rk; d++) if (dim(a, d) != dim(b, d)) return false;
  return true;
}

export function sameQuant(a: i32, b: i32): bool {
  return scaleOf(a) == scaleOf(b) && zeroOf(a) == zeroOf(b);
}

// The fields an op does not use must hold NONE (tensors) or 0 (the rest); `used` names
// the ones it does, as a mask of these bits, and `params` how many of parameters 0–3
// it reads. Parameters 4–7 are checked by the loader.
export const U_WEIGHTS: i32 = 1;
export const U_BIAS: i32 = 2;
export const U_FIELD20: i32 = 4; // lstm's recurrent weights, or a second input
export const U_ACTIVATION: i32 = 8;
export const U_PADDING: i32 = 16;

export function unused(o: i32, used: i32, params: i32): i32 {
  if ((used & U_WEIGHTS) == 0 && opWeights(o) != F.NONE) return fail(E_OP, o, R_TENSOR_REF);
  if ((used & U_BIAS) == 0 && opBias(o) != F.NONE) return fail(E_OP, o, R_TENSOR_REF);
  if ((used & U_FIELD20) == 0 && opField20(o) != F.NONE) return fail(E_OP, o, R_TENSOR_REF);
  if ((used & U_ACTIVATION) == 0 && opActivation(o) != 0) return fail(E_OP, o, R_PARAM);
  if ((used & U_PADDING) == 0 && opPadding(o) != 0) return fail(E_OP, o, R_PARAM);
  for (let i = params; i < 4; i++) if (param(o, i) != 0) return fail(E_OP, o, R_PARAM);
  return OK;
}

// Records op o's multiply-accumulates per batch item (inspect and the benchmarks read them).
export function setMacs(o: i32, macs: u64): i32 {
  if (macs > 0xffffffff) return fail(E_OP, o, R_LIMIT);
  store<u32>(oMacs + (<usize>o << 2), <u32>macs);
  return OK;
}

// The int8 activations fused into a weighted op's output range (ACT_NONE, RELU, RELU6).
export function fusedActivationValid(act: i32): bool {
  return act >= F.ACT_NONE && act <= F.ACT_RELU6;
}

// Per-channel scales of int8 constant t (setChannelScales), or 0.
export function channelScalesPtr(t: i32): usize {
  return <usize>load<u32>(tScales + (<usize>t << 2));
}

// At load, after checkTensor: the per-channel scales of int8 constant t, the file's,
// or, for rank ≥ 2, its per-tensor scale repeated dims[0] times (weights that share one
// scale, e.g. clustered ones, carry one in the file, and every op and pack function
// reads per-channel scales). False only when memory runs out.
export function setChannelScales(t: i32): bool {
  const r = trec(t);
  if (u8f(r, F.T_KIND) != F.KIND_CONSTANT || u8f(r, F.T_DTYPE) != F.DTYPE_INT8) return true;
  let p: usize;
  if (load<u32>(r + F.T_SCALE_COUNT)) {
    p = data + <usize>load<u32>(r + F.T_SCALES_OFFSET);
  } else {
    if (u8f(r, F.T_RANK) < 2) return true;
    const n = dim(t, 0);
    p = mem_alloc(<usize>n << 2);
    if (!p) return false;
    const s = f32f(r, F.T_SCALE);
    for (let c = 0; c < n; c++) store<f32>(p + (<usize>c << 2), s);
  }
  store<u32>(tScales + (<usize>t << 2), <u32>p);
  return true;
}

// Each channel's requantization multiplier must be a finite f32: kernels then agree
// (NaN would not), and requantization is monotonic, which conv + max-pool fusion needs.
export function multipliersFinite(x: i32, w: i32, y: i32): bool {
  const sx = scaleOf(x), sy = scaleOf(y);
  const ps = channelScalesPtr(w);
  const n = dim(w, 0);
  for (let i = 0; i < n; i++) {
    const sw = ps ? load<f32>(ps + (<usize>i << 2)) : scaleOf(w);
    if (!finite(quant_multiplier(sx, sw, sy))) return false;
  }
  return true;
}

// Dense int8 values of constant t into dst (encoded constants are expanded). Returns OK,
// or E_TENSOR for an rle-huffman or codebook stream that does not decode: load checks
// only its header (checkTensor), and this, in the prepare of the op that reads it, is
// the one pass over the stream (checking it there too cost a fresh engine a third of
// the pruned CNN's load).
export function decode(t: i32, dst: usize): i32 {
  const r = trec(t);
  const n = <usize>elems(t);
  const src = constData(t);
  const enc = u8f(r, F.T_ENCODING);
  if (enc == F.ENCODING_RAW) {
    memory.copy(dst, src, n);
    return OK;
  }
  if (enc == F.ENCODING_RLE_HUFFMAN || enc == F.ENCODING_CODEBOOK) {
    const size = <usize>load<u32>(r + F.T_DATA_SIZE);
    const values = enc == F.ENCODING_CODEBOOK ? codebook_decode(src, size, n, dst) : rle_huffman_decode(src, size, n, dst);
    return values < 0 ? fail(E_TENSOR, t, R_ENCODING) : OK;
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
  return OK;
}
