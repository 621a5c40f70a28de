#include <cmath>
#include <vector>

#include "kernels/ref/ref.h"
#include "tensor/quant.h"
#include "tensor/tensor.h"

namespace ag::kernels::ref {

void quantize_act_q8_0(const float* x, ActQ8_0* y, int64_t k) {
    for (int64_t b = 0; b < k / 32; ++b, x += 32) {
        float amax = 0.0f;
        for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = d;
        for (int i = 0; i < 32; ++i) y[b].qs[i] = static_cast<int8_t>(std::nearbyint(x[i] * id));
    }
}

float dot_q8_0(const ActQ8_0* x, const quant::BlockQ8_0* w, int64_t nb) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
        int32_t s = 0;
        for (int i = 0; i < 32; ++i) s += int32_t{x[b].qs[i]} * int32_t{w[b].qs[i]};
        acc += (x[b].d * f16_to_f32(w[b].d)) * static_cast<float>(s);
    }
    return acc;
}

float dot_q4_0(const ActQ8_0* x, const quant::BlockQ4_0* w, int64_t nb) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
        int32_t s = 0;
        for (int i = 0; i < 16; ++i) {
            s += int32_t{x[b].qs[i]} * ((w[b].qs[i] & 15) - 8);
            s += int32_t{x[b].qs[i + 16]} * ((w[b].qs[i] >> 4) - 8);
        }
        acc += (x[b].d * f16_to_f32(w[b].d)) * static_cast<float>(s);
    }
    return acc;
}

float dot_q5_0(const ActQ8_0* x, const quant::BlockQ5_0* w, int64_t nb) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
        int32_t s = 0;
        for (int e = 0; e < 32; ++e) s += int32_t{x[b].qs[e]} * (quant::q5_code(w[b].qs, w[b].qh, e) - 16);
        acc += (x[b].d * f16_to_f32(w[b].d)) * static_cast<float>(s);
    }
    return acc;
}

float dot_q5_1(const ActQ8_0* x, const quant::BlockQ5_1* w, int64_t nb) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
        int32_t s = 0, sx = 0;
        for (int e = 0; e < 32; ++e) {
            s += int32_t{x[b].qs[e]} * quant::q5_code(w[b].qs, w[b].qh, e);
            sx += x[b].qs[e];
        }
        acc += (x[b].d * f16_to_f32(w[b].d)) * static_cast<float>(s);
        acc += (x[b].d * f16_to_f32(w[b].m)) * static_cast<float>(sx);
    }
    return acc;
}

namespace {

// Q4_K and Q5_K share everything but the code of element e (0..15 resp. 0..31): per 32-element
// sub-block s an exact int32 Σ q_x·code times its 6-bit scale, the mins against the Q8_K sums.
template <class Block, class Code>
float dot_scale_min(const quant::BlockQ8_K* x, const Block* w, int64_t nb, Code code) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
        int32_t sa = 0, sm = 0;
        for (int s = 0; s < 8; ++s) {
            uint8_t sc, mn;
            quant::q4k_scale_min(s, w[b].scales, &sc, &mn);
            int32_t dot = 0;
            for (int l = 0; l < 32; ++l) dot += int32_t{x[b].qs[32 * s + l]} * code(w[b], 32 * s + l);
            sa += int32_t{sc} * dot;
            sm += int32_t{mn} * (x[b].bsums[2 * s] + x[b].bsums[2 * s + 1]);
        }
        acc += (x[b].d * f16_to_f32(w[b].d)) * static_cast<float>(sa);
        acc -= (x[b].d * f16_to_f32(w[b].dmin)) * static_cast<float>(sm);
    }
    return acc;
}

}  // namespace

float dot_q4_k(const quant::BlockQ8_K* x, const quant::BlockQ4_K* w, int64_t nb) {
    // Element e = 32·s + l: nibble (s % 2) of byte l of the 32-byte group s / 2.
    return dot_scale_min(x, w, nb, [](const quant::BlockQ4_K& blk, int e) {
        return (blk.qs[32 * (e / 64) + e % 32] >> (((e / 32) % 2) * 4)) & 15;
    });
}

float dot_q5_k(const quant::BlockQ8_K* x, const quant::BlockQ5_K* w, int64_t nb) {
    return dot_scale_min(x, w, nb, [](const quant::BlockQ5_K& blk, int e) { return quant::q5k_code(blk, e); });
}

float dot_q6_k(const quant::BlockQ8_K* x, const quant::BlockQ6_K* w, int64_t nb) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
        int32_t sa = 0;
        for (int s = 0; s < 16; ++s) {
            int32_t dot = 0;
            for (int l = 0; l < 16; ++l) {
                dot += int32_t{x[b].qs[16 * s + l]} * (quant::q6k_code(w[b], 16 * s + l) - 32);
            }
            sa += int32_t{w[b].scales[s]} * dot;
        }
        acc += (x[b].d * f16_to_f32(w[b].d)) * static_cast<float>(sa);
    }
    return acc;
}

namespace {

void matmul_quant(const float* x, int64_t m, int64_t k, const void* w, DType w_dtype, int64_t n,
                  const float* bias, float* y) {
    const int64_t be = dtype_block_elems(w_dtype), nb = k / be;
    const size_t row_bytes = dtype_row_bytes(w_dtype, k);
    const auto* wb = static_cast<const uint8_t*>(w);
    const bool q8k = dtype_block_elems(w_dtype) == quant::kQK_K;  // K-quants
    std::vector<ActQ8_0> xa(static_cast<size_t>(q8k ? 0 : nb));
    std::vector<quant::BlockQ8_K> xk(static_cast<size_t>(q8k ? nb : 0));
    for (int64_t i = 0; i < m; ++i) {
        if (q8k) {
            quant::quantize_row_q8_k(x + i * k, xk.data(), k);
        } else {
            quantize_act_q8_0(x + i * k, xa.data(), k);
        }
        for (int64_t j = 0; j < n; ++j) {
            const void* wr = wb + static_cast<size_t>(j) * row_bytes;
            float acc = 0.0f;
            switch (w_dtype) {
                case DType::kQ8_0:
                    acc = dot_q8_0(xa.data(), static_cast<const quant::BlockQ8_0*>(wr), nb);
                    break;
                case DType::kQ4_0:
                    acc = dot_q4_0(xa.data(), static_cast<const quant::BlockQ4_0*>(wr), nb);
                    break;
                case DType::kQ5_0:
                    acc = dot_q5_0(xa.data(), static_cast<const quant::BlockQ5_0*>(wr), nb);
                    break;
                case DType::kQ5_1:
                    acc = dot_q5_1(xa.data(), static_cast<const quant::BlockQ5_1*>(wr), nb);
                    break;
                case DType::kQ5_K:
                    acc = dot_q5_k(xk.data(), static_cast<const quant::BlockQ5_K*>(wr), nb);
                    break;
                case DType::kQ6_K:
                    acc = dot_q6_k(xk.data(), static_cast<const quant::BlockQ6_K*>(wr), nb);
                    break;
                default:
                    acc = dot_q4_k(xk.data(), static_cast<const quant::BlockQ4_K*>(wr), nb);
                    break;
            }
            y[i * n + j] = acc + (bias ? bias[j] : 0.0f);
        }
    }
}

}  // namespace

void matmul(const float* x, int64_t m, int64_t k, const void* w, DType w_dtype, int64_t n,
            const float* bias, float* y) {
    if (dtype_is_quantized(w_dtype)) return matmul_quant(x, m, k, w, w_dtype, n, bias, y);
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
