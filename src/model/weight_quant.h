// On-the-fly weight quantization at load time (`LoadOptions::weight_dtype`): a checkpoint's f32,
// bf16 or f16 weight matrices are converted row by row into a ggml block format held in memory,
// like a GGUF file made by `autoglm quantize` but without writing one.
#pragma once

#include <optional>
#include <string_view>

#include "tensor/tensor.h"

namespace ag::model {

// "q8_0", "q4_0", "q4_k" (any case) -> the block format; anything else -> nullopt.
std::optional<DType> parse_weight_dtype(std::string_view name);

// The format a matrix with rows of `cols` elements gets when `want` is asked for: `want` when a
// row is whole blocks of it, else Q4_K falls back to Q4_0 (same size, 32-element blocks, e.g.
// GLM-4's FFN 13696 and the tiny test models' d 64); nullopt when no block format fits.
std::optional<DType> weight_dtype_for_cols(DType want, int64_t cols);

// A new owning [rows, cols] tensor of `w` (2-D, F32/F16/BF16) quantized to
// weight_dtype_for_cols(want, cols); `w` itself (a no-op) when it is already quantized or no
// block format fits. Rows are quantized in parallel on the global thread pool.
Tensor quantize_matrix(const Tensor& w, DType want);

}  // namespace ag::model
