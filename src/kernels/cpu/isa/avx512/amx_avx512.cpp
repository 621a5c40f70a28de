// AMX-INT8 panel tiles. One TDPBSUD per 32-block computes the 16 x rows × 16 weight rows int32
// dot products (x signed, weights unsigned: the same operands as the VNNI path's vpdpbusd); the
// tile is stored and each row gets the record's offset and the f32 scale FMA with AVX-512, so
// every output sees exactly the VNNI path's sequence of operations. Blocks are software
// pipelined over two C tiles so the AVX-512 epilogue of block b overlaps the tile op of b + 1.
#include "kernels/cpu/isa/avx512/amx.h"

#include <immintrin.h>

#include <cstring>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "kernels/cpu/isa/avx512/panel_format.h"

namespace ag::kernels::cpu::isa::amx {

namespace {

using namespace panel;

struct alignas(64) TileConfig {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
};

// Tiles: A (x rows) 0, 1; B (weight panels) 2, 3; C (int32 sums) 4-7.
enum : int { kA0 = 0, kB0 = 2, kC0 = 4 };

bool probe() {
#if defined(__linux__) && defined(__x86_64__)
    unsigned a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
    const bool tile = (d >> 24) & 1u, int8 = (d >> 25) & 1u;
    if (!tile || !int8) return false;
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
    return false;
#endif
}

// Int32 tile of one block (+ the offsets) → acc[r] = fma(float, d_x · d_w, acc[r]).
inline void epilogue(const int32_t* c, const uint8_t* xb, __m512 dw, __m512* acc) {
    const auto* dx = reinterpret_cast<const float*>(xb + 16 * 32);
    const auto* off = reinterpret_cast<const int32_t*>(xb + 16 * 32 + 64);
    for (int r = 0; r < 16; ++r) {
        const __m512i s = _mm512_add_epi32(_mm512_set1_epi32(off[r]), _mm512_load_si512(c + 16 * r));
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(_mm512_set1_ps(dx[r]), dw), acc[r]);
    }
}

}  // namespace

bool available() {
    static const bool ok = probe();
    return ok;
}

void begin() {
    TileConfig cfg{};
    cfg.palette = 1;
    for (int t = 0; t < 2; ++t) {
        cfg.rows[kA0 + t] = 16;  // x rows
        cfg.colsb[kA0 + t] = 32;  // one block of s8 quants
        cfg.rows[kB0 + t] = 8;  // K / 4
        cfg.colsb[kB0 + t] = 64;  // 16 weight rows × 4 quants
    }
    for (int t = kC0; t < 8; ++t) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;  // 16 int32
    }
    // Inline asm with a memory operand: GCC 12 treats _tile_loadconfig as if it read only the
    // first byte and drops the stores of the row/column fields (then every tile op faults).
    __asm__ volatile("ldtilecfg %0" : : "m"(cfg));
}

void end() { _tile_release(); }

void pack_x(const uint8_t* xa, size_t xrb, int64_t n16, int64_t nb, uint8_t* out) {
    for (int64_t t = 0; t < n16; ++t) {
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* o = out + static_cast<size_t>(b * n16 + t) * kXBlock;
            for (int r = 0; r < 16; ++r) {
                const uint8_t* rec = xa + static_cast<size_t>(16 * t + r) * xrb + static_cast<size_t>(b) * kActBlock;
                std::memcpy(o + 32 * r, rec, 32);
                std::memcpy(o + 16 * 32 + 4 * r, rec + kActScale, 4);
                std::memcpy(o + 16 * 32 + 64 + 4 * r, rec + kActOffset, 4);
            }
        }
    }
}

namespace {

// acc rows (16 × 16 f32 at o) += the epilogue of int32 tile c; first block: from zero.
inline void accumulate(const int32_t* c, const uint8_t* xb, __m512 dw, float* o, bool first) {
    __m512 acc[16];
    for (int r = 0; r < 16; ++r) acc[r] = first ? _mm512_setzero_ps() : _mm512_load_ps(o + 16 * r);
    epilogue(c, xb, dw, acc);
    for (int r = 0; r < 16; ++r) _mm512_store_ps(o + 16 * r, acc[r]);
}

}  // namespace

void panel_gemm(const uint8_t* xp, int64_t n16, const uint8_t* pw0, const uint8_t* pw1, int64_t nb,
                float* acc) {
    alignas(64) int32_t cbuf[4][16 * 16];
    const int64_t np = pw1 ? 2 : 1;
    // Tile registers (literal numbers: GCC's tile intrinsics paste them into the asm): A x tiles
    // 0, 1; B panels 2, 3; C sums 4-7.
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* w0 = pw0 + static_cast<size_t>(b) * kPanelBlock;
        const uint8_t* w1 = pw1 ? pw1 + static_cast<size_t>(b) * kPanelBlock : nullptr;
        const __m512 dw0 = _mm512_load_ps(reinterpret_cast<const float*>(w0 + kPanelScales));
        const __m512 dw1 = w1 ? _mm512_load_ps(reinterpret_cast<const float*>(w1 + kPanelScales)) : dw0;
        _tile_loadd(2, w0, 64);
        if (w1) _tile_loadd(3, w1, 64);
        const uint8_t* xb = xp + static_cast<size_t>(b * n16) * kXBlock;
        const bool first = b == 0;
        for (int64_t t = 0; t < n16; t += 2) {
            const uint8_t* x0 = xb + static_cast<size_t>(t) * kXBlock;
            const uint8_t* x1 = x0 + kXBlock;
            const bool two = t + 1 < n16;
            float* o0 = acc + (t * np) * 256;        // x tile t, panel 0 (panel 1 follows)
            float* o1 = acc + ((t + 1) * np) * 256;  // x tile t + 1
            _tile_loadd(0, x0, 32);
            _tile_zero(4);
            _tile_dpbsud(4, 0, 2);
            if (w1) {
                _tile_zero(5);
                _tile_dpbsud(5, 0, 3);
            }
            if (two) {
                _tile_loadd(1, x1, 32);
                _tile_zero(6);
                _tile_dpbsud(6, 1, 2);
                if (w1) {
                    _tile_zero(7);
                    _tile_dpbsud(7, 1, 3);
                }
            }
            _tile_stored(4, cbuf[0], 64);
            if (w1) _tile_stored(5, cbuf[1], 64);
            if (two) {
                _tile_stored(6, cbuf[2], 64);
                if (w1) _tile_stored(7, cbuf[3], 64);
            }
            accumulate(cbuf[0], x0, dw0, o0, first);
            if (w1) accumulate(cbuf[1], x0, dw1, o0 + 256, first);
            if (two) {
                accumulate(cbuf[2], x1, dw0, o1, first);
                if (w1) accumulate(cbuf[3], x1, dw1, o1 + 256, first);
            }
        }
    }
}

}  // namespace ag::kernels::cpu::isa::amx
