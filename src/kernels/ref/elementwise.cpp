#include <cmath>

#include "kernels/ref/ref.h"

namespace ag::kernels::ref {

void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t cols, float eps) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        double ss = 0.0;
        for (int64_t c = 0; c < cols; ++c) ss += static_cast<double>(xr[c]) * xr[c];
        const float inv = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(cols)) + eps);
        for (int64_t c = 0; c < cols; ++c) yr[c] = w[c] * (xr[c] * inv);
    }
}

void silu_mul(const float* gu, float* out, int64_t rows, int64_t f) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* g = gu + r * 2 * f;
        const float* u = g + f;
        for (int64_t j = 0; j < f; ++j) out[r * f + j] = g[j] / (1.0f + std::exp(-g[j])) * u[j];
    }
}

void rope_interleaved(float* x, const float* cos, const float* sin, int64_t n_tok, int64_t n_head,
                      int64_t head_dim, int64_t n_pairs) {
    for (int64_t t = 0; t < n_tok; ++t) {
        for (int64_t h = 0; h < n_head; ++h) {
            float* v = x + (t * n_head + h) * head_dim;
            for (int64_t j = 0; j < n_pairs; ++j) {
                const float c = cos[t * n_pairs + j];
                const float s = sin[t * n_pairs + j];
                const float a = v[2 * j];
                const float b = v[2 * j + 1];
                v[2 * j] = a * c - b * s;
                v[2 * j + 1] = b * c + a * s;
            }
        }
    }
}

}  // namespace ag::kernels::ref
