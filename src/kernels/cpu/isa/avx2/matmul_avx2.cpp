// AVX2 path (AVX2, FMA, F16C): for x86-64 CPUs without AVX-512. Compiled with its own -m flags
// (see src/kernels/CMakeLists.txt), only called after CPUID says the CPU has them. Same tiling
// and batch-invariance rule as the AVX-512 path (one 8-lane accumulator per output element, the
// same operation sequence whatever the tile shape), with 8-bit products formed by vpmaddubsw:
//   Q8_0: |w| (unsigned) × sign(x, w) (signed), pairs summed by vpmaddwd;
//   Q4_0: nibbles (unsigned) × x, plus −8·Σx per lane prepared with x;
//   Q5_0 / Q5_1: the 5-bit codes (nibbles plus bit 4 from qh) × x on the Q8_0 record; Q5_0
//     subtracts 16·Σx per lane, Q5_1 adds (d_x·m)·Σx per lane;
//   Q4_K: nibbles × x, the pair sums multiplied by the sub-block scale with vpmaddwd;
//   Q5_K: as Q4_K with the fifth bit from qh added to the nibbles (codes 0..31);
//   Q6_K: the 6-bit codes 0..63 (unsigned) × x, pair sums times the int8 sub-block scale with
//     vpmaddwd, minus 32·Σ_s sc_s·Σx_s from the Q8_K group sums.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/isa/avx2/float_gemm_avx2.h"
#include "kernels/cpu/isa/isa.h"
#include "tensor/quant.h"

namespace ag::kernels::cpu::isa {

namespace {

using quant::BlockQ8_K;

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

inline float hmax(__m256 v) {
    const __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(t, _mm_movehdup_ps(t)));
}

struct Args {
    const float* x;
    const uint8_t* xa;
    size_t xrb;
    int64_t k;
};

// ---------------------------------------------------------------- float weights

#include "kernels/cpu/isa/avx2/load_w.inc"  // load_w

template <DType WT>
struct FloatKernel {
    template <int R>
    static constexpr int cols() { return R <= 2 ? 4 : 2; }

    template <int R, int C>
    static void tile(const Args& a, int64_t i, const uint8_t* const* wr, float* out) {
        const int64_t k = a.k;
        const float* x = a.x + i * k;
        constexpr size_t kEs = WT == DType::kF32 ? 4 : 2;
        __m256 acc[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
        int64_t t = 0;
        for (; t + 8 <= k; t += 8) {
            __m256 wv[C];
            for (int c = 0; c < C; ++c) wv[c] = load_w<WT>(wr[c], t);
            for (int r = 0; r < R; ++r) {
                const __m256 xv = _mm256_loadu_ps(x + r * k + t);
                for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(xv, wv[c], acc[r][c]);
            }
        }
        if (t < k) {  // the tail, through zero-padded copies
            const int64_t rem = k - t;
            alignas(32) uint8_t wbuf[C][32];
            alignas(32) float xbuf[8];
            __m256 wv[C];
            for (int c = 0; c < C; ++c) {
                std::memset(wbuf[c], 0, sizeof wbuf[c]);
                std::memcpy(wbuf[c], wr[c] + static_cast<size_t>(t) * kEs, static_cast<size_t>(rem) * kEs);
                wv[c] = load_w<WT>(wbuf[c], 0);
            }
            for (int r = 0; r < R; ++r) {
                std::memset(xbuf, 0, sizeof xbuf);
                std::memcpy(xbuf, x + r * k + t, static_cast<size_t>(rem) * 4);
                const __m256 xv = _mm256_load_ps(xbuf);
                for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(xv, wv[c], acc[r][c]);
            }
        }
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) out[r * C + c] = hsum(acc[r][c]);
    }
};

// ---------------------------------------------------------------- Q8_0 / Q4_0 weights

// Prepared activation record per 32-block, 32-byte aligned:
//   [0, 32) quants (s8); [32, 64) int32 × 8: −8·(sum of each lane's 4 quants) (Q4_0 only);
//   [64, 68) f32 d; padding to 96.
constexpr size_t kBlockBytes = 96;

void prepare_q8_0_act(DType wt, const float* x, int64_t k, uint8_t* out) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    for (int64_t b = 0; b < k / 32; ++b, x += 32) {
        uint8_t* rec = out + b * kBlockBytes;
        __m256 v[4];
        __m256 mx = _mm256_setzero_ps();
        for (int g = 0; g < 4; ++g) {
            v[g] = _mm256_loadu_ps(x + 8 * g);
            mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, v[g]));
        }
        const float d = hmax(mx) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const __m256 vid = _mm256_set1_ps(id);
        __m256i q[4];
        for (int g = 0; g < 4; ++g) q[g] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[g], vid), kRound));
        const __m256i p01 = _mm256_packs_epi32(q[0], q[1]), p23 = _mm256_packs_epi32(q[2], q[3]);
        const __m256i qb = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p01, p23), perm);
        _mm256_store_si256(reinterpret_cast<__m256i*>(rec), qb);
        __m256i corr = _mm256_setzero_si256();
        if (wt == DType::kQ4_0) {
            const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), qb), _mm256_set1_epi16(1));
            corr = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(s, 3));
        }
        _mm256_store_si256(reinterpret_cast<__m256i*>(rec + 32), corr);
        std::memcpy(rec + 64, &d, 4);
    }
}

