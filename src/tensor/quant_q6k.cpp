// Q6_K (K-quants, 6.5625 bits per weight): see tensor/quant.h for the layout. Dequantization
// only (files made by llama.cpp use Q6_K for output.weight and some attn_v / ffn_down); the value
// is (d · scale) · (q − 32) in f32, in that order, as ggml and gguf-py compute it.
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

}  // namespace ag::quant
