// AVX-512 path (F, BW, VL, DQ, VNNI; FMA, F16C). Compiled with its own -m flags (see
// src/kernels/CMakeLists.txt) and only called after CPUID says the CPU has them.
//
// Every product is computed in tiles of R x rows × C weight rows. Each output element owns one
// 16-lane accumulator that receives the same sequence of operations whatever R and C are, and is
// reduced in a fixed order at the end: a row's result does not depend on m or on the other rows
// (batch invariance); decode (m = 1) and prefill share the code.
//
// Quantized weights (integer dot products, vpdpbusd: unsigned 8-bit × signed 8-bit → int32):
//   Q8_0 / Q4_0 · Q8_0-activations: the weights are the unsigned side (w + 128, resp. the
//     nibbles), x the signed side; −128·Σx (resp. −8·Σx) per lane comes prepared with x.
//   Q4_K · Q8_K: nibbles unsigned; per-sub-block 6-bit scales applied to the int32 lanes with
//     vpdpwssd, the mins term from the Q8_K group sums with vpmaddwd.
// A pair of 32-blocks fills one 512-bit register, so per block pair and output element the cost
// is one vpdpbusd, one int→float convert and a scale multiply-add.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/isa/isa.h"
#include "tensor/quant.h"

namespace ag::kernels::cpu::isa {

namespace {

using quant::BlockQ8_K;

// No std:: templates in this unit (see isa.h).
inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

inline float h2f(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

struct Args {
    const float* x;
    const uint8_t* xa;
    size_t xrb;  // bytes per prepared activation row
    int64_t k;
};

// ---------------------------------------------------------------- float weights (F32/F16/BF16)

template <DType WT>
inline __m512 load_w(const uint8_t* row, int64_t t, __mmask16 mk, bool tail) {
    if constexpr (WT == DType::kF32) {
        const float* p = reinterpret_cast<const float*>(row) + t;
        return tail ? _mm512_maskz_loadu_ps(mk, p) : _mm512_loadu_ps(p);
    } else {
        const uint16_t* p = reinterpret_cast<const uint16_t*>(row) + t;
        const __m256i h = tail ? _mm256_maskz_loadu_epi16(mk, p)
                               : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        if constexpr (WT == DType::kF16) {
            return _mm512_cvtph_ps(h);
        } else {
            return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
        }
    }
}

template <DType WT>
struct FloatKernel {
    template <int R>
    static constexpr int cols() { return 4; }

    template <int R, int C>
    static void tile(const Args& a, int64_t i, const uint8_t* const* wr, float* out) {
        const int64_t k = a.k;
        const float* x = a.x + i * k;
        __m512 acc[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
        int64_t t = 0;
        for (; t + 16 <= k; t += 16) {
            __m512 wv[C];
            for (int c = 0; c < C; ++c) wv[c] = load_w<WT>(wr[c], t, 0xFFFF, false);
            for (int r = 0; r < R; ++r) {
                const __m512 xv = _mm512_loadu_ps(x + r * k + t);
                for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
            }
        }
        if (t < k) {
            const auto mk = static_cast<__mmask16>((1u << (k - t)) - 1u);
            __m512 wv[C];
            for (int c = 0; c < C; ++c) wv[c] = load_w<WT>(wr[c], t, mk, true);
            for (int r = 0; r < R; ++r) {
                const __m512 xv = _mm512_maskz_loadu_ps(mk, x + r * k + t);
                for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
            }
        }
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) out[r * C + c] = _mm512_reduce_add_ps(acc[r][c]);
    }
};

// ---------------------------------------------------------------- Q8_0 / Q4_0 weights

// Both formats put the weights on the unsigned side of vpdpbusd (Q4_0: the nibbles 0..15; Q8_0:
// w + 128) and the activations on the signed side; the offset (−8·Σx resp. −128·Σx per 4-byte
// lane) comes prepared with x and is the starting value of the integer dot product.
//
// A block pair (64 values) fills one register in the order [b0[0:16], b1[0:16], b0[16:32],
// b1[16:32]] (128-bit chunks): that is what Q4_0's nibble layout unpacks to with one masked
// broadcast and one shift, and int32 lanes 0-3 and 8-11 then belong to block 0, lanes 4-7 and
// 12-15 to block 1, so a scale vector is a broadcast of [d0 ×4, d1 ×4].
//
// Prepared activation record per block pair, 64-byte aligned:
//   [0, 64)    quants (s8) in the order above
//   [64, 128)  int32 × 16: −Z · (sum of each lane's 4 quants), Z = 8 (Q4_0) or 128 (Q8_0)
//   [128, 192) f32 × 16: [d0 ×4, d1 ×4, d0 ×4, d1 ×4]
// An odd block count leaves the second block of the last record zero.
constexpr size_t kPairBytes = 192;

inline __m512i chunk_order(__m512i natural) {  // [b0lo, b0hi, b1lo, b1hi] → [b0lo, b1lo, b0hi, b1hi]
    return _mm512_shuffle_i64x2(natural, natural, _MM_SHUFFLE(3, 1, 2, 0));
}

void prepare_q8_0_act(DType wt, const float* x, int64_t k, uint8_t* out) {
    const int64_t nb = k / 32, np = (nb + 1) / 2;
    const __m512 sign = _mm512_set1_ps(-0.0f);
    for (int64_t p = 0; p < np; ++p) {
        uint8_t* rec = out + p * kPairBytes;
        float d2[2] = {0.0f, 0.0f};
        for (int h = 0; h < 2; ++h) {
            const int64_t b = 2 * p + h;
            if (b >= nb) {
                std::memset(rec + 32 * h, 0, 32);
                continue;
            }
            const __m512 v0 = _mm512_loadu_ps(x + 32 * b), v1 = _mm512_loadu_ps(x + 32 * b + 16);
            const float amax = _mm512_reduce_max_ps(
                _mm512_max_ps(_mm512_andnot_ps(sign, v0), _mm512_andnot_ps(sign, v1)));
            const float d = amax / 127.0f;
            const float id = d != 0.0f ? 1.0f / d : 0.0f;
            const __m512 vid = _mm512_set1_ps(id);
            constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
            const __m512i q0 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v0, vid), kRound));
            const __m512i q1 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v1, vid), kRound));
            const __m256i qb = _mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm512_cvtsepi32_epi8(q0)), _mm512_cvtsepi32_epi8(q1), 1);
            _mm256_store_si256(reinterpret_cast<__m256i*>(rec + 32 * h), qb);
            d2[h] = d;
        }
        const __m512i q = chunk_order(_mm512_load_si512(rec));
        _mm512_store_si512(rec, q);
        const __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(1), q);
        const __m512i corr = _mm512_sub_epi32(_mm512_setzero_si512(),
                                              _mm512_slli_epi32(s, wt == DType::kQ4_0 ? 3 : 7));
        _mm512_store_si512(rec + 64, corr);
        const __m256 dd = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_set1_ps(d2[0])), _mm_set1_ps(d2[1]), 1);
        _mm512_store_ps(rec + 128, _mm512_insertf32x8(_mm512_castps256_ps512(dd), dd, 1));
    }
}

