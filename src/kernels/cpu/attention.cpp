#include <cmath>
#include <limits>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/dot.h"

namespace ag::kernels::cpu {

// One task per (query, head): scores against the visible keys, f32 softmax, weighted sum of v.
void attention_paged(const float* q, const float* k_cache, const float* v_cache,
                     const int32_t* block_table, int64_t block_size, float* out, int64_t n_q,
                     int64_t n_kv, int64_t n_head, int64_t n_head_kv, int64_t d, float scale) {
    const int64_t group = n_head / n_head_kv;
    const int64_t row = n_head_kv * d;  // floats per slot
    ThreadPool::global().parallel_for(n_q * n_head, 1, [&](int64_t t0, int64_t t1) {
        std::vector<float> p(static_cast<size_t>(n_kv));
        for (int64_t task = t0; task < t1; ++task) {
            const int64_t i = task / n_head;
            const int64_t h = task % n_head;
            const int64_t hk = h / group;
            const int64_t n_vis = n_kv - n_q + i + 1;
            const float* qi = q + (i * n_head + h) * d;
            auto slot = [&](int64_t j) {
                return static_cast<int64_t>(block_table[j / block_size]) * block_size + j % block_size;
            };
            float mx = -std::numeric_limits<float>::infinity();
            for (int64_t j = 0; j < n_vis; ++j) {
                const float* kj = k_cache + slot(j) * row + hk * d;
                float s = dot_f32(qi, kj, d);
                s *= scale;
                p[static_cast<size_t>(j)] = s;
                mx = std::max(mx, s);
            }
            float sum = 0.0f;
            for (int64_t j = 0; j < n_vis; ++j) {
                float e = std::exp(p[static_cast<size_t>(j)] - mx);
                p[static_cast<size_t>(j)] = e;
                sum += e;
            }
            const float inv = 1.0f / sum;
            float* o = out + (i * n_head + h) * d;
            for (int64_t t = 0; t < d; ++t) o[t] = 0.0f;
            for (int64_t j = 0; j < n_vis; ++j) {
                const float pj = p[static_cast<size_t>(j)] * inv;
                const float* vj = v_cache + slot(j) * row + hk * d;
                for (int64_t t = 0; t < d; ++t) o[t] += pj * vj[t];
            }
        }
    });
}

}  // namespace ag::kernels::cpu
