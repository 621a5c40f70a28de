#include <algorithm>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/dot.h"
#include "tensor/tensor.h"

namespace ag::kernels::cpu {

namespace {

constexpr int64_t kRowBlock = 16;  // weight rows converted to f32 and reused across all x rows

}  // namespace

void matmul(const float* x, int64_t m, int64_t k, const void* w, DType w_dtype, int64_t n,
            const float* bias, float* y) {
    const size_t row_bytes = dtype_row_bytes(w_dtype, k);
    const int64_t n_blocks = (n + kRowBlock - 1) / kRowBlock;
    ThreadPool::global().parallel_for(n_blocks, 1, [&](int64_t b0, int64_t b1) {
        std::vector<float> buf;
        if (w_dtype != DType::kF32) buf.resize(static_cast<size_t>(kRowBlock * k));
        for (int64_t b = b0; b < b1; ++b) {
            const int64_t j0 = b * kRowBlock;
            const int64_t nj = std::min(kRowBlock, n - j0);
            const uint8_t* src = static_cast<const uint8_t*>(w) + static_cast<size_t>(j0) * row_bytes;
            const float* wf;
            if (w_dtype == DType::kF32) {
                wf = reinterpret_cast<const float*>(src);
            } else {
                convert_to_f32(w_dtype, src, buf.data(), nj * k);
                wf = buf.data();
            }
            for (int64_t i = 0; i < m; ++i) {
                const float* xi = x + i * k;
                float* yi = y + i * n + j0;
                for (int64_t j = 0; j < nj; ++j) {
                    yi[j] = dot_f32(xi, wf + j * k, k) + (bias ? bias[j0 + j] : 0.0f);
                }
            }
        }
    });
}

}  // namespace ag::kernels::cpu
