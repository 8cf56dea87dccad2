// The engine's exports: a C-like ABI of pointers, sizes and codes, no imports.
// docs/KERNELS.md (kernels, memory) and docs/ENGINE.md (model_*) list every export with
// its contract; test/docs.test.ts holds the lists to the compiled module.

export { mem_alloc, mem_reset, mem_used } from "./memory";
export { quant_multiplier, quant_act_min, quant_act_max } from "./quant";
export { window_out_size, window_pad_before } from "./kernels/window";
export { gemm_packed_size, gemm_pack, gemm_s8 } from "./kernels/gemm";
export {
  conv2d_s8_ref, conv2d_s8_im2col, conv2d_scratch_size, conv2d_max_pool2d_s8_im2col, conv2d_max_pool2d_scratch_size,
  conv2d_sparse_pairs, conv2d_sparse_packed_size, conv2d_sparse_pack, conv2d_sparse_scratch_size, conv2d_max_pool2d_s8_sparse,
} from "./kernels/conv2d";
export { conv1d_s8_ref, conv1d_s8_im2col, conv1d_scratch_size } from "./kernels/conv1d";
export { dense_s8_ref, dense_s8_gemm } from "./kernels/dense";
export { add_s8_ref, add_s8_x16 } from "./kernels/add";
export { multiply_s8_ref, multiply_s8_x16 } from "./kernels/multiply";
export { concatenate_s8_ref, concatenate_s8_x16 } from "./kernels/concatenate";
export { activation_s8_ref, activation_s8_table, activation_s8_lut } from "./kernels/activation_s8";
export {
  depthwise_conv2d_s8_ref, depthwise_conv2d_packed_size, depthwise_conv2d_pack, depthwise_conv2d_s8_c8,
} from "./kernels/depthwise_conv2d";
export {
  max_pool2d_s8_ref, max_pool2d_s8_c16, avg_pool2d_s8_ref, avg_pool2d_s8_c16,
  global_avg_pool2d_s8_ref, global_avg_pool2d_s8_c16, global_max_pool2d_s8_ref, global_max_pool2d_s8_c16,
} from "./kernels/pool2d";
export { upsample2d_s8_ref, upsample2d_s8_rows } from "./kernels/upsample2d";
export { channel_affine_s8_ref, channel_affine_prepare, channel_affine_s8_table } from "./kernels/channel_affine";
export { pad2d_s8_ref, pad2d_s8_rows } from "./kernels/pad2d";
export {
  lstm_s8_ref, lstm_s8_gemm, lstm_pack, lstm_packed_size, lstm_scratch_size,
} from "./kernels/lstm";
export {
  gru_s8_ref, gru_s8_gemm, gru_pack, gru_packed_size, gru_scratch_size,
} from "./kernels/gru";
export { activation_f32_ref, activation_f32_x4, softmax_s8_f32 } from "./kernels/activation";
export { peak_dot_i16x8 } from "./peak";

// 1 in the SIMD and relaxed-SIMD builds, 0 in the scalar build.
export function engine_simd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

// 1 in the relaxed-SIMD build (gemm on i32x4.relaxed_dot_i8x16_i7x16_add_s), else 0.
export function engine_relaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

export {
  model_load, model_prepare, model_run, model_error_index, model_error_reason,
  model_input_ptr, model_output_ptr, model_arena_bytes, model_arena_live_peak, model_scratch_bytes, model_weight_bytes,
  model_metadata_ptr, model_metadata_size, model_tensor_count, model_op_count,
  model_input_tensor, model_output_tensor, model_format_version, model_pixel_channels, model_pixel_rule,
  model_tensor_info, model_tensor_scale, model_op_info,
} from "./model/model";
export { mem_release } from "./memory";
