// Internal interface between the matmul driver (cpu/matmul.cpp) and its ISA-specific paths.
// Each path lives in its own translation unit compiled with its own -m flags; only the table
// below crosses the boundary, and the ISA units use no std:: templates (an inline template
// instantiated with AVX-512 code could otherwise be picked by the linker for a scalar caller).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace ag::kernels::cpu::isa {

struct MatmulTable {
    const char* name;
    // Bytes of one prepared (quantized) activation row for weights of type wt and row length k;
    // 0 when the path reads x as f32 (F32/F16/BF16 weights).
    size_t (*act_row_bytes)(DType wt, int64_t k);
    // Prepares one activation row (k floats) into act_row_bytes(wt, k) bytes at `out`
    // (64-byte aligned).
    void (*prepare_act)(DType wt, const float* x, int64_t k, void* out);
    // y[i, j] = x[i, :] · w[j, :] (+ bias[j]) for i < m and j0 <= j < j1; y has row stride n.
    // xa: the m prepared rows, act_row_bytes apart (nullptr for float weights).
    // Row i's result must not depend on m or on the other rows (batch invariance).
    void (*matmul)(DType wt, const float* x, const uint8_t* xa, int64_t m, int64_t k,
                   const void* w, int64_t n, int64_t j0, int64_t j1, const float* bias, float* y);
};

const MatmulTable& scalar_table();
// nullptr when the build has no such unit (non-x86 targets).
const MatmulTable* avx2_table();
const MatmulTable* avx512_table();
// The AVX-512 path with AMX-INT8 tiles for the Q8_0/Q4_0 GEMM; nullptr without AMX (CPU or OS).
const MatmulTable* amx_table();

}  // namespace ag::kernels::cpu::isa
