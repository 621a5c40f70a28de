// AVX2 GEMM for float weights (F32/F16/BF16) when many x rows share the weights (prefill);
// internal to the AVX2 unit (matmul_avx2.cpp dispatches to it). Compiled with the same -m
// flags; only called after the CPUID check.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace ag::kernels::cpu::isa {

// Smallest m for which matmul_avx2.cpp takes this path (below it, decode-sized batches keep
// the per-tile conversion of FloatKernel).
constexpr int64_t kFloatGemmMinRowsAvx2 = 32;

// y[i, j] = x[i, :] · w[j, :] (+ bias[j]) for i < m and j0 <= j < j1 (y row stride n); w: n rows
// of k values of type wt (F32, F16 or BF16). Every output gets exactly FloatKernel's arithmetic
// (one 8-lane f32 accumulator, fmadd per 8-value chunk of k in order, a zero-padded tail, the
// same hsum, then + bias), so results are bit-identical to that path and to m = 1. The weights are converted to f32 once per block into a per-thread scratch buffer.
// Returns false (and writes nothing) if that buffer cannot be allocated or wt is not a float type.
bool float_gemm_avx2(DType wt, const float* x, int64_t m, int64_t k, const uint8_t* w, int64_t n,
                     int64_t j0, int64_t j1, const float* bias, float* y);

}  // namespace ag::kernels::cpu::isa
