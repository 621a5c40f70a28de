// AVX-512 path (F, BW, VL, DQ, VNNI; FMA, F16C). Compiled with its own -m flags (see
// src/kernels/CMakeLists.txt) and only called after CPUID says the CPU has them.
//
// F32/F16/BF16 products (and the K-quants' in kquant_avx512.cpp) are computed in tiles of R x rows × C weight rows. Each output
// element owns one 16-lane accumulator that receives the same sequence of operations whatever R
// and C are, and is reduced in a fixed order at the end: a row's result does not depend on m or on
// the other rows (batch invariance); decode (m = 1) and prefill share the code.
//
// Quantized weights (integer dot products, vpdpbusd: unsigned 8-bit × signed 8-bit → int32):
//   Q8_0 / Q4_0 · Q8_0-activations: the weights are the unsigned side (w + 128, resp. the
//     nibbles), x the signed side; −128·Σx (resp. −8·Σx) per block comes prepared with x. The
//     weights are transposed on the fly into panels of 16 rows, so one vpdpbusd advances 16
//     outputs of one x row (no horizontal sums); see PanelKernel. Every m uses it.
//   Q4_K · Q8_K (kquant_avx512.cpp, with Q5_K/Q6_K): nibbles unsigned; per-sub-block 6-bit
//     scales applied to the int32 lanes with vpdpwssd, the mins term from the Q8_K group sums with vpmaddwd; a 64-value chunk of one
//     row fills one register.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/isa/avx512/amx.h"
#include "kernels/cpu/isa/avx512/panel_format.h"
#include "kernels/cpu/isa/avx512/float_gemm_avx512.h"
#include "kernels/cpu/isa/avx512/q5_avx512.h"
#include "kernels/cpu/isa/avx512/kquant_avx512.h"
#include "kernels/cpu/isa/isa.h"
#include "tensor/quant.h"

namespace ag::kernels::cpu::isa {

namespace {

using quant::BlockQ8_K;

// No std:: templates in this unit (see isa.h).
#include "kernels/cpu/isa/avx512/unit_common.inc"  // imin, imax, h2f, Args, k_scales_mins

// ---------------------------------------------------------------- float weights (F32/F16/BF16)

#include "kernels/cpu/isa/avx512/load_w.inc"  // load_w

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
// w + 128) and the activations on the signed side; the offset −Z·Σx (Z = 8 resp. 128) comes
// prepared with x and is the starting value of each block's integer dot product.
//
// Weights are transposed on the fly, one panel of 16 rows at a time (for m > 8 into a per-thread
// scratch buffer, reused by every 8-row x tile; for m <= 8 in registers): per 32-block, 8 registers of 16 rows × 4 consecutive k (register g holds k = 4g..4g+3
// of every row, 32-bit lane c = row c) and the 16 row scales as f32. One vpdpbusd with 4 x quants
// broadcast then advances 16 outputs, with no horizontal reduction. A tile is up to 8 x rows × one
// panel; per output and block: the exact int32 Σ q_x·q_w (plus offset), then
//   acc = fma(float(Σ), d_x·d_w, acc)
// in block order. That sequence does not depend on the tile shape or on m, and the integer sum
// is exact whatever its order, so row i's result is the same for every m (batch invariance).
//
// Prepared activation record per 32-block (kActBlock bytes): 32 quants (s8), d_x (f32),
// −Z·Σ quants (int32).
// (Layouts and sizes: panel_format.h, shared with the AMX unit.)
using panel::kActBlock;
using panel::kPanel;
using panel::kPanelBlock;

void prepare_q8_0_act(DType wt, const float* x, int64_t k, uint8_t* out) {
    const int64_t nb = k / 32;
    const __m512 sign = _mm512_set1_ps(-0.0f);
    const int shift = wt == DType::kQ4_0 ? 3 : 7;
    for (int64_t b = 0; b < nb; ++b) {
        uint8_t* rec = out + static_cast<size_t>(b) * kActBlock;
        const __m512 v0 = _mm512_loadu_ps(x + 32 * b), v1 = _mm512_loadu_ps(x + 32 * b + 16);
        const float amax = _mm512_reduce_max_ps(
            _mm512_max_ps(_mm512_andnot_ps(sign, v0), _mm512_andnot_ps(sign, v1)));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const __m512 vid = _mm512_set1_ps(id);
        constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
        const __m512i q0 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v0, vid), kRound));
        const __m512i q1 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v1, vid), kRound));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(rec), _mm512_cvtsepi32_epi8(q0));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(rec + 16), _mm512_cvtsepi32_epi8(q1));
        // |q| <= 127 here, so the saturating narrowing kept the values and the sum is exact.
        const int32_t sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        const int32_t corr = -(sum * (1 << shift));
        std::memcpy(rec + 32, &d, 4);
        std::memcpy(rec + 36, &corr, 4);
    }
}

