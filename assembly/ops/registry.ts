// The op registry: what the engine knows of each op code, and the only place that maps
// a code to its module. The engine core (assembly/model/model.ts) is a loop over these
// tables; an op's checks, preparation (weight packing, tables), scratch size and run
// live together in assembly/ops/<name>.ts, as TFLite Micro's kernels do.
//
// Each table is indexed by op code (docs/FORMAT.md; the numbers are in
// assembly/format.ts, the names in src/runtime/codes.ts): entry 0 is unused. Adding an
// op: its module, a row in every table below, its code and name, its tests and its
// docs section (test/docs.test.ts holds these to each other).

import { OK } from "../model/context";
import * as conv2d from "./conv2d";
import * as dense from "./dense";
import * as max_pool2d from "./max_pool2d";
import * as avg_pool2d from "./avg_pool2d";
import * as global_avg_pool2d from "./global_avg_pool2d";
import * as lstm from "./lstm";
import * as reshape from "./reshape";
import * as softmax from "./softmax";
import * as depthwise_conv2d from "./depthwise_conv2d";
import * as add from "./add";
import * as multiply from "./multiply";
import * as concatenate from "./concatenate";
import * as activation from "./activation";
import * as global_max_pool2d from "./global_max_pool2d";
import * as upsample2d from "./upsample2d";
import * as pad2d from "./pad2d";
import * as channel_affine from "./channel_affine";
import * as conv1d from "./conv1d";
import * as max_pool1d from "./max_pool1d";
import * as avg_pool1d from "./avg_pool1d";
import * as global_avg_pool1d from "./global_avg_pool1d";
import * as global_max_pool1d from "./global_max_pool1d";
import * as gru from "./gru";

// FLAGS: what the core's generic checks and the arena planner need to know
export const READS_FIELD20: i32 = 1; // field 20 is a second int8 input (else a constant or NONE)
export const ALIAS: i32 = 2; // the output shares the input's buffer
export const F32_OUTPUT: i32 = 4; // the output is float32 (else int8)

function nothing(o: i32): i32 { return OK; }
function noScratch(o: i32, batch: i32): u64 { return 0; }
function noFusion(o: i32): bool { return false; }
function noRun(o: i32, batch: i32): void {}

export const FLAGS: StaticArray<i32> = [
  0,
  0, // 1 conv2d
  0, // 2 dense
  0, // 3 max_pool2d
  0, // 4 avg_pool2d
  0, // 5 global_avg_pool2d
  0, // 6 lstm
  ALIAS, // 7 reshape
  F32_OUTPUT, // 8 softmax
  0, // 9 depthwise_conv2d
  READS_FIELD20, // 10 add
  READS_FIELD20, // 11 multiply
  READS_FIELD20, // 12 concatenate
  0, // 13 activation
  0, // 14 global_max_pool2d
  0, // 15 upsample2d
  0, // 16 pad2d
  0, // 17 channel_affine
  0, // 18 conv1d
  0, // 19 max_pool1d
  0, // 20 avg_pool1d
  0, // 21 global_avg_pool1d
  0, // 22 global_max_pool1d
  0, // 23 gru
];

// Validates op o's fields, tensors and parameters and records its MACs; OK or a status.
export const CHECK: StaticArray<(o: i32) => i32> = [
  nothing,
  conv2d.check, dense.check, max_pool2d.check, avg_pool2d.check, global_avg_pool2d.check, lstm.check, reshape.check,
  softmax.check, depthwise_conv2d.check, add.check, multiply.check, concatenate.check, activation.check,
  global_max_pool2d.check, upsample2d.check, pad2d.check, channel_affine.check, conv1d.check, max_pool1d.check,
  avg_pool1d.check, global_avg_pool1d.check, global_max_pool1d.check, gru.check,
];

// Whether op o also runs op o + 1 (after every op is checked).
export const FUSE_NEXT: StaticArray<(o: i32) => bool> = [
  noFusion,
  conv2d.fuseNext, noFusion, noFusion, noFusion, noFusion, noFusion, noFusion,
  noFusion, noFusion, noFusion, noFusion, noFusion, noFusion,
  noFusion, noFusion, noFusion, noFusion, noFusion, noFusion,
  noFusion, noFusion, noFusion, noFusion,
];

// Packs weights or builds tables, once at load (the allocator's stack order: temporaries
// released before returning); OK or a status.
export const PREPARE: StaticArray<(o: i32) => i32> = [
  nothing,
  conv2d.prepare, dense.prepare, nothing, nothing, nothing, lstm.prepare, nothing,
  nothing, depthwise_conv2d.prepare, nothing, nothing, nothing, activation.prepare,
  nothing, nothing, nothing, channel_affine.prepare, conv1d.prepare, nothing,
  nothing, nothing, nothing, gru.prepare,
];

// Scratch bytes op o needs at a batch size (the ops share one block).
export const SCRATCH: StaticArray<(o: i32, batch: i32) => u64> = [
  noScratch,
  conv2d.scratchSize, noScratch, noScratch, noScratch, noScratch, lstm.scratchSize, noScratch,
  noScratch, noScratch, noScratch, noScratch, noScratch, noScratch,
  noScratch, noScratch, noScratch, noScratch, conv1d.scratchSize, noScratch,
  noScratch, noScratch, noScratch, gru.scratchSize,
];

// Runs op o on `batch` items.
export const RUN: StaticArray<(o: i32, batch: i32) => void> = [
  noRun,
  conv2d.run, dense.run, max_pool2d.run, avg_pool2d.run, global_avg_pool2d.run, lstm.run, reshape.run,
  softmax.run, depthwise_conv2d.run, add.run, multiply.run, concatenate.run, activation.run,
  global_max_pool2d.run, upsample2d.run, pad2d.run, channel_affine.run, conv1d.run, max_pool1d.run,
  avg_pool1d.run, global_avg_pool1d.run, global_max_pool1d.run, gru.run,
];
