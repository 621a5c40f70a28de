// Q6_K · Q8_K and Q5_K · Q8_K on AVX-512 (F, BW, VL, VNNI).
//
// Q6_K: per 64-value chunk of one weight row: the 6-bit codes
// 0..63 are rebuilt in one register (low nibbles from ql, two high bits from qh) and form the
// unsigned side of vpdpbusd against the signed Q8_K quants; each int32 lane then holds 4 products
// of one 16-value sub-block (|sum| ≤ 4·63·127 < 2^15), so vpdpwssd with the sub-block's int8
// scale in the low 16 bits of the lane (high 16 bits zero) applies the scale exactly. The −32
// offset is applied once per block: −32·Σ_s sc_s·Σx_s from the Q8_K group sums (vpmaddwd).
// Everything is exact int32 per lane until one f32 fmadd per block with d_x·d_w.
//
// Q5_K: as matmul_avx512.cpp's Q4_K kernel (a 64-value chunk = one sub-block pair in one register,
// 6-bit scales applied with vpdpwssd, the mins term from the Q8_K group sums) with the fifth bit
// of each code taken from qh (bit s of qh[l] for value l of sub-block s).
#include "kernels/cpu/isa/avx512/kquant_avx512.h"

#include <immintrin.h>

#include <cstring>

#include "tensor/quant.h"

namespace ag::kernels::cpu::isa {

namespace {

using quant::BlockQ8_K;

// No std:: templates in this unit (see isa.h).
#include "kernels/cpu/isa/avx512/unit_common.inc"  // imin, imax, h2f, Args, k_scales_mins

struct Q4KKernel {
    template <int R>
    static constexpr int cols() { return R <= 2 ? 4 : 2; }


    template <int R, int C>
    static void tile(const Args& a, int64_t i, const uint8_t* const* wr, float* out) {
        const int64_t nsb = a.k / 256;
        const auto* xb = reinterpret_cast<const BlockQ8_K*>(a.xa + static_cast<size_t>(i) * a.xrb);
        const int64_t xstride = static_cast<int64_t>(a.xrb / sizeof(BlockQ8_K));
        const int64_t next = C * nsb * 144;  // the next tile's rows, for prefetching
        const __m512i zero = _mm512_setzero_si512();
        const __m512i shifts = _mm512_set_epi64(4, 4, 4, 4, 0, 0, 0, 0);
        const __m512i nib = _mm512_set1_epi8(0x0F);
        __m512 acc[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
        for (int64_t sb = 0; sb < nsb; ++sb) {
            __m512i scm[C];
            for (int c = 0; c < C; ++c) {
                scm[c] = _mm512_cvtepu8_epi32(k_scales_mins(wr[c] + 144 * sb + 4));
            }
            __m512i A[R][C];
            for (int r = 0; r < R; ++r)
                for (int c = 0; c < C; ++c) A[r][c] = zero;
            for (int ch = 0; ch < 4; ++ch) {
                const __m512i idx = _mm512_set_epi32(2 * ch + 1, 2 * ch + 1, 2 * ch + 1, 2 * ch + 1,
                                                     2 * ch + 1, 2 * ch + 1, 2 * ch + 1, 2 * ch + 1,
                                                     2 * ch, 2 * ch, 2 * ch, 2 * ch, 2 * ch, 2 * ch,
                                                     2 * ch, 2 * ch);
                __m512i wq[C], sc[C];
                for (int c = 0; c < C; ++c) {
                    _mm_prefetch(reinterpret_cast<const char*>(wr[c] + next + 144 * sb + 16 + 32 * ch), _MM_HINT_T0);
                    const __m512i v = _mm512_broadcast_i64x4(
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[c] + 144 * sb + 16 + 32 * ch)));
                    wq[c] = _mm512_and_si512(_mm512_srlv_epi64(v, shifts), nib);
                    sc[c] = _mm512_permutexvar_epi32(idx, scm[c]);
                }
                for (int r = 0; r < R; ++r) {
                    const __m512i xq = _mm512_loadu_si512(xb[r * xstride + sb].qs + 64 * ch);
                    for (int c = 0; c < C; ++c) {
                        A[r][c] = _mm512_dpwssd_epi32(A[r][c], _mm512_dpbusd_epi32(zero, wq[c], xq), sc[c]);
                    }
                }
            }
            const __m128i mdup_idx = _mm_set_epi8(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
            for (int c = 0; c < C; ++c) {
                const uint8_t* blk = wr[c] + 144 * sb;
                const __m256i mdup = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(k_scales_mins(blk + 4), mdup_idx));
                const __m512 wd = _mm512_set1_ps(h2f(blk)), wm = _mm512_set1_ps(h2f(blk + 2));
                for (int r = 0; r < R; ++r) {
                    const BlockQ8_K& xr = xb[r * xstride + sb];
                    const __m512 dx = _mm512_set1_ps(xr.d);
                    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr.bsums));
                    const __m512i mins = _mm512_zextsi256_si512(_mm256_madd_epi16(bs, mdup));
                    acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(A[r][c]), _mm512_mul_ps(dx, wd), acc[r][c]);
                    acc[r][c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_mul_ps(dx, wm), acc[r][c]);
                }
            }
        }
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) out[r * C + c] = _mm512_reduce_add_ps(acc[r][c]);
    }
};

