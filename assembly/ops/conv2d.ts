// conv2d (op 1): int8 2-D convolution, NHWC, weights OHWI with per-channel scales,
// int32 bias, stride, 'same' / 'valid' padding, ReLU / ReLU6 fused into the output range.
// params: stride h, stride w. Kernels: the im2col gemm (dense), or the sparse kernel
// where the weights are sparse enough to pay (sparseIsFaster); a max pool that reads
// only this op's output, with windows that do not overlap, runs inside it (fuseNext).

import * as F from "../format";
import { mem_alloc, mem_release } from "../memory";
import {
  E_MEMORY, E_OP, FUSED_NEXT, OK, R_LIMIT, R_PARAM, R_QUANT, R_SHAPE, R_TENSOR_REF, U_ACTIVATION, U_BIAS, U_PADDING, U_WEIGHTS,
  arr, buf, channelScalesPtr, constData, decode, dim, elems, fail, fusedActivationValid, isBiasOrNone, isChannelWeights,
  multipliersFinite, oFused, oKernel, opActivation, opBias, opInput, opOutput, opPadding, opType, opWeights, packedOf, param,
  rank, scaleOf, scratch, setArr, setPacked, shapeIs3, setMacs, tLast, unused, validOrSame, zeroOf,
} from "../model/context";
import {
  conv2d_max_pool2d_s8_im2col, conv2d_max_pool2d_s8_sparse, conv2d_max_pool2d_scratch_size, conv2d_s8_im2col,
  conv2d_scratch_size, conv2d_sparse_pack, conv2d_sparse_packed_size, conv2d_sparse_pairs, conv2d_sparse_scratch_size,
  conv2d_sparse_tiles,
} from "../kernels/conv2d";
import { gemm_pack, gemm_packed_size } from "../kernels/gemm";
import { window_out_size } from "../kernels/window";

const KERNEL_SPARSE: i32 = 1; // oKernel: runs conv2d_max_pool2d_s8_sparse

export function check(o: i32): i32 {
  const s = unused(o, U_WEIGHTS | U_BIAS | U_ACTIVATION | U_PADDING, 2);
  if (s != OK) return s;
  const x = opInput(o), y = opOutput(o), w = opWeights(o);
  if (rank(x) != 3 || !isChannelWeights(w, 4)) return fail(E_OP, o, R_TENSOR_REF);
  const h = dim(x, 0), wd = dim(x, 1), c = dim(x, 2);
  const f = dim(w, 0), kh = dim(w, 1), kw = dim(w, 2);
  if (dim(w, 3) != c) return fail(E_OP, o, R_SHAPE);
  if (!isBiasOrNone(opBias(o), f)) return fail(E_OP, o, R_TENSOR_REF);
  const sh = param(o, 0), sw = param(o, 1), pad = opPadding(o);
  if (sh < 1 || sw < 1 || sh > 64 || sw > 64 || !validOrSame(pad) || !fusedActivationValid(opActivation(o))) return fail(E_OP, o, R_PARAM);
  const oh = window_out_size(h, kh, sh, pad), ow = window_out_size(wd, kw, sw, pad);
  if (oh < 1 || ow < 1 || !shapeIs3(y, oh, ow, f)) return fail(E_OP, o, R_SHAPE);
  if (!multipliersFinite(x, w, y)) return fail(E_OP, o, R_QUANT);
  return setMacs(o, <u64>oh * <u64>ow * <u64>f * <u64>kh * <u64>kw * <u64>c);
}

// Whether the op after o, a max pool reading only o's output with windows that do not
// overlap (each conv output is then computed at most once), runs inside o: the conv
// output is never stored.
export function fuseNext(o: i32): bool {
  if (opType(o + 1) != F.OP_MAX_POOL2D) return false;
  const y = opOutput(o);
  if (opInput(o + 1) != y || arr(tLast, y) != o + 1) return false;
  return param(o + 1, 2) >= param(o + 1, 0) && param(o + 1, 3) >= param(o + 1, 1);
}

// The fused max pool's window h, w, stride h, w (param i) and padding (i = 4), or the
// 1×1/1 'valid' pool, which pools nothing, when o runs alone.
function pool(o: i32, i: i32): i32 {
  if (arr(oFused, o) == FUSED_NEXT) return i < 4 ? param(o + 1, i) : opPadding(o + 1);
  return i < 4 ? 1 : 0;
}

// Whether o runs faster on the sparse kernel, from a cost model fitted to
// bench/kernels.ts on the reference CNN's layers (2-core Zen 4, Node 20): a sparse
// slot (a weight pair × 32 outputs: 64 multiply-adds) costs ~1.5× a dense slot of the
// 2x4c8 gemm, and a 2x8c2 slot (K < 16) with its patch copies ~2.5× a 2x4c8 one.
const SPARSE_SCRATCH_LIMIT: u64 = 1 << 26;

