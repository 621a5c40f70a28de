// AVX-512 matmuls for Q5_0 and Q5_1 weights; internal to the AVX-512 unit (matmul_avx512.cpp
// dispatches to it and prepares the Q8_0-style activation records of panel_format.h). Compiled
// with the same -m flags; only called after the CPUID check.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ag::kernels::cpu::isa {

// y[i, j] = x[i, :] · w[j, :] (+ bias[j]) for i < m and j0 <= j < j1 (y row stride n); w: n rows
// of k / 32 Q5_0 blocks (q5_1 = false) or Q5_1 blocks (q5_1 = true), row_bytes apart; xa: m
// activation rows of panel::kActBlock records, xrb bytes apart. Tiles of up to 4 x rows × 4
// weight rows; one 8-lane accumulator per output with the same operation sequence whatever the
// tile, so a row's result does not depend on m (batch invariance).
void q5_matmul_avx512(bool q5_1, const uint8_t* xa, size_t xrb, int64_t m, int64_t k, const uint8_t* w,
                      size_t row_bytes, int64_t n, int64_t j0, int64_t j1, const float* bias, float* y);

}  // namespace ag::kernels::cpu::isa