// 4×4 transpose of 32-bit elements inside each 128-bit lane: v[i] lane l holds 16 bytes of row
// 4l + i; afterwards u[q] 32-bit element 4l + i is dword q of that row (so u[q] lane c = row c).
inline void transpose4(const __m512i v[4], __m512i u[4]) {
    const __m512i t0 = _mm512_unpacklo_epi32(v[0], v[1]), t1 = _mm512_unpackhi_epi32(v[0], v[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(v[2], v[3]), t3 = _mm512_unpackhi_epi32(v[2], v[3]);
    u[0] = _mm512_unpacklo_epi64(t0, t2);
    u[1] = _mm512_unpackhi_epi64(t0, t2);
    u[2] = _mm512_unpacklo_epi64(t1, t3);
    u[3] = _mm512_unpackhi_epi64(t1, t3);
}

// The 16 rows of a panel at one block: at(c) = row c's block.
struct PtrRows {  // any row pointers (a tail panel repeats its last row)
    const uint8_t* const* rows;
    int64_t bo;
    const uint8_t* at(int c) const { return rows[c] + bo; }
};
struct StrideRows {  // a full panel, rows rb apart: row c = p[c / 4] + o[c % 4] (o[i] = i·rb); the
                     // few base registers keep every row address out of memory and vector registers
    const uint8_t* p[4];
    size_t o[4];
    const uint8_t* at(int c) const { return p[c >> 2] + o[c & 3]; }
};

template <class Rows>
inline __m512i load4x128(const Rows& rs, int i, int64_t off) {
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rs.at(i) + off)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rs.at(4 + i) + off)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rs.at(8 + i) + off)), 2);
    return _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rs.at(12 + i) + off)), 3);
}

// Per-thread scratch for one repacked panel (no std:: containers in this unit).
struct PanelScratch {
    uint8_t* p = nullptr;
    size_t cap = 0;
    PanelScratch() = default;
    PanelScratch(const PanelScratch&) = delete;
    PanelScratch& operator=(const PanelScratch&) = delete;
    ~PanelScratch() { _mm_free(p); }
    uint8_t* get(size_t bytes) {
        if (bytes > cap) {
            _mm_free(p);
            p = static_cast<uint8_t*>(_mm_malloc(bytes, 64));
            cap = p ? bytes : 0;
        }
        return p;
    }
};

template <DType WT>
struct PanelKernel {  // Q8_0 and Q4_0 weights
    static constexpr int64_t kBlockBytes = WT == DType::kQ8_0 ? 34 : 18;
    static constexpr int kRows = 8;  // x rows per tile

    // Row pointers of the panel j .. j+15 (rows past je - 1 repeat row je - 1) and their byte
    // offsets from the first, for the scale gather.
    static __m512i panel_rows(const uint8_t* w, size_t rb, int64_t j, int64_t je, const uint8_t** rows) {
        alignas(64) int32_t offs[kPanel];
        for (int c = 0; c < kPanel; ++c) {
            const int64_t r = imin(j + c, je - 1);
            rows[c] = w + static_cast<size_t>(r) * rb;
            offs[c] = static_cast<int32_t>(static_cast<size_t>(r - j) * rb);
        }
        return _mm512_load_si512(offs);
    }