function sparseIsFaster(o: i32, pairs: i32): bool {
  if (param(o, 0) != 1 || param(o, 1) != 1) return false; // stride 1 only
  const x = opInput(o), w = opWeights(o), y = opOutput(o);
  const pad = opPadding(o);
  const n = dim(w, 0), k = elems(w) / n;
  // its scratch (planar padded input, for one input channel also its i16 pairs H and V:
  // 9 bytes a position, + int32 outputs) must stay small; this also keeps the kernel's
  // 32-bit size arithmetic exact for any shape a file may declare
  const kh = dim(w, 1), kw = dim(w, 2), c = dim(x, 2);
  const hp: u64 = <u64>dim(x, 0) + (pad ? <u64>kh - 1 : 0), wp: u64 = <u64>dim(x, 1) + (pad ? <u64>kw - 1 : 0);
  const scratchBound = <u64>(c == 1 ? 10 : c) * hp * wp + (<u64>n) * (hp * wp + 32) * 4 + <u64>kw * 9 + 512;
  if (scratchBound > SPARSE_SCRATCH_LIMIT) return false;
  const sparseSlots = <f64>pairs * <f64>conv2d_sparse_tiles(dim(x, 0), dim(x, 1), n, kh, kw, pad, pool(o, 0), pool(o, 2), pool(o, 4)) * 64;
  const kp = k < 16 ? (k + 1) & ~1 : (k + 7) & ~7;
  // a 1×1 conv copies no patches (conv2d_s8_im2col runs one gemm), so its 2x8c2 slots
  // cost as 2x4c8 ones (measured on MobileNetV1-0.25's first pointwise conv, K = 8)
  const c2 = k < 16 && (kh != 1 || kw != 1) ? 2.5 : 1;
  const denseSlots = <f64>dim(y, 0) * <f64>dim(y, 1) * <f64>((n + 3) & ~3) * <f64>kp * c2;
  return 3 * sparseSlots < 2 * denseSlots;
}

export function prepare(o: i32): i32 {
  const x = opInput(o), y = opOutput(o), w = opWeights(o), b = opBias(o);
  const n = dim(w, 0), k = elems(w) / n;
  // the kernel choice needs the decoded weights, and the packed size needs the choice:
  // decode once, pack above the weights, then move the packed block down over them
  // (the allocator releases in stack order; decoding twice cost a third of the CNN's load)
  const tw = mem_alloc(<usize>elems(w));
  if (!tw) return fail(E_MEMORY, o, R_LIMIT);
  const decoded = decode(w, tw);
  if (decoded != OK) return decoded;
  const pairs = conv2d_sparse_pairs(tw, n, dim(w, 1), dim(w, 2), dim(x, 2));
  const sparse = sparseIsFaster(o, pairs);
  const size = sparse ? conv2d_sparse_packed_size(n, pairs, dim(x, 2)) : gemm_packed_size(n, k);
  const above = mem_alloc(size);
  if (!above) return fail(E_MEMORY, o, R_LIMIT);
  const sw = channelScalesPtr(w);
  const bias: usize = b == F.NONE ? 0 : constData(b);
  if (sparse) {
    conv2d_sparse_pack(tw, n, dim(w, 1), dim(w, 2), dim(x, 2), dim(x, 0), dim(x, 1), opPadding(o),
      bias, sw, scaleOf(x), zeroOf(x), scaleOf(y), above);
    setArr(oKernel, o, KERNEL_SPARSE);
  } else {
    gemm_pack(tw, n, k, bias, sw, scaleOf(x), zeroOf(x), scaleOf(y), above);
  }
  mem_release(tw);
  const packed = mem_alloc(size); // == tw: the block starts where the weights did
  memory.copy(packed, above, size);
  setPacked(o, packed, size);
  return OK;
}

export function scratchSize(o: i32, batch: i32): u64 {
  const x = opInput(o), w = opWeights(o), pad = opPadding(o);
  if (arr(oKernel, o) == KERNEL_SPARSE) {
    return <u64>conv2d_sparse_scratch_size(dim(x, 0), dim(x, 1), dim(x, 2), dim(w, 0), dim(w, 1), dim(w, 2), pad,
      pool(o, 0), pool(o, 2), pool(o, 4));
  }
  if (arr(oFused, o) == FUSED_NEXT) {
    return <u64>conv2d_max_pool2d_scratch_size(dim(x, 1), dim(x, 2), dim(w, 0), dim(w, 1), dim(w, 2), param(o, 1), pad,
      pool(o, 0), pool(o, 1), pool(o, 3), pool(o, 4));
  }
  return <u64>conv2d_scratch_size(dim(x, 1), dim(x, 2), dim(w, 1), dim(w, 2), param(o, 1), pad);
}

export function run(o: i32, batch: i32): void {
  const x = opInput(o), w = opWeights(o);
  const fused = arr(oFused, o) == FUSED_NEXT;
  const y = fused ? opOutput(o + 1) : opOutput(o); // the pool's output when it runs inside
  const ys = scaleOf(opOutput(o)), yz = zeroOf(opOutput(o));
  const px = buf(x, batch), py = buf(y, batch);
  const h = dim(x, 0), wd = dim(x, 1), c = dim(x, 2), f = dim(w, 0), kh = dim(w, 1), kw = dim(w, 2);
  if (arr(oKernel, o) == KERNEL_SPARSE) {
    conv2d_max_pool2d_s8_sparse(px, batch, h, wd, c, packedOf(o), f, kh, kw, opPadding(o), zeroOf(x), ys, yz, opActivation(o),
      pool(o, 0), pool(o, 1), pool(o, 2), pool(o, 3), pool(o, 4), py, scratch);
  } else if (fused) {
    conv2d_max_pool2d_s8_im2col(px, batch, h, wd, c, packedOf(o), f, kh, kw, param(o, 0), param(o, 1), opPadding(o), zeroOf(x),
      ys, yz, opActivation(o), pool(o, 0), pool(o, 1), pool(o, 2), pool(o, 3), pool(o, 4), py, scratch);
  } else {
    conv2d_s8_im2col(px, batch, h, wd, c, packedOf(o), f, kh, kw, param(o, 0), param(o, 1), opPadding(o), zeroOf(x),
      ys, yz, opActivation(o), py, scratch);
  }
}
