// .edgeq format (version 2; readers also take 1): the numbers of docs/FORMAT.md. Portable syntax (no AssemblyScript
// types), so the engine's reader and the TypeScript writer import this one file.

export const MAGIC = 0x51474445; // bytes 45 44 47 51, "EDGQ"
export const VERSION = 2; // the version written; readers take 1 and 2 (docs/FORMAT.md, version history)
export const NONE = -1; // stored as ff ff ff ff: "no tensor"

export const HEADER_SIZE = 64;
export const TENSOR_RECORD_SIZE = 48;
export const OP_RECORD_SIZE = 64;
export const DATA_ALIGN = 16;

// header fields (byte offsets)
export const H_MAGIC = 0;
export const H_VERSION = 4;
export const H_FILE_SIZE = 8;
export const H_CRC32 = 12;
export const H_FLAGS = 16;
export const H_TENSOR_COUNT = 20;
export const H_OP_COUNT = 24;
export const H_INPUT = 28;
export const H_OUTPUT = 32;
// version 2: the pixel rule tensor (NONE: the model takes float inputs only), then 0
export const H_PIXEL_RULE = 36;
export const H_RESERVED = 40;
// version 1: one scale and offset applied to every input, pixels and floats alike
export const H_INPUT_MUL = 36;
export const H_INPUT_ADD = 40;
export const H_META_OFFSET = 44;
export const H_META_SIZE = 48;
export const H_TENSORS_OFFSET = 52;
export const H_OPS_OFFSET = 56;
export const H_DATA_OFFSET = 60;

// tensor record fields (byte offsets)
export const T_DTYPE = 0; // u8
export const T_KIND = 1; // u8
export const T_RANK = 2; // u8
export const T_ENCODING = 3; // u8
export const T_DIMS = 4; // u32 × 4
export const T_SCALE = 20; // f32
export const T_ZERO_POINT = 24; // i32
export const T_DATA_OFFSET = 28; // u32, from the data section's start
export const T_DATA_SIZE = 32; // u32
export const T_SCALES_OFFSET = 36; // u32, from the data section's start
export const T_SCALE_COUNT = 40; // u32
export const T_RESERVED = 44; // u32, 0

export const DTYPE_INT8 = 1;
export const DTYPE_INT32 = 2;
export const DTYPE_FLOAT32 = 3;

export const KIND_ACTIVATION = 0;
export const KIND_CONSTANT = 1;

export const ENCODING_RAW = 0;
export const ENCODING_BITMASK = 1;
export const ENCODING_RLE_HUFFMAN = 2;
export const ENCODING_CODEBOOK = 3;

// op record fields (byte offsets); every field is a 32-bit little-endian integer
export const O_TYPE = 0;
export const O_INPUT = 4;
export const O_OUTPUT = 8;
export const O_WEIGHTS = 12;
export const O_BIAS = 16;
export const O_RECURRENT = 20;
export const O_INPUT2 = 20; // the same field: add / multiply / concatenate's second input
export const O_ACTIVATION = 24;
export const O_PADDING = 28;
export const O_PARAMS = 32; // i32 × 8

export const OP_CONV2D = 1;
export const OP_DENSE = 2;
export const OP_MAX_POOL2D = 3;
export const OP_AVG_POOL2D = 4;
export const OP_GLOBAL_AVG_POOL2D = 5;
export const OP_LSTM = 6;
export const OP_RESHAPE = 7;
export const OP_SOFTMAX = 8;
export const OP_DEPTHWISE_CONV2D = 9;
export const OP_ADD = 10;
export const OP_MULTIPLY = 11;
export const OP_CONCATENATE = 12; // on the last (channel) axis
export const OP_ACTIVATION = 13; // a float function of an int8 tensor, ACT_F_* in O_ACTIVATION
export const OP_GLOBAL_MAX_POOL2D = 14;
export const OP_UPSAMPLE2D = 15; // nearest, whole factors
export const OP_PAD2D = 16; // zero padding (the zero point)
export const OP_CHANNEL_AFFINE = 17; // a · x + b per channel (last axis): batch normalization
export const OP_CONV1D = 18; // [steps, channels], dilation, padding valid / same / causal
export const OP_MAX_POOL1D = 19;
export const OP_AVG_POOL1D = 20;
export const OP_GLOBAL_AVG_POOL1D = 21;
export const OP_GLOBAL_MAX_POOL1D = 22;
export const OP_GRU = 23; // Keras' GRU, reset_after 0 or 1
export const OP_LAST = 23;

