#include <algorithm>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "tensor/tensor.h"

namespace ag::kernels::cpu {

namespace {

constexpr int64_t kRowBlock = 16;  // weight rows converted to f32 and reused across all x rows

// 8 independent partial sums let the compiler vectorise without -ffast-math.
inline float dot(const float* a, const float* b, int64_t k) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t t = 0;
    for (; t + 8 <= k; t += 8) {
        for (int l = 0; l < 8; ++l) acc[l] += a[t + l] * b[t + l];
    }
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; t < k; ++t) s += a[t] * b[t];
    return s;
}

}  // namespace

void matmul(const float* x, int64_t m, int64_t k, const void* w, DType w_dtype, int64_t n,
            const float* bias, float* y) {
    const size_t row_bytes = static_cast<size_t>(k) * dtype_size(w_dtype);
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
                    yi[j] = dot(xi, wf + j * k, k) + (bias ? bias[j0 + j] : 0.0f);
                }
            }
        }
    });
}

}  // namespace ag::kernels::cpu