template <DType WT>
struct Q8Kernel {
    template <int R>
    static constexpr int cols() { return R <= 2 ? 4 : 2; }

    template <int R, int C>
    static void tile(const Args& a, int64_t i, const uint8_t* const* wr, float* out) {
        const int64_t nb = a.k / 32;
        const uint8_t* xa = a.xa + static_cast<size_t>(i) * a.xrb;
        const __m256i ones = _mm256_set1_epi16(1);
        __m256 acc[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
        constexpr int64_t kBB = WT == DType::kQ8_0 ? 34 : 18;
        const int64_t next = C * nb * kBB;  // the next tile's rows, for prefetching
        for (int64_t b = 0; b < nb; ++b) {
            __m256i wq[C];
            float wd[C];
            for (int c = 0; c < C; ++c) {
                _mm_prefetch(reinterpret_cast<const char*>(wr[c] + next + kBB * b), _MM_HINT_T0);
                if constexpr (WT == DType::kQ8_0) {
                    const uint8_t* blk = wr[c] + 34 * b;
                    wq[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
                    wd[c] = h2f(blk);
                } else {
                    const uint8_t* blk = wr[c] + 18 * b;
                    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
                    wq[c] = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
                    wd[c] = h2f(blk);
                }
            }
            for (int r = 0; r < R; ++r) {
                const uint8_t* rec = xa + static_cast<size_t>(r) * a.xrb + b * kBlockBytes;
                const __m256i xq = _mm256_load_si256(reinterpret_cast<const __m256i*>(rec));
                float xd;
                std::memcpy(&xd, rec + 64, 4);
                for (int c = 0; c < C; ++c) {
                    __m256i s;
                    if constexpr (WT == DType::kQ8_0) {
                        s = _mm256_madd_epi16(
                            _mm256_maddubs_epi16(_mm256_sign_epi8(wq[c], wq[c]), _mm256_sign_epi8(xq, wq[c])), ones);
                    } else {
                        s = _mm256_add_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(wq[c], xq), ones),
                                             _mm256_load_si256(reinterpret_cast<const __m256i*>(rec + 32)));
                    }
                    acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(xd * wd[c]), acc[r][c]);
                }
            }
        }
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) out[r * C + c] = hsum(acc[r][c]);
    }
};

// ---------------------------------------------------------------- Q5_0 / Q5_1 weights

template <DType WT>
struct Q5Kernel {
    template <int R>
    static constexpr int cols() { return R <= 2 ? 4 : 2; }

    static constexpr int64_t kBB = WT == DType::kQ5_0 ? 22 : 24;
    static constexpr int64_t kQh = WT == DType::kQ5_0 ? 2 : 4;  // offset of qh in the block