// O_ACTIVATION of conv2d and dense: the activation fused into the int8 output range
export const ACT_NONE = 0;
export const ACT_RELU = 1;
export const ACT_RELU6 = 2;

// O_ACTIVATION and the recurrent activation of lstm: float activations (2 is unused)
export const ACT_F_LINEAR = 0;
export const ACT_F_RELU = 1;
export const ACT_F_TANH = 3;
export const ACT_F_SIGMOID = 4;
export const ACT_F_HARD_SIGMOID = 5;
// the activation op (13) also takes these
export const ACT_F_RELU6 = 2;
export const ACT_F_SWISH = 6; // x · sigmoid(x)
export const ACT_F_HARD_SWISH = 7; // x · relu6(x + 3) / 6
export const ACT_F_LEAKY_RELU = 8; // x ≥ 0 ? x : alpha · x
export const ACT_F_ELU = 9; // x > 0 ? x : alpha · (exp(x) − 1)
export const ACT_F_LAST = 9;

// lstm and gru param 2: the order the steps are read in, and where each output goes
export const RNN_FORWARD = 0; // steps 0 … T−1
export const RNN_BACKWARD = 1; // steps T−1 … 0, outputs in that order (Keras' go_backwards)
export const RNN_BACKWARD_ALIGNED = 2; // steps T−1 … 0, each output at its own step (Bidirectional's backward half)

// O_PADDING
export const PAD_VALID = 0;
export const PAD_SAME = 1;
export const PAD_CAUSAL = 2; // conv1d only: (window − 1) zeros before, none after (Keras)

// limits a valid file keeps to
export const MAX_TENSORS = 4096;
export const MAX_OPS = 1024;
export const MAX_DIM = 1 << 24;
export const MAX_ELEMENTS = 1 << 28;
export const MAX_ARENA = 1 << 28; // activation bytes per batch item

// The engine's status codes (negative; model_load, model_prepare, model_run) and the
// reasons model_error_reason gives: docs/ENGINE.md lists them, src/runtime/model.ts
// (loadError) turns them into typed errors.
export const OK = 0;
export const E_TRUNCATED = -1;
export const E_MAGIC = -2;
export const E_VERSION = -3;
export const E_CHECKSUM = -4;
export const E_HEADER = -5;
export const E_TENSOR = -6;
export const E_OP = -7;
export const E_UNSUPPORTED_OP = -8;
export const E_GRAPH = -9;
export const E_MEMORY = -10;
export const E_NO_MODEL = -11;
export const E_BATCH = -12;
export const E_NO_PIXEL_RULE = -13; // pixel input to a model without a pixel rule
export const E_INPUT_VALUE = -14; // a float input that is not finite (model_error_index: which)

// reasons (model_error_reason)
export const R_FIELD = 1; // a field has a value outside its table
export const R_RANGE = 2; // an offset/size points outside its section or file
export const R_ALIGN = 3; // misaligned offset
export const R_SHAPE = 4; // dims / shapes inconsistent
export const R_QUANT = 5; // scale or zero point invalid
export const R_ENCODING = 6; // encoded data inconsistent
export const R_TENSOR_REF = 7; // op refers to a missing or wrong-kind tensor
export const R_ORDER = 8; // tensor used before produced, or produced twice
export const R_PARAM = 9; // op parameter invalid
export const R_LIMIT = 10; // over a size limit
