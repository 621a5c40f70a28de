#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"

namespace ag::kernels::cpu {

// Row-wise ops are cheap next to the matmuls: split the rows and run the reference loop on each
// chunk, so there is exactly one definition of the math.

void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t cols, float eps) {
    ThreadPool::global().parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
        ref::rms_norm(x + r0 * cols, w, y + r0 * cols, r1 - r0, cols, eps);
    });
}

void silu_mul(const float* gu, float* out, int64_t rows, int64_t f) {
    ThreadPool::global().parallel_for(rows, 1, [&](int64_t r0, int64_t r1) {
        ref::silu_mul(gu + r0 * 2 * f, out + r0 * f, r1 - r0, f);
    });
}

void rope_interleaved(float* x, const float* cos, const float* sin, int64_t n_tok, int64_t n_head,
                      int64_t head_dim, int64_t n_pairs) {
    ThreadPool::global().parallel_for(n_tok, 4, [&](int64_t t0, int64_t t1) {
        ref::rope_interleaved(x + t0 * n_head * head_dim, cos + t0 * n_pairs, sin + t0 * n_pairs,
                              t1 - t0, n_head, head_dim, n_pairs);
    });
}

}  // namespace ag::kernels::cpu