template <DType WT>
struct Q8Kernel {  // Q8_0 and Q4_0 weights
    static constexpr int64_t kBlockBytes = WT == DType::kQ8_0 ? 34 : 18;
    static constexpr int64_t kSegPairs = 64;  // weight scales are unpacked this many pairs ahead

    template <int R>
    static constexpr int cols() { return 4; }

    // Scales of pairs [p0, p0 + np) of one row as [d0 ×4, d1 ×4] per pair (8 floats); blocks
    // past the row's end get 0.
    static inline void unpack_scales(const uint8_t* row, int64_t nb, int64_t p0, int64_t np, float* out) {
        const __m512i offs = _mm512_mullo_epi32(
            _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
            _mm512_set1_epi32(static_cast<int>(kBlockBytes)));
        const __m512i i01 = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
        const __m512i i23 = _mm512_set_epi32(7, 7, 7, 7, 6, 6, 6, 6, 5, 5, 5, 5, 4, 4, 4, 4);
        const __m512i i45 = _mm512_add_epi32(i23, _mm512_set1_epi32(4));
        const __m512i i67 = _mm512_add_epi32(i23, _mm512_set1_epi32(8));
        for (int64_t b = 2 * p0; b < 2 * (p0 + np); b += 16) {  // 16 blocks = 8 pairs
            const int64_t left = nb - b;
            const auto mk = static_cast<__mmask16>(left >= 16 ? 0xFFFF : (1u << left) - 1u);
            // Each 32-bit lane reads the block's 2-byte scale and 2 bytes after it.
            const __m512i g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), mk, offs, row + b * kBlockBytes, 1);
            const __m512 f = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_and_si512(g, _mm512_set1_epi32(0xFFFF))));
            float* o = out + 4 * (b - 2 * p0);
            _mm512_store_ps(o, _mm512_permutexvar_ps(i01, f));
            _mm512_store_ps(o + 16, _mm512_permutexvar_ps(i23, f));
            _mm512_store_ps(o + 32, _mm512_permutexvar_ps(i45, f));
            _mm512_store_ps(o + 48, _mm512_permutexvar_ps(i67, f));
        }
    }

    // Quants of block pair p of one row as unsigned bytes, in the chunk order above.
    static inline __m512i load_pair(const uint8_t* row, int64_t p, bool tail) {
        const uint8_t* b0 = row + 2 * kBlockBytes * p;
        if constexpr (WT == DType::kQ8_0) {
            const __m512i lo = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + 2)));
            const __m512i hi = tail ? _mm512_setzero_si512()
                                    : _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + 36)));
            const __m512i v = _mm512_permutex2var_epi64(lo, _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0), hi);
            return _mm512_xor_si512(v, _mm512_set1_epi8(static_cast<char>(0x80)));
        } else {
            __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b0 + 2)));
            const __m128i q1 = tail ? _mm_setzero_si128() : _mm_loadu_si128(reinterpret_cast<const __m128i*>(b0 + 20));
            v = _mm512_mask_broadcast_i32x4(v, 0xF0F0, q1);
            return _mm512_and_si512(_mm512_srlv_epi64(v, _mm512_set_epi64(4, 4, 4, 4, 0, 0, 0, 0)),
                                    _mm512_set1_epi8(0x0F));
        }
    }

    template <int R, int C>
    static void tile(const Args& a, int64_t i, const uint8_t* const* wr, float* out) {
        const int64_t nb = a.k / 32, np = (nb + 1) / 2;
        const uint8_t* xa = a.xa + static_cast<size_t>(i) * a.xrb;
        alignas(64) float ws[C][8 * kSegPairs + 64];
        const int64_t next = C * nb * kBlockBytes;  // the next tile's rows, for prefetching
        __m512 acc[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
        for (int64_t p0 = 0; p0 < np; p0 += kSegPairs) {
            const int64_t p1 = imin(np, p0 + kSegPairs);
            for (int c = 0; c < C; ++c) unpack_scales(wr[c], nb, p0, p1 - p0, ws[c]);
            for (int64_t p = p0; p < p1; ++p) {
                const bool tail = 2 * p + 1 == nb;
                __m512i wq[C];
                __m512 wd[C];
                for (int c = 0; c < C; ++c) {
                    // The same bytes of the next tile's rows: decode streams weights from DRAM
                    // and this kernel is close to compute bound, so hide the latency.
                    _mm_prefetch(reinterpret_cast<const char*>(wr[c] + next + 2 * kBlockBytes * p), _MM_HINT_T0);
                    wq[c] = load_pair(wr[c], p, tail);
                    wd[c] = _mm512_broadcast_f32x8(_mm256_load_ps(ws[c] + 8 * (p - p0)));
                }
                for (int r = 0; r < R; ++r) {
                    const uint8_t* rec = xa + static_cast<size_t>(r) * a.xrb + p * kPairBytes;
                    const __m512i xq = _mm512_load_si512(rec);
                    const __m512i xc = _mm512_load_si512(rec + 64);
                    const __m512 xd = _mm512_load_ps(reinterpret_cast<const float*>(rec + 128));
                    for (int c = 0; c < C; ++c) {
                        const __m512i s = _mm512_dpbusd_epi32(xc, wq[c], xq);
                        acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(xd, wd[c]), acc[r][c]);
                    }
                }
            }
        }
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) out[r * C + c] = _mm512_reduce_add_ps(acc[r][c]);
    }
};

