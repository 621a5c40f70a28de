// Q6_K and Q5_K (K-quants, 6.5625 and 5.5 bits per weight): see tensor/quant.h for the layouts.
// Dequantization only (files made by llama.cpp's llama-quantize use them for output.weight and
// some attn_v / ffn_down). Q6_K: (d · scale) · (q − 32); Q5_K: (d · sc) · q − dmin · m; in f32,
// in that order, as ggml and gguf-py compute them. Also Q5_0 and Q5_1 (32-value blocks, read only;
// llama-quantize stores tensors whose rows are not a multiple of 256 in them): d · (q − 16) and
// d · q + m in f32.
#include "tensor/quant.h"

namespace ag::quant {

void dequantize_row_q6_k(const BlockQ6_K* x, float* y, int64_t n) {
    for (int64_t b = 0; b < n / kQK_K; ++b, y += kQK_K) {
        const float d = f16_to_f32(x[b].d);
        for (int s = 0; s < kQK_K / 16; ++s) {
            const float ds = d * static_cast<float>(x[b].scales[s]);
            for (int i = 0; i < 16; ++i) {
                y[16 * s + i] = ds * static_cast<float>(q6k_code(x[b], 16 * s + i) - 32);
            }
        }
    }
}

void dequantize_row_q5_k(const BlockQ5_K* x, float* y, int64_t n) {
    for (int64_t b = 0; b < n / kQK_K; ++b, y += kQK_K) {
        const float d = f16_to_f32(x[b].d), dmin = f16_to_f32(x[b].dmin);
        for (int s = 0; s < 8; ++s) {
            uint8_t sc, m;
            q4k_scale_min(s, x[b].scales, &sc, &m);
            const float ds = d * sc, ms = dmin * m;
            for (int l = 0; l < 32; ++l) {
                y[32 * s + l] = ds * static_cast<float>(q5k_code(x[b], 32 * s + l)) - ms;
            }
        }
    }
}

void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n) {
    for (int64_t b = 0; b < n / kQK5_0; ++b, y += kQK5_0) {
        const float d = f16_to_f32(x[b].d);
        for (int e = 0; e < kQK5_0; ++e) y[e] = d * static_cast<float>(q5_code(x[b].qs, x[b].qh, e) - 16);
    }
}

void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n) {
    for (int64_t b = 0; b < n / kQK5_0; ++b, y += kQK5_0) {
        const float d = f16_to_f32(x[b].d), m = f16_to_f32(x[b].m);
        for (int e = 0; e < kQK5_0; ++e) y[e] = d * static_cast<float>(q5_code(x[b].qs, x[b].qh, e)) + m;
    }
}

}  // namespace ag::quant
