#include "model/weight_quant.h"

#include <cctype>
#include <string>
#include <vector>

#include "base/check.h"
#include "base/thread_pool.h"
#include "tensor/quant.h"

namespace ag::model {

std::optional<DType> parse_weight_dtype(std::string_view name) {
    std::string s(name);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "q8_0") return DType::kQ8_0;
    if (s == "q4_0") return DType::kQ4_0;
    if (s == "q4_k") return DType::kQ4_K;
    return std::nullopt;
}

std::optional<DType> weight_dtype_for_cols(DType want, int64_t cols) {
    AG_CHECK(dtype_is_quantized(want), "weight_dtype_for_cols: {} is not a block format",
             dtype_name(want));
    if (cols % dtype_block_elems(want) == 0) return want;
    if (want == DType::kQ4_K && cols % dtype_block_elems(DType::kQ4_0) == 0) return DType::kQ4_0;
    return std::nullopt;
}

Tensor quantize_matrix(const Tensor& w, DType want) {
    AG_CHECK(w.n_dims() == 2, "quantize_matrix: {} is not a matrix", w.shape_string());
    if (dtype_is_quantized(w.dtype())) return w;
    const int64_t rows = w.dim(0), cols = w.dim(1);
    const std::optional<DType> dt = weight_dtype_for_cols(want, cols);
    if (!dt) return w;
    Tensor q = Tensor::empty(*dt, {rows, cols});
    const size_t in_row = static_cast<size_t>(cols) * dtype_size(w.dtype());
    const size_t out_row = dtype_row_bytes(*dt, cols);
    const auto* src = static_cast<const uint8_t*>(w.data());
    auto* dst = static_cast<uint8_t*>(q.mutable_data());
    ThreadPool::global().parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
        std::vector<float> row(static_cast<size_t>(cols));
        for (int64_t r = r0; r < r1; ++r) {
            convert_to_f32(w.dtype(), src + static_cast<size_t>(r) * in_row, row.data(), cols);
            quant::quantize_row(*dt, row.data(), dst + static_cast<size_t>(r) * out_row, cols);
        }
    });
    return q;
}

}  // namespace ag::model
