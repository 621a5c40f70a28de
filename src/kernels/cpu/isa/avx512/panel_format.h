// Byte layouts shared by the AVX-512 matmul unit and its AMX unit (plain constants only: see
// isa.h on what may cross ISA units).
//
// Prepared Q8_0-style activation record per 32-block (kActBlock bytes): 32 quants (s8), d_x
// (f32), −Z·Σ quants (int32; Z = 128 for Q8_0 weights, 8 for Q4_0).
// Repacked weight panel per 32-block (kPanelBlock bytes): 8 × 64 bytes where 64-byte row g holds
// the unsigned quants 4g..4g+3 of each of the 16 panel rows (32-bit element c = row c; this is
// also AMX's "VNNI" layout of a B tile with K = 32, N = 16), then the 16 row scales as f32.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ag::kernels::cpu::isa::panel {

constexpr size_t kActBlock = 40;
constexpr size_t kActScale = 32;        // offset of d_x in a record
constexpr size_t kActOffset = 36;       // offset of −Z·Σ
constexpr int64_t kPanel = 16;          // weight rows per panel
constexpr size_t kPanelBlock = 8 * 64 + 64;
constexpr size_t kPanelScales = 8 * 64;  // offset of the scales in a panel block

}  // namespace ag::kernels::cpu::isa::panel