    // The 32 codes of a block as bytes (element e in byte e).
    static inline __m256i codes(const uint8_t* blk) {
        uint32_t qh;
        std::memcpy(&qh, blk + kQh, 4);
        const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQh + 4));
        const __m256i lo = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
        // Byte e takes qh byte e / 8, then tests bit e % 8.
        const __m256i rep = _mm256_shuffle_epi8(
            _mm256_set1_epi32(static_cast<int>(qh)),
            _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3,
                             3, 3, 3));
        const __m256i bits = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
        const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(rep, bits), bits);
        return _mm256_or_si256(lo, _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
    }

    template <int R, int C>
    static void tile(const Args& a, int64_t i, const uint8_t* const* wr, float* out) {
        const int64_t nb = a.k / 32;
        const uint8_t* xa = a.xa + static_cast<size_t>(i) * a.xrb;
        const __m256i ones = _mm256_set1_epi16(1), ones8 = _mm256_set1_epi8(1);
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
                wm[c] = WT == DType::kQ5_1 ? h2f(blk + 2) : 0.0f;
            }
            for (int r = 0; r < R; ++r) {
                const uint8_t* rec = xa + static_cast<size_t>(r) * a.xrb + b * kBlockBytes;
                const __m256i xq = _mm256_load_si256(reinterpret_cast<const __m256i*>(rec));
                float xd;
                std::memcpy(&xd, rec + 64, 4);
                const __m256i sx = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, xq), ones);  // Σx per lane
                for (int c = 0; c < C; ++c) {
                    const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(wq[c], xq), ones);
                    if constexpr (WT == DType::kQ5_0) {
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

// ---------------------------------------------------------------- Q4_K weights

struct Q4KKernel {
    template <int R>
    static constexpr int cols() { return R <= 1 ? 4 : 2; }

    static inline void scales_mins(const uint8_t* s12, uint8_t* sc, uint8_t* mn) {
        uint32_t w0, w1, w2;
        std::memcpy(&w0, s12, 4);
        std::memcpy(&w1, s12 + 4, 4);
        std::memcpy(&w2, s12 + 8, 4);
        const uint32_t s[2] = {w0 & 0x3f3f3f3fu, (w2 & 0x0f0f0f0fu) | (((w0 >> 6) & 0x03030303u) << 4)};
        const uint32_t m[2] = {w1 & 0x3f3f3f3fu, ((w2 >> 4) & 0x0f0f0f0fu) | (((w1 >> 6) & 0x03030303u) << 4)};
        std::memcpy(sc, s, 8);
        std::memcpy(mn, m, 8);
    }

    template <int R, int C>
    static void tile(const Args& a, int64_t i, const uint8_t* const* wr, float* out) {
        const int64_t nsb = a.k / 256;
        const auto* xb = reinterpret_cast<const BlockQ8_K*>(a.xa + static_cast<size_t>(i) * a.xrb);
        const int64_t xstride = static_cast<int64_t>(a.xrb / sizeof(BlockQ8_K));
        const __m256i nib = _mm256_set1_epi8(0x0F);
        __m256 acc[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
        for (int64_t sb = 0; sb < nsb; ++sb) {
            uint8_t sc[C][8], mn[C][8];
            for (int c = 0; c < C; ++c) scales_mins(wr[c] + 144 * sb + 4, sc[c], mn[c]);
            __m256i A[R][C];
            for (int r = 0; r < R; ++r)
                for (int c = 0; c < C; ++c) A[r][c] = _mm256_setzero_si256();
            for (int ch = 0; ch < 4; ++ch) {
                __m256i lo[C], hi[C];
                for (int c = 0; c < C; ++c) {
                    _mm_prefetch(reinterpret_cast<const char*>(wr[c] + C * nsb * 144 + 144 * sb + 16 + 32 * ch), _MM_HINT_T0);
                    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[c] + 144 * sb + 16 + 32 * ch));
                    lo[c] = _mm256_and_si256(q, nib);
                    hi[c] = _mm256_and_si256(_mm256_srli_epi16(q, 4), nib);
                }
                for (int r = 0; r < R; ++r) {
                    const int8_t* xq = xb[r * xstride + sb].qs + 64 * ch;
                    const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq));
                    const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 32));
                    for (int c = 0; c < C; ++c) {
                        const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo[c], x0),
                                                             _mm256_set1_epi16(sc[c][2 * ch]));
                        const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi[c], x1),
                                                             _mm256_set1_epi16(sc[c][2 * ch + 1]));
                        A[r][c] = _mm256_add_epi32(A[r][c], _mm256_add_epi32(p0, p1));
                    }
                }
            }
            for (int c = 0; c < C; ++c) {
                const uint8_t* blk = wr[c] + 144 * sb;
                const __m256i mdup = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(
                    _mm_loadl_epi64(reinterpret_cast<const __m128i*>(mn[c])),
                    _mm_set_epi8(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0)));
                const float wd = h2f(blk), wm = h2f(blk + 2);
                for (int r = 0; r < R; ++r) {
                    const BlockQ8_K& xr = xb[r * xstride + sb];
                    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr.bsums));
                    const __m256i mins = _mm256_madd_epi16(bs, mdup);
                    acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(A[r][c]), _mm256_set1_ps(xr.d * wd), acc[r][c]);
                    acc[r][c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_set1_ps(xr.d * wm), acc[r][c]);
                }
            }
        }
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) out[r * C + c] = hsum(acc[r][c]);
    }
};

// ---------------------------------------------------------------- Q5_K weights

struct Q5KKernel {
    template <int R>
    static constexpr int cols() { return R <= 1 ? 4 : 2; }

    static constexpr int64_t kBB = 176;  // d, dmin, scales[12], qh[32], qs[128]