    // Block at byte offset bo of the 16 rows: wq[g] lane c = row c's unsigned quants 4g..4g+3,
    // dw lane c = row c's scale.
    static inline void load_block(const uint8_t* const* rows, __m512i voff, int64_t bo, __m512i* wq, __m512& dw) {
        load_block_at(PtrRows{rows, bo}, voff, wq, dw);
    }

    // The same for the rows given by rs (voff: row c's byte offset from rs.at(0)). kHi16 (Q4_0):
    // the high nibbles stay in place, wq[4 + q] = 16 × quants 16 + 4q..; see block_rows.
    template <bool kHi16 = false, class Rows>
    static inline void load_block_at(const Rows& rs, __m512i voff, __m512i* wq, __m512& dw) {
        if constexpr (WT == DType::kQ4_0) {
            __m512i v[4], u[4];
            for (int i = 0; i < 4; ++i) v[i] = load4x128(rs, i, 2);
            transpose4(v, u);
            const __m512i nib = _mm512_set1_epi8(0x0F);
            for (int q = 0; q < 4; ++q) {
                wq[q] = _mm512_and_si512(u[q], nib);
                if constexpr (kHi16) {
                    wq[4 + q] = _mm512_andnot_si512(nib, u[q]);
                } else {
                    wq[4 + q] = _mm512_and_si512(_mm512_srli_epi16(u[q], 4), nib);
                }
            }
        } else {
            // 32 quant bytes per row: y[i] = [row i | row 4 + i], y[4 + i] = [row 8 + i | row 12 + i]
            // (256 bits each), then an 8×8 transpose of 32-bit elements within each 256-bit half
            // and a final exchange of 128-bit lanes.
            __m512i y[8], a[8], bq[4], cq[4];
            for (int i = 0; i < 4; ++i) {
                for (int h = 0; h < 2; ++h) {
                    const uint8_t* r0 = rs.at(8 * h + i) + 2;
                    const uint8_t* r1 = rs.at(8 * h + 4 + i) + 2;
                    y[4 * h + i] = _mm512_inserti64x4(
                        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r0))),
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r1)), 1);
                }
            }
            for (int j = 0; j < 4; ++j) {
                a[2 * j] = _mm512_unpacklo_epi32(y[2 * j], y[2 * j + 1]);
                a[2 * j + 1] = _mm512_unpackhi_epi32(y[2 * j], y[2 * j + 1]);
            }
            // bq[q] / cq[q]: 128-bit lanes [dword q, dword q + 4] × [rows 0-3 | 4-7] (resp. 8-15).
            bq[0] = _mm512_unpacklo_epi64(a[0], a[2]);
            bq[1] = _mm512_unpackhi_epi64(a[0], a[2]);
            bq[2] = _mm512_unpacklo_epi64(a[1], a[3]);
            bq[3] = _mm512_unpackhi_epi64(a[1], a[3]);
            cq[0] = _mm512_unpacklo_epi64(a[4], a[6]);
            cq[1] = _mm512_unpackhi_epi64(a[4], a[6]);
            cq[2] = _mm512_unpacklo_epi64(a[5], a[7]);
            cq[3] = _mm512_unpackhi_epi64(a[5], a[7]);
            const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
            for (int q = 0; q < 4; ++q) {
                wq[q] = _mm512_xor_si512(_mm512_shuffle_i32x4(bq[q], cq[q], _MM_SHUFFLE(2, 0, 2, 0)), flip);
                wq[4 + q] = _mm512_xor_si512(_mm512_shuffle_i32x4(bq[q], cq[q], _MM_SHUFFLE(3, 1, 3, 1)), flip);
            }
        }
        // Each lane reads its row's 2-byte scale and the 2 bytes after it.
        const __m512i g = _mm512_i32gather_epi32(voff, rs.at(0), 1);
        dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(g));
    }

    // One block of R x rows (records at xb, xrb apart) against the 16 panel rows. kHi16: wq from
    // load_block_at<true> (Q4_0's high nibbles × 16): their sum, a multiple of 16, is shifted back
    // exactly; the block's int32 is the same either way.
    template <int R, bool kHi16 = false>
    static inline void block_rows(const uint8_t* xb, size_t xrb, const __m512i* wq, __m512 dw, __m512* acc) {
        for (int r = 0; r < R; ++r) {
            const uint8_t* xr = xb + static_cast<size_t>(r) * xrb;
            // Broadcasts straight from memory (they fold into vpdpbusd's {1to16} operand).
            const auto bcast = [xr](int off) { return _mm512_broadcastd_epi32(_mm_loadu_si32(xr + off)); };
            // Two chains (the integer sum is exact in any order).
            __m512i s0 = bcast(36), s1 = _mm512_setzero_si512();
            if constexpr (kHi16) {
                for (int g = 0; g < 4; ++g) {
                    s0 = _mm512_dpbusd_epi32(s0, wq[g], bcast(4 * g));
                    s1 = _mm512_dpbusd_epi32(s1, wq[4 + g], bcast(4 * g + 16));
                }
                s1 = _mm512_srai_epi32(s1, 4);
            } else {
                for (int g = 0; g < 8; g += 2) {
                    s0 = _mm512_dpbusd_epi32(s0, wq[g], bcast(4 * g));
                    s1 = _mm512_dpbusd_epi32(s1, wq[g + 1], bcast(4 * g + 4));
                }
            }
            const __m512 sf = _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1));
            const __m512 dx = _mm512_castsi512_ps(bcast(32));
            acc[r] = _mm512_fmadd_ps(sf, _mm512_mul_ps(dx, dw), acc[r]);
        }
    }

    // Repacks the panel into `out` (kPanelBlock bytes per block); `next`: the first row of the
    // next panel, prefetched block by block (nullptr: none).
    static void repack(const uint8_t* const* rows, __m512i voff, size_t rb, int64_t nb, uint8_t* out,
                       const uint8_t* next) {
        for (int64_t b = 0; b < nb; ++b) {
            const int64_t bo = b * kBlockBytes;
            uint8_t* o = out + static_cast<size_t>(b) * kPanelBlock;
            if (next && (b & 1) == 0) prefetch_panel(next, rb, bo);
            __m512i wq[8];
            __m512 dw;
            load_block(rows, voff, bo, wq, dw);
            for (int g = 0; g < 8; ++g) _mm512_store_si512(o + 64 * g, wq[g]);
            _mm512_store_ps(reinterpret_cast<float*>(o + 512), dw);
        }
    }

    static inline void prefetch_panel(const uint8_t* next, size_t rb, int64_t bo) {
        for (int c = 0; c < kPanel; ++c) {
            _mm_prefetch(reinterpret_cast<const char*>(next + static_cast<size_t>(c) * rb + bo), _MM_HINT_T0);
        }
    }

    // out[r * 16 + c] = x row r · panel row c, for r < R, from the repacked panel.
    template <int R>
    __attribute__((noinline)) static void tile(const uint8_t* xa, size_t xrb, const uint8_t* pw, int64_t nb, float* out) {
        __m512 acc[R];
        for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = pw + static_cast<size_t>(b) * kPanelBlock;
            __m512i wq[8];
            for (int g = 0; g < 8; ++g) wq[g] = _mm512_load_si512(blk + 64 * g);
            const __m512 dw = _mm512_load_ps(reinterpret_cast<const float*>(blk + 512));
            block_rows<R>(xa + static_cast<size_t>(b) * kActBlock, xrb, wq, dw, acc);
        }
        for (int r = 0; r < R; ++r) _mm512_storeu_ps(out + 16 * r, acc[r]);
    }

    // The same arithmetic straight from the weight rows (m <= kRows: each block is used once), for
    // a full panel (16 rows rb apart from r0; voff: c·rb). pf: prefetch the next 16 rows (the next
    // panel) into L2, one address per row every kPfBlocks blocks (at most 64 bytes apart, so every
    // line is touched). To L2 rather than L1: the L2's many outstanding misses, rather than the
    // L1's few fill buffers, keep 16 streams in flight; the next panel's loads then hit L2.
    static constexpr int64_t kPfBlocks = 64 / kBlockBytes;
    static constexpr bool kHi16 = WT == DType::kQ4_0;  // 4 fewer shifts per block
    template <int R>
    __attribute__((noinline)) static void tile_direct(const uint8_t* xa, size_t xrb, const uint8_t* r0, __m512i voff,
                                                      size_t rb, int64_t nb, bool pf, float* out) {
        __m512 acc[R];
        for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
        StrideRows rs{{r0, r0 + 4 * rb, r0 + 8 * rb, r0 + 12 * rb}, {0, rb, 2 * rb, 3 * rb}};
        const size_t ahead = kPanel * rb;  // from a row to the same row of the next panel
        const uint8_t* xb = xa;
        for (int64_t b = 0; b < nb; ++b) {
            if (pf && b % kPfBlocks == 0) {
                for (int c = 0; c < kPanel; ++c) {
                    _mm_prefetch(reinterpret_cast<const char*>(rs.at(c) + ahead), _MM_HINT_T1);
                }
            }
            __m512i wq[8];
            __m512 dw;
            load_block_at<kHi16>(rs, voff, wq, dw);
            block_rows<R, kHi16>(xb, xrb, wq, dw, acc);
            for (auto& p : rs.p) p += kBlockBytes;
            xb += kActBlock;
        }
        for (int r = 0; r < R; ++r) _mm512_storeu_ps(out + 16 * r, acc[r]);
    }

    // The same for a tail panel (fewer than 16 rows; rows from panel_rows), with no prefetch.
    template <int R>
    __attribute__((noinline)) static void tile_direct_tail(const uint8_t* xa, size_t xrb, const uint8_t* const* rows,
                                                           __m512i voff, int64_t nb, float* out) {
        __m512 acc[R];
        for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
        for (int64_t b = 0; b < nb; ++b) {
            __m512i wq[8];
            __m512 dw;
            load_block(rows, voff, b * kBlockBytes, wq, dw);
            block_rows<R>(xa + static_cast<size_t>(b) * kActBlock, xrb, wq, dw, acc);
        }
        for (int r = 0; r < R; ++r) _mm512_storeu_ps(out + 16 * r, acc[r]);
    }

    template <int R>
    static void tile_any(const uint8_t* xi, size_t xrb, const uint8_t* pw, const uint8_t* const* rows,
                         __m512i voff, size_t rb, int64_t nb, int64_t cn, const uint8_t* next, float* out) {
        if (pw) {
            tile<R>(xi, xrb, pw, nb, out);
        } else if (cn == kPanel) {
            tile_direct<R>(xi, xrb, rows[0], voff, rb, nb, next != nullptr, out);
        } else {
            tile_direct_tail<R>(xi, xrb, rows, voff, nb, out);
        }
    }

    // y[i + r, j + c] = out[r][c] (+ bias) for r < rn, c < cn.
    static void store_tile(const float* out, int64_t rn, int64_t cn, int64_t i, int64_t j, int64_t n,
                           const float* bias, float* y) {
        if (cn == kPanel) {
            const __m512 bv = bias ? _mm512_loadu_ps(bias + j) : _mm512_setzero_ps();
            for (int64_t r = 0; r < rn; ++r) {
                _mm512_storeu_ps(y + (i + r) * n + j, _mm512_add_ps(_mm512_loadu_ps(out + r * kPanel), bv));
            }
            return;
        }
        for (int64_t r = 0; r < rn; ++r) {
            for (int64_t c = 0; c < cn; ++c) {
                y[(i + r) * n + j + c] = out[r * kPanel + c] + (bias ? bias[j + c] : 0.0f);
            }
        }
    }

    // Rows ib .. i1 − 1 against one repacked panel, in VNNI tiles of up to kRows.
    static void rest_rows(const uint8_t* xa, size_t xrb, int64_t ib, int64_t i1, const uint8_t* pw,
                          int64_t nb, int64_t cn, int64_t j, int64_t n, const float* bias, float* y) {
        alignas(64) float out[kRows * kPanel];
        for (int64_t i = ib; i < i1; i += kRows) {
            const uint8_t* xi = xa + static_cast<size_t>(i) * xrb;
            const int64_t rn = imin(kRows, i1 - i);
            switch (rn) {
                case 8: tile<8>(xi, xrb, pw, nb, out); break;
                case 7: tile<7>(xi, xrb, pw, nb, out); break;
                case 6: tile<6>(xi, xrb, pw, nb, out); break;
                case 5: tile<5>(xi, xrb, pw, nb, out); break;
                case 4: tile<4>(xi, xrb, pw, nb, out); break;
                case 3: tile<3>(xi, xrb, pw, nb, out); break;
                case 2: tile<2>(xi, xrb, pw, nb, out); break;
                default: tile<1>(xi, xrb, pw, nb, out); break;
            }
            store_tile(out, rn, cn, i, j, n, bias, y);
        }
    }

    // m > 8 on AMX: per chunk of x rows, its full 16-row tiles packed (xp); weight panels in
    // pairs (pw, pw2) against all of them with amx::panel_gemm (results in acc), the chunk's last
    // m % 16 rows on the VNNI tiles.
    static void run_amx(const uint8_t* xa, size_t xrb, int64_t m, int64_t nb, int64_t mc, const uint8_t* w,
                        int64_t n, int64_t j0, int64_t j1, const float* bias, float* y, uint8_t* pw,
                        uint8_t* pw2, uint8_t* xp, float* acc) {
        const size_t rb = static_cast<size_t>(nb * kBlockBytes);
        const uint8_t* rows[kPanel];
        for (int64_t i0 = 0; i0 < m; i0 += mc) {
            const int64_t i1 = imin(m, i0 + mc), n16 = (i1 - i0) / 16;
            amx::pack_x(xa + static_cast<size_t>(i0) * xrb, xrb, n16, nb, xp);
            for (int64_t j = j0; j < j1; j += 2 * kPanel) {
                const int64_t je0 = imin(j1, j + kPanel), je1 = imin(j1, j + 2 * kPanel);
                const bool two = je0 < j1;
                const uint8_t* next = je1 + kPanel <= j1 ? w + static_cast<size_t>(je1) * rb : nullptr;
                repack(rows, panel_rows(w, rb, j, je0, rows), rb, nb, pw, two ? w + static_cast<size_t>(je0) * rb : next);
                if (two) repack(rows, panel_rows(w, rb, je0, je1, rows), rb, nb, pw2, next);
                const int64_t np = two ? 2 : 1;
                if (n16 > 0) amx::panel_gemm(xp, n16, pw, two ? pw2 : nullptr, nb, acc);
                for (int64_t p = 0; p < np; ++p) {
                    const int64_t jp = j + kPanel * p, cn = (p == 0 ? je0 : je1) - jp;
                    for (int64_t t = 0; t < n16; ++t) {
                        store_tile(acc + (t * np + p) * 256, 16, cn, i0 + 16 * t, jp, n, bias, y);
                    }
                    rest_rows(xa, xrb, i0 + 16 * n16, i1, p == 0 ? pw : pw2, nb, cn, jp, n, bias, y);
                }
            }
        }
    }

    static void run(const uint8_t* xa, size_t xrb, int64_t m, int64_t k, const uint8_t* w, int64_t n,
                    int64_t j0, int64_t j1, const float* bias, float* y, bool use_amx) {
        const int64_t nb = k / 32;
        const size_t rb = static_cast<size_t>(nb * kBlockBytes);
        // m <= 8: one tile per panel, straight from the weight rows; otherwise each panel is
        // repacked once per chunk of x rows (if the scratch cannot be had, every tile reads the
        // rows directly: slower, same results).
        uint8_t* pw = nullptr;
        if (m > kRows) {
            thread_local PanelScratch scratch;
            pw = scratch.get(static_cast<size_t>(nb) * kPanelBlock);
        }
        // x rows per pass over the panels: their records (about 0.75 MiB) stay in L2.
        // (AMX: a multiple of 32 rows, so that x tiles pair up.)
        const int64_t unit = use_amx ? 32 : kRows;
        const int64_t mc = imin(m, imax(4 * kRows, static_cast<int64_t>((768u << 10) / xrb) / unit * unit));
        if (pw && use_amx) {
            thread_local PanelScratch xscratch, scratch2, accscratch;
            uint8_t* xp = xscratch.get(static_cast<size_t>(mc / 16 * nb) * amx::kXBlock);
            uint8_t* pw2 = scratch2.get(static_cast<size_t>(nb) * kPanelBlock);
            auto* acc = reinterpret_cast<float*>(accscratch.get(static_cast<size_t>(mc / 16 * 2 * 256) * 4 + 64));
            if (xp && pw2 && acc) return run_amx(xa, xrb, m, nb, mc, w, n, j0, j1, bias, y, pw, pw2, xp, acc);
        }
        alignas(64) float out[kRows * kPanel];
        const uint8_t* rows[kPanel];
        for (int64_t i0 = 0; i0 < m; i0 += mc) {
            const int64_t i1 = imin(m, i0 + mc);
            for (int64_t j = j0; j < j1; j += kPanel) {
                const int64_t je = imin(j1, j + kPanel), cn = je - j;
                const uint8_t* next = je + kPanel <= j1 ? w + static_cast<size_t>(je) * rb : nullptr;
                const __m512i voff = panel_rows(w, rb, j, je, rows);
                if (pw) repack(rows, voff, rb, nb, pw, next);
                for (int64_t i = i0; i < i1; i += kRows) {
                    const uint8_t* xi = xa + static_cast<size_t>(i) * xrb;
                    const int64_t rn = imin(kRows, i1 - i);
                    switch (rn) {
                        case 8: tile_any<8>(xi, xrb, pw, rows, voff, rb, nb, cn, next, out); break;
                        case 7: tile_any<7>(xi, xrb, pw, rows, voff, rb, nb, cn, next, out); break;
                        case 6: tile_any<6>(xi, xrb, pw, rows, voff, rb, nb, cn, next, out); break;
                        case 5: tile_any<5>(xi, xrb, pw, rows, voff, rb, nb, cn, next, out); break;
                        case 4: tile_any<4>(xi, xrb, pw, rows, voff, rb, nb, cn, next, out); break;
                        case 3: tile_any<3>(xi, xrb, pw, rows, voff, rb, nb, cn, next, out); break;
                        case 2: tile_any<2>(xi, xrb, pw, rows, voff, rb, nb, cn, next, out); break;
                        default: tile_any<1>(xi, xrb, pw, rows, voff, rb, nb, cn, next, out); break;
                    }
                    store_tile(out, rn, cn, i, j, n, bias, y);
                }
            }
        }
    }
};