struct Q6KKernel {
    template <int R>
    static constexpr int cols() { return R <= 2 ? 4 : 2; }

    static constexpr int64_t kBB = 210;  // ql[128], qh[64], scales[16], d (f16)

    template <int R, int C>
    static void tile(const Args& a, int64_t i, const uint8_t* const* wr, float* out) {
        const int64_t nsb = a.k / 256;
        const auto* xb = reinterpret_cast<const BlockQ8_K*>(a.xa + static_cast<size_t>(i) * a.xrb);
        const int64_t xstride = static_cast<int64_t>(a.xrb / sizeof(BlockQ8_K));
        const int64_t next = C * nsb * kBB;  // the next tile's rows, for prefetching
        const __m512i zero = _mm512_setzero_si512();
        const __m512i m4 = _mm512_set1_epi8(0x0F), m3 = _mm512_set1_epi8(3);
        // qh bits for the low half of the 128 values (0-1 for values 0..31, 2-3 for 32..63) and
        // for the high half (4-5, 6-7): per-qword right shifts of qh broadcast to both 256-bit halves.
        const __m512i sh_lo = _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0);
        const __m512i sh_hi = _mm512_set_epi64(6, 6, 6, 6, 4, 4, 4, 4);
        // Lane l of chunk ch (64 values) covers sub-block 4·ch + l/4.
        __m512i idx[4];
        for (int ch = 0; ch < 4; ++ch) {
            const int b = 4 * ch;
            idx[ch] = _mm512_set_epi32(b + 3, b + 3, b + 3, b + 3, b + 2, b + 2, b + 2, b + 2,
                                       b + 1, b + 1, b + 1, b + 1, b, b, b, b);
        }
        const __m512i low16 = _mm512_set1_epi32(0xFFFF);
        __m512 acc[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
        for (int64_t sb = 0; sb < nsb; ++sb) {
            __m512i sc32[C];
            for (int c = 0; c < C; ++c) {
                const uint8_t* blk = wr[c] + kBB * sb;
                for (int l = 0; l < 4; ++l) {
                    _mm_prefetch(reinterpret_cast<const char*>(blk + next + 64 * l), _MM_HINT_T0);
                }
                const __m128i s8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192));
                sc32[c] = _mm512_and_si512(_mm512_cvtepi8_epi32(s8), low16);
            }
            __m512i A[R][C];
            for (int r = 0; r < R; ++r)
                for (int c = 0; c < C; ++c) A[r][c] = zero;
            for (int h = 0; h < 2; ++h) {
                __m512i q[C][2], sc[C][2];
                for (int c = 0; c < C; ++c) {
                    const uint8_t* blk = wr[c] + kBB * sb;
                    const __m512i ql = _mm512_loadu_si512(blk + 64 * h);
                    const __m512i qh = _mm512_broadcast_i64x4(
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * h)));
                    const __m512i top_lo = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(qh, sh_lo), m3), 4);
                    const __m512i top_hi = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(qh, sh_hi), m3), 4);
                    q[c][0] = _mm512_or_si512(_mm512_and_si512(ql, m4), top_lo);
                    q[c][1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4), top_hi);
                    sc[c][0] = _mm512_permutexvar_epi32(idx[2 * h], sc32[c]);
                    sc[c][1] = _mm512_permutexvar_epi32(idx[2 * h + 1], sc32[c]);
                }
                for (int r = 0; r < R; ++r) {
                    const int8_t* xq = xb[r * xstride + sb].qs + 128 * h;
                    const __m512i x0 = _mm512_loadu_si512(xq);
                    const __m512i x1 = _mm512_loadu_si512(xq + 64);
                    for (int c = 0; c < C; ++c) {
                        A[r][c] = _mm512_dpwssd_epi32(A[r][c], _mm512_dpbusd_epi32(zero, q[c][0], x0), sc[c][0]);
                        A[r][c] = _mm512_dpwssd_epi32(A[r][c], _mm512_dpbusd_epi32(zero, q[c][1], x1), sc[c][1]);
                    }
                }
            }
            for (int c = 0; c < C; ++c) {
                const uint8_t* blk = wr[c] + kBB * sb;
                const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192)));
                const __m512 wd = _mm512_set1_ps(h2f(blk + 208));
                for (int r = 0; r < R; ++r) {
                    const BlockQ8_K& xr = xb[r * xstride + sb];
                    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr.bsums));
                    const __m512i corr = _mm512_zextsi256_si512(_mm256_slli_epi32(_mm256_madd_epi16(bs, sc16), 5));
                    const __m512i s = _mm512_sub_epi32(A[r][c], corr);
                    acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(_mm512_set1_ps(xr.d), wd), acc[r][c]);
                }
            }
        }
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) out[r * C + c] = _mm512_reduce_add_ps(acc[r][c]);
    }
};

