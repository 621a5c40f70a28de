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

// Packs 16 prepared x records (panel_format.h; xrb bytes apart, nb blocks) into out
// (nb · kXBlock bytes, 64-byte aligned).
void pack_x16(const uint8_t* xa, size_t xrb, int64_t nb, uint8_t* out);

// out[r * 16 + c] = x row r · panel row c for r < 16: xp, 16 rows packed by pack_x16; pw: a
// repacked panel; nb blocks. Per output and block: the exact int32 dot product plus the record's
// offset, then acc = fma(float(sum), d_x · d_w, acc) in block order, bit for bit what the
// AVX-512 VNNI tile computes.
void panel_tile16(const uint8_t* xp, const uint8_t* pw, int64_t nb, float* out);

// The same for two packed x tiles × two panels (four independent tile products per block keep
// the AMX unit busy): out[(2·a + p) · 256 + r · 16 + c] = x tile a row r · panel p row c.
void panel_tile32(const uint8_t* xp0, const uint8_t* xp1, const uint8_t* pw0, const uint8_t* pw1,
                  int64_t nb, float* out);

}  // namespace ag::kernels::cpu::isa::amx
