#include "tensor/quant.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"

namespace ag::quant {

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
    for (int64_t b = 0; b < n / kQK8_0; ++b, x += kQK8_0) {
        float amax = 0.0f;
        for (int i = 0; i < kQK8_0; ++i) amax = std::max(amax, std::fabs(x[i]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = f32_to_f16(d);
        for (int i = 0; i < kQK8_0; ++i) y[b].qs[i] = static_cast<int8_t>(std::lround(x[i] * id));
    }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
    for (int64_t b = 0; b < n / kQK8_0; ++b, y += kQK8_0) {
        const float d = f16_to_f32(x[b].d);
        for (int i = 0; i < kQK8_0; ++i) y[i] = d * static_cast<float>(x[b].qs[i]);
    }
}

// The element of largest magnitude maps to −8, so the full 4-bit range is used on that side.
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
    for (int64_t b = 0; b < n / kQK4_0; ++b, x += kQK4_0) {
        float amax = 0.0f, vmax = 0.0f;
        for (int i = 0; i < kQK4_0; ++i) {
            if (std::fabs(x[i]) > amax) {
                amax = std::fabs(x[i]);
                vmax = x[i];
            }
        }
        const float d = vmax / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = f32_to_f16(d);
        for (int j = 0; j < kQK4_0 / 2; ++j) {
            const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
            const int q1 =
                std::min(15, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 8.5f)));
            y[b].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
        }
    }
}

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
    for (int64_t b = 0; b < n / kQK4_0; ++b, y += kQK4_0) {
        const float d = f16_to_f32(x[b].d);
        for (int j = 0; j < kQK4_0 / 2; ++j) {
            y[j] = d * static_cast<float>((x[b].qs[j] & 15) - 8);
            y[j + 16] = d * static_cast<float>((x[b].qs[j] >> 4) - 8);
        }
    }
}

void quantize_row(DType t, const float* x, void* y, int64_t n) {
    AG_CHECK(n % dtype_block_elems(t) == 0, "quantize_row: {} elements is not whole {} blocks", n,
             dtype_name(t));
    switch (t) {
        case DType::kQ8_0: return quantize_row_q8_0(x, static_cast<BlockQ8_0*>(y), n);
        case DType::kQ4_0: return quantize_row_q4_0(x, static_cast<BlockQ4_0*>(y), n);
        case DType::kQ4_K: return quantize_row_q4_k(x, static_cast<BlockQ4_K*>(y), n);
        default: AG_CHECK(false, "quantize_row: {} is not a block format", dtype_name(t));
    }
}

void dequantize_row(DType t, const void* x, float* y, int64_t n) {
    AG_CHECK(n % dtype_block_elems(t) == 0, "dequantize_row: {} elements is not whole {} blocks",
             n, dtype_name(t));
    switch (t) {
        case DType::kQ8_0: return dequantize_row_q8_0(static_cast<const BlockQ8_0*>(x), y, n);
        case DType::kQ4_0: return dequantize_row_q4_0(static_cast<const BlockQ4_0*>(x), y, n);
        case DType::kQ4_K: return dequantize_row_q4_k(static_cast<const BlockQ4_K*>(x), y, n);
        case DType::kQ5_K: return dequantize_row_q5_k(static_cast<const BlockQ5_K*>(x), y, n);
        case DType::kQ6_K: return dequantize_row_q6_k(static_cast<const BlockQ6_K*>(x), y, n);
        case DType::kQ5_0: return dequantize_row_q5_0(static_cast<const BlockQ5_0*>(x), y, n);
        case DType::kQ5_1: return dequantize_row_q5_1(static_cast<const BlockQ5_1*>(x), y, n);
        default: AG_CHECK(false, "dequantize_row: {} is not a block format", dtype_name(t));
    }
}

}  // namespace ag::quant