// ---------------------------------------------------------------- K-quant activations
// (the Q4_K / Q5_K / Q6_K kernels are in kquant_avx512.cpp)

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


// ---------------------------------------------------------------- loops

#include "kernels/cpu/isa/tile_loops.inc"  // row_tiles, run

size_t act_row_bytes(DType wt, int64_t k) {
    switch (wt) {
        case DType::kQ8_0:
        case DType::kQ4_0:
        case DType::kQ5_0:  // plain Q8_0 records (offset unused)
        case DType::kQ5_1: return static_cast<size_t>(k / 32) * kActBlock;
        case DType::kQ4_K:
        case DType::kQ5_K:
        case DType::kQ6_K: return static_cast<size_t>(k / 256) * sizeof(BlockQ8_K);
        default: return 0;
    }
}

void prepare_act(DType wt, const float* x, int64_t k, void* out) {
    if (wt == DType::kQ4_K || wt == DType::kQ5_K || wt == DType::kQ6_K) {
        prepare_q8_k_act(x, k, static_cast<BlockQ8_K*>(out));
    } else {
        prepare_q8_0_act(wt, x, k, static_cast<uint8_t*>(out));
    }
}

void matmul_on(bool amx, DType wt, const float* x, const uint8_t* xa, int64_t m, int64_t k,
               const void* w, int64_t n, int64_t j0, int64_t j1, const float* bias, float* y) {
    const Args a{x, xa, act_row_bytes(wt, k), k};
    const auto* wb = static_cast<const uint8_t*>(w);
    const size_t rb = dtype_row_bytes(wt, k);
    // Prefill-sized batches of float weights: the same per-output arithmetic, weights converted once.
    if ((wt == DType::kF32 || wt == DType::kF16 || wt == DType::kBF16) && m >= kFloatGemmMinRows &&
        float_gemm_avx512(wt, x, m, k, wb, n, j0, j1, bias, y)) {
        return;
    }
    switch (wt) {
        case DType::kF32: return run<FloatKernel<DType::kF32>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kF16: return run<FloatKernel<DType::kF16>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kBF16: return run<FloatKernel<DType::kBF16>>(a, m, wb, rb, n, j0, j1, bias, y);
        case DType::kQ8_0: return PanelKernel<DType::kQ8_0>::run(xa, a.xrb, m, k, wb, n, j0, j1, bias, y, amx);
        case DType::kQ4_0: return PanelKernel<DType::kQ4_0>::run(xa, a.xrb, m, k, wb, n, j0, j1, bias, y, amx);
        case DType::kQ4_K: return q4k_matmul_avx512(xa, a.xrb, m, k, wb, rb, n, j0, j1, bias, y);  // kquant_avx512.cpp
        case DType::kQ5_0: return q5_matmul_avx512(false, xa, a.xrb, m, k, wb, rb, n, j0, j1, bias, y);  // q5_avx512.cpp
        case DType::kQ5_1: return q5_matmul_avx512(true, xa, a.xrb, m, k, wb, rb, n, j0, j1, bias, y);
        case DType::kQ5_K: return q5k_matmul_avx512(xa, a.xrb, m, k, wb, rb, n, j0, j1, bias, y);
        case DType::kQ6_K: return q6k_matmul_avx512(xa, a.xrb, m, k, wb, rb, n, j0, j1, bias, y);
        default: return;
    }
}

void matmul(DType wt, const float* x, const uint8_t* xa, int64_t m, int64_t k, const void* w,
            int64_t n, int64_t j0, int64_t j1, const float* bias, float* y) {
    matmul_on(false, wt, x, xa, m, k, w, n, j0, j1, bias, y);
}

// The same products with the Q8_0/Q4_0 GEMM tiles (m > 8) on AMX-INT8; identical results.
void matmul_amx(DType wt, const float* x, const uint8_t* xa, int64_t m, int64_t k, const void* w,
                int64_t n, int64_t j0, int64_t j1, const float* bias, float* y) {
    const bool tiles = m > 8 && (wt == DType::kQ8_0 || wt == DType::kQ4_0);
    if (tiles) amx::begin();
    matmul_on(tiles, wt, x, xa, m, k, w, n, j0, j1, bias, y);
    if (tiles) amx::end();
}

}  // namespace

const MatmulTable* avx512_table() {
    static const MatmulTable t{"avx512", act_row_bytes, prepare_act, matmul};
    return &t;
}

const MatmulTable* amx_table() {
    static const MatmulTable t{"amx", act_row_bytes, prepare_act, matmul_amx};
    return amx::available() ? &t : nullptr;
}

}  // namespace ag::kernels::cpu::isa
