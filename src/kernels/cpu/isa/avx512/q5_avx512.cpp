// Q5_0 · Q8_0 and Q5_1 · Q8_0 on AVX-512 (F, BW, VL, VNNI). Per 32-value block of one weight row:
// the 5-bit codes 0..31 are rebuilt in one ymm (low nibbles of qs for values 0..15, high nibbles
// for 16..31, bit 4 from qh as a byte mask) and form the unsigned side of vpdpbusd against the
// signed x quants of the activation record; Σx per lane comes from vpdpbusd with ones. Two blocks
// share one zmm (lanes 0-7, 8-15). Q5_0: (d_x·d_w)·(Σ q·x − 16·Σx) per lane (−16·Σx is vpdpbusd's
// starting value); Q5_1: (d_x·d_w)·Σ q·x + (d_x·m_w)·Σx per lane (exact int32 until the f32
// fmadds), lanes summed once at the end.
#include "kernels/cpu/isa/avx512/q5_avx512.h"

#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/isa/avx512/panel_format.h"

namespace ag::kernels::cpu::isa {

namespace {

using panel::kActBlock;
using panel::kActScale;

// No std:: templates in this unit (see isa.h).
#include "kernels/cpu/isa/avx512/unit_common.inc"  // imin, imax, h2f, Args, k_scales_mins

template <bool Q51>
struct Q5Kernel {
    template <int R>
    static constexpr int cols() { return R <= 2 ? 4 : 2; }

    static constexpr int64_t kBB = Q51 ? 24 : 22;  // d (f16)[, m (f16)], qh[4], qs[16]
    static constexpr int64_t kQh = Q51 ? 4 : 2;

    static inline __m256i codes(const uint8_t* blk) {
        uint32_t qh;
        std::memcpy(&qh, blk + kQh, 4);
        const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQh + 4));
        const __m256i lo = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
        return _mm256_or_si256(lo, _mm256_maskz_mov_epi8(static_cast<__mmask32>(qh), _mm256_set1_epi8(0x10)));
    }

    // Two 32-byte halves in one zmm (the high half zero when there is no second block).
    static inline __m512i pair(__m256i lo, __m256i hi) {
        return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
    static inline __m512 pair(float lo, float hi) {
        return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(lo)), _mm256_set1_ps(hi), 1);
    }

    template <int R, int C>
    static void tile(const Args& a, int64_t i, const uint8_t* const* wr, float* out) {
        const int64_t nb = a.k / 32;
        const uint8_t* xa = a.xa + static_cast<size_t>(i) * a.xrb;
        const __m512i zero = _mm512_setzero_si512(), ones8 = _mm512_set1_epi8(1);
        __m512 acc[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
        const int64_t next = C * nb * kBB;  // the next tile's rows, for prefetching
        // Blocks b and b + 1 side by side (lanes 0-7 and 8-15).
        for (int64_t b = 0; b < nb; b += 2) {
            const bool two = b + 1 < nb;
            __m512i wq[C];
            __m512 wd[C], wm[C];
            for (int c = 0; c < C; ++c) {
                const uint8_t* blk = wr[c] + kBB * b;
                _mm_prefetch(reinterpret_cast<const char*>(blk + next), _MM_HINT_T0);
                wq[c] = pair(codes(blk), two ? codes(blk + kBB) : _mm256_setzero_si256());
                wd[c] = pair(h2f(blk), two ? h2f(blk + kBB) : 0.0f);
                if constexpr (Q51) wm[c] = pair(h2f(blk + 2), two ? h2f(blk + kBB + 2) : 0.0f);
            }
            for (int r = 0; r < R; ++r) {
                const uint8_t* rec = xa + static_cast<size_t>(r) * a.xrb + static_cast<size_t>(b) * kActBlock;
                float xd0, xd1 = 0.0f;
                std::memcpy(&xd0, rec + kActScale, 4);
                __m256i xhi = _mm256_setzero_si256();
                if (two) {
                    std::memcpy(&xd1, rec + kActBlock + kActScale, 4);
                    xhi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec + kActBlock));
                }
                const __m512i xq = pair(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec)), xhi);
                const __m512 xd = pair(xd0, xd1);
                const __m512i sx = _mm512_dpbusd_epi32(zero, ones8, xq);  // Σx per lane
                if constexpr (!Q51) {
                    const __m512i init = _mm512_sub_epi32(zero, _mm512_slli_epi32(sx, 4));  // −16·Σx
                    for (int c = 0; c < C; ++c) {
                        const __m512i t = _mm512_dpbusd_epi32(init, wq[c], xq);
                        acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_mul_ps(xd, wd[c]), acc[r][c]);
                    }
                } else {
                    const __m512 sxf = _mm512_cvtepi32_ps(sx);
                    for (int c = 0; c < C; ++c) {
                        const __m512i t = _mm512_dpbusd_epi32(zero, wq[c], xq);
                        acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_mul_ps(xd, wd[c]), acc[r][c]);
                        acc[r][c] = _mm512_fmadd_ps(sxf, _mm512_mul_ps(xd, wm[c]), acc[r][c]);
                    }
                }
            }
        }
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) out[r * C + c] = _mm512_reduce_add_ps(acc[r][c]);
    }
};

#include "kernels/cpu/isa/tile_loops.inc"  // row_tiles, run

}  // namespace

void q5_matmul_avx512(bool q5_1, const uint8_t* xa, size_t xrb, int64_t m, int64_t k, const uint8_t* w,
                      size_t row_bytes, int64_t n, int64_t j0, int64_t j1, const float* bias, float* y) {
    const Args a{nullptr, xa, xrb, k};
    if (q5_1) {
        run<Q5Kernel<true>>(a, m, w, row_bytes, n, j0, j1, bias, y);
    } else {
        run<Q5Kernel<false>>(a, m, w, row_bytes, n, j0, j1, bias, y);
    }
}

}  // namespace ag::kernels::cpu::isa
