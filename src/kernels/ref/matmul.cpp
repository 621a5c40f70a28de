#include "kernels/ref/ref.h"

#include <vector>

#include "tensor/tensor.h"

namespace ag::kernels::ref {

void matmul(const float* x, int64_t m, int64_t k, const void* w, DType w_dtype, int64_t n,
            const float* bias, float* y) {
    std::vector<float> row(static_cast<size_t>(k));
    const size_t row_bytes = dtype_row_bytes(w_dtype, k);
    for (int64_t j = 0; j < n; ++j) {
        convert_to_f32(w_dtype, static_cast<const uint8_t*>(w) + static_cast<size_t>(j) * row_bytes,
                       row.data(), k);
        for (int64_t i = 0; i < m; ++i) {
            const float* xi = x + i * k;
            float acc = 0.0f;
            for (int64_t t = 0; t < k; ++t) acc += xi[t] * row[static_cast<size_t>(t)];
            y[i * n + j] = acc + (bias ? bias[j] : 0.0f);
        }
    }
}

}  // namespace ag::kernels::ref
