// Q8_K: the activation format paired with Q4_K in dot products (never stored in files; see
// tensor/quant.h). Per 256 values: d = amax / 127, q = round-half-to-even(x / d) in [-127, 127]
// (the rounding SIMD converts use, so vectorised quantizers give the same bytes), bsums = sums of
// each group of 16 quants.
#include <algorithm>
#include <cmath>

#include "tensor/quant.h"

namespace ag::quant {

void quantize_row_q8_k(const float* x, BlockQ8_K* y, int64_t n) {
    for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
        float amax = 0.0f;
        for (int i = 0; i < kQK_K; ++i) amax = std::max(amax, std::fabs(x[i]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = d;
        for (int i = 0; i < kQK_K; ++i) {
            const float q = std::clamp(std::nearbyint(x[i] * id), -127.0f, 127.0f);
            y[b].qs[i] = static_cast<int8_t>(q);
        }
        for (int g = 0; g < kQK_K / 16; ++g) {
            int s = 0;
            for (int i = 0; i < 16; ++i) s += y[b].qs[16 * g + i];
            y[b].bsums[g] = static_cast<int16_t>(s);
        }
    }
}

}  // namespace ag::quant
