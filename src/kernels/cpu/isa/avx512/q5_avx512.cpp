// Q5_0 · Q8_0 and Q5_1 · Q8_0 on AVX-512 (F, BW, VL, VNNI). Per 32-value block of one weight row:
// the 5-bit codes 0..31 are rebuilt in one ymm (low nibbles of qs for values 0..15, high nibbles
// for 16..31, bit 4 from qh as a byte mask) and form the unsigned side of vpdpbusd against the
// signed x quants of the activation record; Σx per lane comes from vpdpbusd with ones. Q5_0:
// (d_x·d_w)·(Σ q·x − 16·Σx) per lane; Q5_1: (d_x·d_w)·Σ q·x + (d_x·m_w)·Σx per lane (exact int32
// until the f32 fmadds), lanes summed once at the end.
#include "kernels/cpu/isa/avx512/q5_avx512.h"

#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/isa/avx512/panel_format.h"

namespace ag::kernels::cpu::isa {

namespace {

using panel::kActBlock;
using panel::kActScale;

// No std:: templates in this unit (see isa.h).
inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

inline float h2f(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

inline float hsum(__m256 v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

struct Args {
    const float* x;
    const uint8_t* xa;
    size_t xrb;
    int64_t k;
};

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

    template <int R, int C>
    static void tile(const Args& a, int64_t i, const uint8_t* const* wr, float* out) {
        const int64_t nb = a.k / 32;
        const uint8_t* xa = a.xa + static_cast<size_t>(i) * a.xrb;
        const __m256i zero = _mm256_setzero_si256(), ones8 = _mm256_set1_epi8(1);
        __m256 acc[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
        const int64_t next = C * nb * kBB;  // the next tile's rows, for prefetching
        for (int64_t b = 0; b < nb; ++b) {
            __m256i wq[C];
            float wd[C], wm[C];
            for (int c = 0; c < C; ++c) {
                const uint8_t* blk = wr[c] + kBB * b;
                _mm_prefetch(reinterpret_cast<const char*>(blk + next), _MM_HINT_T0);
                wq[c] = codes(blk);
                wd[c] = h2f(blk);
                wm[c] = Q51 ? h2f(blk + 2) : 0.0f;
            }
            for (int r = 0; r < R; ++r) {
                const uint8_t* rec = xa + static_cast<size_t>(r) * a.xrb + static_cast<size_t>(b) * kActBlock;
                const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec));
                float xd;
                std::memcpy(&xd, rec + kActScale, 4);
                const __m256i sx = _mm256_dpbusd_epi32(zero, ones8, xq);  // Σx per lane
                for (int c = 0; c < C; ++c) {
                    const __m256i s = _mm256_dpbusd_epi32(zero, wq[c], xq);
                    if constexpr (!Q51) {
                        const __m256i t = _mm256_sub_epi32(s, _mm256_slli_epi32(sx, 4));
                        acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t), _mm256_set1_ps(xd * wd[c]), acc[r][c]);
                    } else {
                        acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(xd * wd[c]), acc[r][c]);
                        acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sx), _mm256_set1_ps(xd * wm[c]), acc[r][c]);
                    }
                }
            }
        }
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) out[r * C + c] = hsum(acc[r][c]);
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
