// AMX-INT8 tiles for the Q8_0/Q4_0 panel GEMM (kernels/cpu/isa/avx512/amx_avx512.cpp, compiled
// with -mamx-tile -mamx-int8 on top of the AVX-512 flags). Only called after available().
#pragma once

#include <cstddef>
#include <cstdint>

namespace ag::kernels::cpu::isa::amx {

// CPUID reports AMX-TILE and AMX-INT8 and the kernel granted this process the tile data state
// (Linux arch_prctl(ARCH_REQ_XCOMP_PERM); asked once).
bool available();

// Loads this thread's tile configuration; end() releases the tile state. Bracket every use.
void begin();
void end();

// Bytes of 16 packed x rows per 32-block: their 16 × 32 quants (row r at 32·r: an A tile with
// a 32-byte stride), then the 16 d_x (f32), then the 16 offsets −Z·Σ (int32).
constexpr size_t kXBlock = 16 * 32 + 64 + 64;

// Packs n16 tiles of 16 prepared x records (panel_format.h; xrb bytes apart, nb blocks) into
// out, block-major: tile t of block b at (b · n16 + t) · kXBlock (64-byte aligned).
void pack_x(const uint8_t* xa, size_t xrb, int64_t n16, int64_t nb, uint8_t* out);

// acc[(t · np + p) · 256 + r · 16 + c] = x tile t row r · panel p row c, for the n16 packed x
// tiles and np = 1 (pw1 null) or 2 repacked panels of nb blocks. Block by block, the panels' B
// tiles stay loaded while every x tile passes (two x tiles × two panels = four independent tile
// products in flight). Per output and block: the exact int32 dot product plus the record's
// offset, then acc = fma(float(sum), d_x · d_w, acc) in block order: bit for bit what the
// AVX-512 VNNI tile computes.
void panel_gemm(const uint8_t* xp, int64_t n16, const uint8_t* pw0, const uint8_t* pw1, int64_t nb,
                float* acc);

}  // namespace ag::kernels::cpu::isa::amx
