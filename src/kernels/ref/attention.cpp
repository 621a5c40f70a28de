#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/ref/ref.h"

namespace ag::kernels::ref {

void attention(const float* q, const float* k, const float* v, float* out, int64_t n_q,
               int64_t n_kv, int64_t n_head, int64_t n_head_kv, int64_t d, float scale) {
    const int64_t group = n_head / n_head_kv;
    std::vector<float> p(static_cast<size_t>(n_kv));
    for (int64_t i = 0; i < n_q; ++i) {
        const int64_t n_vis = n_kv - n_q + i + 1;
        for (int64_t h = 0; h < n_head; ++h) {
            const float* qi = q + (i * n_head + h) * d;
            const int64_t hk = h / group;
            float mx = -std::numeric_limits<float>::infinity();
            for (int64_t j = 0; j < n_vis; ++j) {
                const float* kj = k + (j * n_head_kv + hk) * d;
                float s = 0.0f;
                for (int64_t t = 0; t < d; ++t) s += qi[t] * kj[t];
                p[static_cast<size_t>(j)] = s * scale;
                mx = std::max(mx, p[static_cast<size_t>(j)]);
            }
            float sum = 0.0f;
            for (int64_t j = 0; j < n_vis; ++j) {
                p[static_cast<size_t>(j)] = std::exp(p[static_cast<size_t>(j)] - mx);
                sum += p[static_cast<size_t>(j)];
            }
            float* o = out + (i * n_head + h) * d;
            for (int64_t t = 0; t < d; ++t) o[t] = 0.0f;
            for (int64_t j = 0; j < n_vis; ++j) {
                const float pj = p[static_cast<size_t>(j)] / sum;
                const float* vj = v + (j * n_head_kv + hk) * d;
                for (int64_t t = 0; t < d; ++t) o[t] += pj * vj[t];
            }
        }
    }
}

void attention_paged_kv(const float* q, KvView k_cache, KvView v_cache,
                        const int32_t* block_table, int64_t block_size, float* out, int64_t n_q,
                        int64_t n_kv, int64_t n_head, int64_t n_head_kv, int64_t d, float scale) {
    const KvDType dtype = k_cache.dtype;
    const size_t kb = kv_key_head_bytes(dtype, d), vb = kv_head_bytes(dtype, d);
    const size_t mb = kv_key_block_meta_bytes(dtype, d);
    std::vector<float> k(static_cast<size_t>(n_kv * n_head_kv * d)), v(k.size());
    // int8 with integer scores: the query heads the kernel sees are the 16-bit rounded ones.
    std::vector<float> qr(q, q + n_q * n_head * d);
    if (dtype == KvDType::kInt8 && kv_int8_integer_scores(d)) {
        std::vector<int16_t> codes(static_cast<size_t>(d));
        for (int64_t r = 0; r < n_q * n_head; ++r) {
            const float sq = kv_quantize_query_i16(q + r * d, d, codes.data());
            for (int64_t t = 0; t < d; ++t) qr[static_cast<size_t>(r * d + t)] = sq * static_cast<float>(codes[static_cast<size_t>(t)]);
        }
    }
    const auto* kd = static_cast<const uint8_t*>(k_cache.data);
    const auto* vd = static_cast<const uint8_t*>(v_cache.data);
    // What key/value j reads as for a query whose own position is in logical block own.
    auto fill = [&](int64_t n_vis, int64_t own) {
        for (int64_t j = 0; j < n_vis; ++j) {
            const int64_t pb = block_table[j / block_size];
            const int64_t slot = pb * block_size + j % block_size;
            for (int64_t h = 0; h < n_head_kv; ++h) {
                const size_t dst = static_cast<size_t>((j * n_head_kv + h) * d);
                if (dtype == KvDType::kInt4 && j / block_size == own) {
                    const int64_t row = (static_cast<int64_t>(k_cache.open_index[pb]) * block_size + j % block_size) * n_head_kv + h;
                    std::copy_n(k_cache.open + row * d, d, k.data() + dst);
                    std::copy_n(v_cache.open + row * d, d, v.data() + dst);
                    continue;
                }
                if (dtype == KvDType::kInt4) {
                    kv_dequantize_key(kd + static_cast<size_t>(slot * n_head_kv + h) * kb,
                                      k_cache.key_meta + static_cast<size_t>(pb * n_head_kv + h) * mb, d, k.data() + dst);
                } else {
                    kv_dequantize_head(dtype, kd + static_cast<size_t>(slot * n_head_kv + h) * kb, d, k.data() + dst);
                }
                kv_dequantize_head(dtype, vd + static_cast<size_t>(slot * n_head_kv + h) * vb, d, v.data() + dst);
            }
        }
    };
    if (dtype != KvDType::kInt4) {
        fill(n_kv, -1);
        attention(qr.data(), k.data(), v.data(), out, n_q, n_kv, n_head, n_head_kv, d, scale);
        return;
    }
    for (int64_t i = 0; i < n_q; ++i) {  // int4: what a query reads depends on its own block
        const int64_t n_vis = n_kv - n_q + i + 1;
        fill(n_vis, (n_vis - 1) / block_size);
        attention(qr.data() + i * n_head * d, k.data(), v.data(), out + i * n_head * d, 1, n_vis,
                  n_head, n_head_kv, d, scale);
    }
}

}  // namespace ag::kernels::ref

namespace ag::kernels::ref {

void attention_full(const float* q, const float* k, const float* v, int64_t stride, float* out,
                    int64_t out_stride, int64_t L, int64_t n_head, int64_t d, float scale) {
    std::vector<float> p(static_cast<size_t>(L));
    for (int64_t h = 0; h < n_head; ++h) {
        for (int64_t i = 0; i < L; ++i) {
            const float* qi = q + i * stride + h * d;
            float mx = -std::numeric_limits<float>::infinity();
            for (int64_t j = 0; j < L; ++j) {
                const float* kj = k + j * stride + h * d;
                float s = 0.0f;
                for (int64_t t = 0; t < d; ++t) s += qi[t] * kj[t];
                p[static_cast<size_t>(j)] = s * scale;
                mx = std::max(mx, p[static_cast<size_t>(j)]);
            }
            float sum = 0.0f;
            for (int64_t j = 0; j < L; ++j) {
                p[static_cast<size_t>(j)] = std::exp(p[static_cast<size_t>(j)] - mx);
                sum += p[static_cast<size_t>(j)];
            }
            float* o = out + i * out_stride + h * d;
            for (int64_t t = 0; t < d; ++t) o[t] = 0.0f;
            for (int64_t j = 0; j < L; ++j) {
                const float pj = p[static_cast<size_t>(j)] / sum;
                const float* vj = v + j * stride + h * d;
                for (int64_t t = 0; t < d; ++t) o[t] += pj * vj[t];
            }
        }
    }
}

}  // namespace ag::kernels::ref