struct Q5KKernel {
    template <int R>
    static constexpr int cols() { return R <= 2 ? 4 : 2; }

    static constexpr int64_t kBB = 176;  // d, dmin (f16), scales[12], qh[32], qs[128]


    template <int R, int C>
    static void tile(const Args& a, int64_t i, const uint8_t* const* wr, float* out) {
        const int64_t nsb = a.k / 256;
        const auto* xb = reinterpret_cast<const BlockQ8_K*>(a.xa + static_cast<size_t>(i) * a.xrb);
        const int64_t xstride = static_cast<int64_t>(a.xrb / sizeof(BlockQ8_K));
        const int64_t next = C * nsb * kBB;  // the next tile's rows, for prefetching
        const __m512i zero = _mm512_setzero_si512();
        const __m512i shifts = _mm512_set_epi64(4, 4, 4, 4, 0, 0, 0, 0);
        const __m512i nib = _mm512_set1_epi8(0x0F), bit = _mm512_set1_epi8(1);
        __m512 acc[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
        for (int64_t sb = 0; sb < nsb; ++sb) {
            __m512i scm[C], qh[C];
            for (int c = 0; c < C; ++c) {
                const uint8_t* blk = wr[c] + kBB * sb;
                scm[c] = _mm512_cvtepu8_epi32(k_scales_mins(blk + 4));
                qh[c] = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16)));
            }
            __m512i A[R][C];
            for (int r = 0; r < R; ++r)
                for (int c = 0; c < C; ++c) A[r][c] = zero;
            for (int ch = 0; ch < 4; ++ch) {
                const __m512i idx = _mm512_set_epi32(2 * ch + 1, 2 * ch + 1, 2 * ch + 1, 2 * ch + 1,
                                                     2 * ch + 1, 2 * ch + 1, 2 * ch + 1, 2 * ch + 1,
                                                     2 * ch, 2 * ch, 2 * ch, 2 * ch, 2 * ch, 2 * ch,
                                                     2 * ch, 2 * ch);
                // Low 256 bits: sub-block 2ch (qh bit 2ch); high: 2ch + 1.
                const __m512i hshift = _mm512_set_epi64(2 * ch + 1, 2 * ch + 1, 2 * ch + 1, 2 * ch + 1,
                                                        2 * ch, 2 * ch, 2 * ch, 2 * ch);
                __m512i wq[C], sc[C];
                for (int c = 0; c < C; ++c) {
                    const uint8_t* qs = wr[c] + kBB * sb + 48 + 32 * ch;
                    _mm_prefetch(reinterpret_cast<const char*>(qs + next), _MM_HINT_T0);
                    const __m512i v = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs)));
                    const __m512i hb = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(qh[c], hshift), bit), 4);
                    wq[c] = _mm512_or_si512(_mm512_and_si512(_mm512_srlv_epi64(v, shifts), nib), hb);
                    sc[c] = _mm512_permutexvar_epi32(idx, scm[c]);
                }
                for (int r = 0; r < R; ++r) {
                    const __m512i xq = _mm512_loadu_si512(xb[r * xstride + sb].qs + 64 * ch);
                    for (int c = 0; c < C; ++c) {
                        A[r][c] = _mm512_dpwssd_epi32(A[r][c], _mm512_dpbusd_epi32(zero, wq[c], xq), sc[c]);
                    }
                }
            }
            const __m128i mdup_idx = _mm_set_epi8(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
            for (int c = 0; c < C; ++c) {
                const uint8_t* blk = wr[c] + kBB * sb;
                const __m256i mdup = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(k_scales_mins(blk + 4), mdup_idx));
                const __m512 wd = _mm512_set1_ps(h2f(blk)), wm = _mm512_set1_ps(h2f(blk + 2));
                for (int r = 0; r < R; ++r) {
                    const BlockQ8_K& xr = xb[r * xstride + sb];
                    const __m512 dx = _mm512_set1_ps(xr.d);
                    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr.bsums));
                    const __m512i mins = _mm512_zextsi256_si512(_mm256_madd_epi16(bs, mdup));
                    acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(A[r][c]), _mm512_mul_ps(dx, wd), acc[r][c]);
                    acc[r][c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_mul_ps(dx, wm), acc[r][c]);
                }
            }
        }
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) out[r * C + c] = _mm512_reduce_add_ps(acc[r][c]);
    }
};