// ---------------------------------------------------------------- Q4_K weights

// Q8_K activations, same bytes as quant::quantize_row_q8_k.
void prepare_q8_k_act(const float* x, int64_t k, BlockQ8_K* out) {
    const __m512 sign = _mm512_set1_ps(-0.0f);
    constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    for (int64_t b = 0; b < k / 256; ++b, x += 256) {
        __m512 mx = _mm512_setzero_ps();
        for (int g = 0; g < 16; ++g) mx = _mm512_max_ps(mx, _mm512_andnot_ps(sign, _mm512_loadu_ps(x + 16 * g)));
        const float d = _mm512_reduce_max_ps(mx) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const __m512 vid = _mm512_set1_ps(id), lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
        BlockQ8_K& o = out[b];
        o.d = d;
        for (int g = 0; g < 16; ++g) {
            __m512 v = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * g), vid), kRound);
            v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
            const __m512i q = _mm512_cvtps_epi32(v);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o.qs + 16 * g), _mm512_cvtsepi32_epi8(q));
            o.bsums[g] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
        }
    }
}

struct Q4KKernel {
    template <int R>
    static constexpr int cols() { return R <= 2 ? 4 : 2; }

    // 6-bit scales (bytes 0-7) and mins (bytes 8-15) of a Q4_K block.
    static inline __m128i scales_mins(const uint8_t* s12) {
        uint32_t w0, w1, w2;
        std::memcpy(&w0, s12, 4);
        std::memcpy(&w1, s12 + 4, 4);
        std::memcpy(&w2, s12 + 8, 4);
        const uint32_t s_lo = w0 & 0x3f3f3f3fu, m_lo = w1 & 0x3f3f3f3fu;
        const uint32_t s_hi = (w2 & 0x0f0f0f0fu) | (((w0 >> 6) & 0x03030303u) << 4);
        const uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | (((w1 >> 6) & 0x03030303u) << 4);
        return _mm_set_epi32(static_cast<int>(m_hi), static_cast<int>(m_lo), static_cast<int>(s_hi),
                             static_cast<int>(s_lo));
    }

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
                scm[c] = _mm512_cvtepu8_epi32(scales_mins(wr[c] + 144 * sb + 4));
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
                const __m256i mdup = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(scales_mins(blk + 4), mdup_idx));
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

