// AVX-512 matmuls for the K-quant weights (Q4_K, Q5_K, Q6_K); internal to the AVX-512 path
// (matmul_avx512.cpp dispatches to them and prepares the Q8_K activations). Compiled with the same -m flags; only called after the
// CPUID check.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ag::kernels::cpu::isa {

// y[i, j] = x[i, :] · w[j, :] (+ bias[j]) for i < m and j0 <= j < j1 (y row stride n); w: n rows
// of k / 256 Q4_K blocks (144 bytes; row_bytes apart); xa: m Q8_K activation rows, xrb bytes apart. Tiles of
// up to 4 x rows × 4 weight rows; one 16-lane accumulator per output with the same operation
// sequence whatever the tile, so a row's result does not depend on m (batch invariance).
void q4k_matmul_avx512(const uint8_t* xa, size_t xrb, int64_t m, int64_t k, const uint8_t* w,
                       size_t row_bytes, int64_t n, int64_t j0, int64_t j1, const float* bias,
                       float* y);
// The same for Q6_K weights (k / 256 blocks of 210 bytes per row).
void q6k_matmul_avx512(const uint8_t* xa, size_t xrb, int64_t m, int64_t k, const uint8_t* w,
                       size_t row_bytes, int64_t n, int64_t j0, int64_t j1, const float* bias,
                       float* y);
// The same for Q5_K weights (k / 256 blocks of 176 bytes per row).
void q5k_matmul_avx512(const uint8_t* xa, size_t xrb, int64_t m, int64_t k, const uint8_t* w,
                       size_t row_bytes, int64_t n, int64_t j0, int64_t j1, const float* bias,
                       float* y);

}  // namespace ag::kernels::cpu::isa