    template <int R, int C>
    static void tile(const Args& a, int64_t i, const uint8_t* const* wr, float* out) {
        const int64_t nsb = a.k / 256;
        const auto* xb = reinterpret_cast<const BlockQ8_K*>(a.xa + static_cast<size_t>(i) * a.xrb);
        const int64_t xstride = static_cast<int64_t>(a.xrb / sizeof(BlockQ8_K));
        const int64_t next = C * nsb * kBB;  // the next tile's rows, for prefetching
        const __m256i nib = _mm256_set1_epi8(0x0F), bit = _mm256_set1_epi8(1);
        __m256 acc[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
        for (int64_t sb = 0; sb < nsb; ++sb) {
            uint8_t sc[C][8], mn[C][8];
            __m256i qh[C];
            for (int c = 0; c < C; ++c) {
                const uint8_t* blk = wr[c] + kBB * sb;
                Q4KKernel::scales_mins(blk + 4, sc[c], mn[c]);
                qh[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16));
            }
            __m256i A[R][C];
            for (int r = 0; r < R; ++r)
                for (int c = 0; c < C; ++c) A[r][c] = _mm256_setzero_si256();
            for (int ch = 0; ch < 4; ++ch) {
                __m256i lo[C], hi[C];
                for (int c = 0; c < C; ++c) {
                    const uint8_t* qs = wr[c] + kBB * sb + 48 + 32 * ch;
                    _mm_prefetch(reinterpret_cast<const char*>(qs + next), _MM_HINT_T0);
                    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs));
                    // Bit 2ch (resp. 2ch+1) of each qh byte, moved to bit 4 (no carry across bytes).
                    const __m256i b0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh[c], 2 * ch), bit), 4);
                    const __m256i b1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh[c], 2 * ch + 1), bit), 4);
                    lo[c] = _mm256_or_si256(_mm256_and_si256(q, nib), b0);
                    hi[c] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), nib), b1);
                }
                for (int r = 0; r < R; ++r) {
                    const int8_t* xq = xb[r * xstride + sb].qs + 64 * ch;
                    const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq));
                    const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 32));
                    for (int c = 0; c < C; ++c) {
                        const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo[c], x0),
                                                             _mm256_set1_epi16(sc[c][2 * ch]));
                        const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi[c], x1),
                                                             _mm256_set1_epi16(sc[c][2 * ch + 1]));
                        A[r][c] = _mm256_add_epi32(A[r][c], _mm256_add_epi32(p0, p1));
                    }
                }
            }
            for (int c = 0; c < C; ++c) {
                const uint8_t* blk = wr[c] + kBB * sb;
                const __m256i mdup = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(
                    _mm_loadl_epi64(reinterpret_cast<const __m128i*>(mn[c])),
                    _mm_set_epi8(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0)));
                const float wd = h2f(blk), wm = h2f(blk + 2);
                for (int r = 0; r < R; ++r) {
                    const BlockQ8_K& xr = xb[r * xstride + sb];
                    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr.bsums));
                    const __m256i mins = _mm256_madd_epi16(bs, mdup);
                    acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(A[r][c]), _mm256_set1_ps(xr.d * wd), acc[r][c]);
                    acc[r][c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_set1_ps(xr.d * wm), acc[r][c]);
                }
            }
        }
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) out[r * C + c] = hsum(acc[r][c]);
    }
};

// ---------------------------------------------------------------- Q6_K weights

struct Q6KKernel {
    template <int R>
    static constexpr int cols() { return R <= 1 ? 4 : 2; }

    static constexpr int64_t kBB = 210;  // bytes per block: ql[128], qh[64], scales[16], d