// ---------------------------------------------------------------- loops

template <class K, int R>
void row_tiles(const Args& a, int64_t i, const uint8_t* w, size_t row_bytes, int64_t jb,
               int64_t je, int64_t n, const float* bias, float* y) {
    constexpr int C = K::template cols<R>();
    for (int64_t j = jb; j < je; j += C) {
        const uint8_t* wr[C];
        // Missing rows of a short tile repeat a valid row; their results are dropped.
        for (int c = 0; c < C; ++c) wr[c] = w + static_cast<size_t>(imin(j + c, je - 1)) * row_bytes;
        float out[R * C];
        K::template tile<R, C>(a, i, wr, out);
        const int64_t cn = imin(C, je - j);
        for (int r = 0; r < R; ++r) {
            for (int64_t c = 0; c < cn; ++c) {
                y[(i + r) * n + j + c] = out[r * C + c] + (bias ? bias[j + c] : 0.0f);
            }
        }
    }
}

template <class K>
void run(const Args& a, int64_t m, const uint8_t* w, size_t row_bytes, int64_t n, int64_t j0,
         int64_t j1, const float* bias, float* y) {
    constexpr int64_t kMBlock = 64;  // x rows kept hot in L2 while weight rows stream past
    constexpr int64_t kNBlock = 8;   // weight rows kept hot in L1 while x tiles pass
    for (int64_t i0 = 0; i0 < m; i0 += kMBlock) {
        const int64_t i1 = imin(m, i0 + kMBlock);
        for (int64_t jb = j0; jb < j1; jb += kNBlock) {
            const int64_t je = imin(j1, jb + kNBlock);
            for (int64_t i = i0; i < i1; i += 4) {
                switch (imin(4, i1 - i)) {
                    case 4: row_tiles<K, 4>(a, i, w, row_bytes, jb, je, n, bias, y); break;
                    case 3: row_tiles<K, 3>(a, i, w, row_bytes, jb, je, n, bias, y); break;
                    case 2: row_tiles<K, 2>(a, i, w, row_bytes, jb, je, n, bias, y); break;
                    default: row_tiles<K, 1>(a, i, w, row_bytes, jb, je, n, bias, y); break;
                }
            }
        }
    }
}

size_t act_row_bytes(DType wt, int64_t k) {
    switch (wt) {
        case DType::kQ8_0:
        case DType::kQ4_0: return static_cast<size_t>((k / 32 + 1) / 2) * kPairBytes;
        case DType::kQ4_K: return static_cast<size_t>(k / 256) * sizeof(BlockQ8_K);
        default: return 0;
    }
}

void prepare_act(DType wt, const float* x, int64_t k, void* out) {
    if (wt == DType::kQ4_K) {
        prepare_q8_k_act(x, k, static_cast<BlockQ8_K*>(out));
    } else {
        prepare_q8_0_act(wt, x, k, static_cast<uint8_t*>(out));
    }
}

void matmul(DType wt, const float* x, const uint8_t* xa, int64_t m, int64_t k, const void* w,
            int64_t n, int64_t j0, int64_t j1, const float* bias, float* y) {
    const Args a{x, xa, act_row_bytes(wt, k), k};
    const auto* wb = static_cast<const uint8_t*>(w);
    const size_t rb = dtype_row_bytes(wt, k);
    switch (wt) {
        case DType::kF32: return run<FloatKernel<DType::kF32>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kF16: return run<FloatKernel<DType::kF16>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kBF16: return run<FloatKernel<DType::kBF16>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kQ8_0: return run<Q8Kernel<DType::kQ8_0>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kQ4_0: return run<Q8Kernel<DType::kQ4_0>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kQ4_K: return run<Q4KKernel>(a, m, wb, rb, n, j0, j1, bias, y);
        default: return;
    }
}

}  // namespace

const MatmulTable* avx512_table() {
    static const MatmulTable t{"avx512", act_row_bytes, prepare_act, matmul};
    return &t;
}

}  // namespace ag::kernels::cpu::isa