#include "kernels/cpu/isa/tile_loops.inc"  // row_tiles, run

}  // namespace

void q4k_matmul_avx512(const uint8_t* xa, size_t xrb, int64_t m, int64_t k, const uint8_t* w,
                       size_t row_bytes, int64_t n, int64_t j0, int64_t j1, const float* bias,
                       float* y) {
    const Args a{nullptr, xa, xrb, k};
    run<Q4KKernel>(a, m, w, row_bytes, n, j0, j1, bias, y);
}

void q6k_matmul_avx512(const uint8_t* xa, size_t xrb, int64_t m, int64_t k, const uint8_t* w,
                       size_t row_bytes, int64_t n, int64_t j0, int64_t j1, const float* bias,
                       float* y) {
    const Args a{nullptr, xa, xrb, k};
    run<Q6KKernel>(a, m, w, row_bytes, n, j0, j1, bias, y);
}

void q5k_matmul_avx512(const uint8_t* xa, size_t xrb, int64_t m, int64_t k, const uint8_t* w,
                       size_t row_bytes, int64_t n, int64_t j0, int64_t j1, const float* bias,
                       float* y) {
    const Args a{nullptr, xa, xrb, k};
    run<Q5KKernel>(a, m, w, row_bytes, n, j0, j1, bias, y);
}

}  // namespace ag::kernels::cpu::isa