    template <int R, int C>
    static void tile(const Args& a, int64_t i, const uint8_t* const* wr, float* out) {
        const int64_t nsb = a.k / 256;
        const auto* xb = reinterpret_cast<const BlockQ8_K*>(a.xa + static_cast<size_t>(i) * a.xrb);
        const int64_t xstride = static_cast<int64_t>(a.xrb / sizeof(BlockQ8_K));
        const int64_t next = C * nsb * kBB;  // the next tile's rows, for prefetching
        const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
        __m256 acc[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
        for (int64_t sb = 0; sb < nsb; ++sb) {
            __m256i A[R][C];
            for (int r = 0; r < R; ++r)
                for (int c = 0; c < C; ++c) A[r][c] = _mm256_setzero_si256();
            for (int h = 0; h < 2; ++h) {
                __m256i q[C][4], scv[C][4];
                for (int c = 0; c < C; ++c) {
                    const uint8_t* blk = wr[c] + kBB * sb;
                    _mm_prefetch(reinterpret_cast<const char*>(blk + next + 64 * h), _MM_HINT_T0);
                    _mm_prefetch(reinterpret_cast<const char*>(blk + next + 128 + 64 * h), _MM_HINT_T0);
                    const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * h));
                    const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * h + 32));
                    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * h));
                    // Bits 0-1 of each byte moved to bits 4-5 (no carry across bytes).
                    const auto top = [&](int shift) {
                        return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, shift), m3), 4);
                    };
                    q[c][0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), top(0));
                    q[c][1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), top(2));
                    q[c][2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), top(4));
                    q[c][3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), top(6));
                    const auto* sc = reinterpret_cast<const int8_t*>(blk + 192 + 8 * h);
                    for (int g = 0; g < 4; ++g) {
                        scv[c][g] = _mm256_set_m128i(_mm_set1_epi16(sc[2 * g + 1]), _mm_set1_epi16(sc[2 * g]));
                    }
                }
                for (int r = 0; r < R; ++r) {
                    const int8_t* xq = xb[r * xstride + sb].qs + 128 * h;
                    for (int g = 0; g < 4; ++g) {
                        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 32 * g));
                        for (int c = 0; c < C; ++c) {
                            A[r][c] = _mm256_add_epi32(
                                A[r][c], _mm256_madd_epi16(_mm256_maddubs_epi16(q[c][g], xv), scv[c][g]));
                        }
                    }
                }
            }
            for (int c = 0; c < C; ++c) {
                const uint8_t* blk = wr[c] + kBB * sb;
                const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192)));
                const float wd = h2f(blk + 208);
                for (int r = 0; r < R; ++r) {
                    const BlockQ8_K& xr = xb[r * xstride + sb];
                    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr.bsums));
                    const __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(bs, sc16), 5);
                    const __m256i s = _mm256_sub_epi32(A[r][c], corr);
                    acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(xr.d * wd), acc[r][c]);
                }
            }
        }
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) out[r * C + c] = hsum(acc[r][c]);
    }
};

// ---------------------------------------------------------------- loops

#include "kernels/cpu/isa/tile_loops.inc"  // row_tiles, run

size_t act_row_bytes(DType wt, int64_t k) {
    switch (wt) {
        case DType::kQ8_0:
        case DType::kQ4_0:
        case DType::kQ5_0:
        case DType::kQ5_1: return static_cast<size_t>(k / 32) * kBlockBytes;
        case DType::kQ4_K:
        case DType::kQ5_K:
        case DType::kQ6_K: return static_cast<size_t>(k / 256) * sizeof(BlockQ8_K);
        default: return 0;
    }
}

void prepare_act(DType wt, const float* x, int64_t k, void* out) {
    if (wt == DType::kQ4_K || wt == DType::kQ5_K || wt == DType::kQ6_K) {
        quant::quantize_row_q8_k(x, static_cast<BlockQ8_K*>(out), k);
    } else {
        prepare_q8_0_act(wt, x, k, static_cast<uint8_t*>(out));
    }
}

void matmul(DType wt, const float* x, const uint8_t* xa, int64_t m, int64_t k, const void* w,
            int64_t n, int64_t j0, int64_t j1, const float* bias, float* y) {
    const Args a{x, xa, act_row_bytes(wt, k), k};
    const auto* wb = static_cast<const uint8_t*>(w);
    const size_t rb = dtype_row_bytes(wt, k);
    // Prefill-sized batches of float weights: the same per-output arithmetic, weights converted once.
    if ((wt == DType::kF32 || wt == DType::kF16 || wt == DType::kBF16) && m >= kFloatGemmMinRowsAvx2 &&
        float_gemm_avx2(wt, x, m, k, wb, n, j0, j1, bias, y)) {
        return;
    }
    switch (wt) {
        case DType::kF32: return run<FloatKernel<DType::kF32>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kF16: return run<FloatKernel<DType::kF16>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kBF16: return run<FloatKernel<DType::kBF16>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kQ8_0: return run<Q8Kernel<DType::kQ8_0>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kQ4_0: return run<Q8Kernel<DType::kQ4_0>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kQ5_0: return run<Q5Kernel<DType::kQ5_0>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kQ5_1: return run<Q5Kernel<DType::kQ5_1>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kQ4_K: return run<Q4KKernel>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kQ5_K: return run<Q5KKernel>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kQ6_K: return run<Q6KKernel>(a, m, wb, rb, n, j0, j1, bias, y);
        default: return;
    }
}

}  // namespace

const MatmulTable* avx2_table() {
    static const MatmulTable t{"avx2", act_row_bytes, prepare_act, matmul};
    return &t;
}

}  // namespace ag::kernels::cpu::isa
