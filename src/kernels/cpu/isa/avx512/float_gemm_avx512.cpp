// AVX-512 GEMM for F32/F16/BF16 weights and many x rows (see float_gemm_avx512.h).
//
// FloatKernel (matmul_avx512.cpp) converts each weight chunk to f32 in every 4 × 4 tile, so a
// weight row is converted m / 4 times and the converts compete with the FMAs for the same ports.
// Here a block of weight rows is converted once per block of x rows into a 64-byte aligned
// per-thread scratch (rows zero-padded to a multiple of 16 values, i.e. exactly what the masked
// tail load of FloatKernel produces), and tiles of kR x rows × kC weight rows run on it with
// kR·kC accumulators in registers and no conversion in the inner loop. The conversions are the
// same exact instructions (vcvtph2ps, bf16 << 16, or a copy), so each accumulator sees the same
// values and the same fmadd sequence as in FloatKernel: the bits do not change.
//
// The final horizontal sums are done 16 accumulators at a time (reduce16) with the same pairs of
// additions as _mm512_reduce_add_ps in GCC's headers. A compiler whose intrinsic adds in another
// order would break batch invariance against FloatKernel (m = 1); tests/kernels BatchInvariance
// and FloatGemmTest compare those bits and would fail.
//
// No std:: templates in this unit (see isa.h).
#include "kernels/cpu/isa/avx512/float_gemm_avx512.h"

#include <immintrin.h>

#include <cstddef>

namespace ag::kernels::cpu::isa {

namespace {

inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

constexpr int kR = 8;  // x rows per tile (their chunk stays in L1 while weight tiles pass)
constexpr int kC = 3;  // weight rows per tile (kR·kC accumulators + kC weights + 1 x <= 32 zmm)
// Blocking: for each block of kMb x rows and kNb weight rows, k is taken in chunks of kKc values;
// per chunk the weight rows are converted (kNb × kKc f32, in L2), and each tile's x rows (kR × kKc
// f32 = 32 KiB) stay in L1 while the block's weight tiles pass. Accumulators that cross a chunk
// boundary wait in the scratch (kMb × kNb × 64 bytes); storing and reloading them changes no bits.
constexpr int64_t kKc = 1024;  // k values per chunk (multiple of 16)
constexpr int64_t kMb = 128;   // x rows per block (multiple of kR)
constexpr int64_t kNb = 48;    // weight rows per block (multiple of kC)

// Per-thread 64-byte aligned scratch for the converted weight block.
struct Scratch {
    float* p = nullptr;
    size_t cap = 0;
    Scratch() = default;
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch() { _mm_free(p); }
    float* get(size_t floats) {
        if (floats > cap) {
            _mm_free(p);
            p = static_cast<float*>(_mm_malloc(floats * sizeof(float), 64));
            cap = p ? floats : 0;
        }
        return p;
    }
};

#include "kernels/cpu/isa/avx512/load_w.inc"  // load_w

// Converts values t0 .. t1 - 1 of `rows` weight rows (rb bytes apart) into out (ws floats apart),
// zero-padded to a multiple of 16; rows rows .. rows_pad - 1 are all zero. t0 is a multiple of 16.
template <DType WT>
void convert_rows(const uint8_t* w, size_t rb, int64_t t0, int64_t t1, int64_t ws, int64_t rows,
                  int64_t rows_pad, float* out) {
    const int64_t tf = t0 + (t1 - t0) / 16 * 16;
    const auto mk = static_cast<__mmask16>((1u << (t1 - tf)) - 1u);
    for (int64_t r = 0; r < rows; ++r) {
        const uint8_t* src = w + static_cast<size_t>(r) * rb;
        float* dst = out + r * ws - t0;
        for (int64_t t = t0; t < tf; t += 16) _mm512_store_ps(dst + t, load_w<WT>(src, t, 0xFFFF, false));
        if (tf < t1) _mm512_store_ps(dst + tf, load_w<WT>(src, tf, mk, true));
    }
    const __m512 zero = _mm512_setzero_ps();
    const int64_t len = (t1 - t0 + 15) / 16 * 16;
    for (int64_t r = rows; r < rows_pad; ++r) {
        for (int64_t t = 0; t < len; t += 16) _mm512_store_ps(out + r * ws + t, zero);
    }
}

// Horizontal sums of 16 accumulators at once, each with exactly the additions of
// _mm512_reduce_add_ps (GCC's: 256-bit halves, then 128-bit halves, then elements {0,1} + {2,3},
// then element 0 + 1). Lane 4b + j of the result is the sum of v[4j + b].
inline __m512 reduce16(const __m512* v) {
    __m512 l1[8], l2[4], l3[2];
    for (int p = 0; p < 8; ++p) {  // lanes 0-7: v[2p]'s halves summed, 8-15: v[2p + 1]'s
        const __m512 hi = _mm512_shuffle_f32x4(v[2 * p], v[2 * p + 1], _MM_SHUFFLE(3, 2, 3, 2));
        const __m512 lo = _mm512_shuffle_f32x4(v[2 * p], v[2 * p + 1], _MM_SHUFFLE(1, 0, 1, 0));
        l1[p] = _mm512_add_ps(hi, lo);
    }
    for (int q = 0; q < 4; ++q) {  // 128-bit block b: v[4q + b]'s quarters summed
        const __m512 hi = _mm512_shuffle_f32x4(l1[2 * q], l1[2 * q + 1], _MM_SHUFFLE(3, 1, 3, 1));
        const __m512 lo = _mm512_shuffle_f32x4(l1[2 * q], l1[2 * q + 1], _MM_SHUFFLE(2, 0, 2, 0));
        l2[q] = _mm512_add_ps(hi, lo);
    }
    for (int h = 0; h < 2; ++h) {  // block b: {0+2, 1+3} of v[8h + b], then of v[8h + 4 + b]
        const __m512d a = _mm512_castps_pd(l2[2 * h]), b = _mm512_castps_pd(l2[2 * h + 1]);
        l3[h] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)),
                              _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
    }
    return _mm512_add_ps(_mm512_shuffle_ps(l3[0], l3[1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_ps(l3[0], l3[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

// R x rows (xs floats apart) × kC converted weight rows (ws floats apart) over `steps` chunks
// of 16 values, then, if mk != 0, one tail chunk with x masked by mk (the weights' padding is
// zero). The accumulators start at zero (first) or from acc, and end in acc or, when `last`,
// reduced into out[r * kC + c]: FloatKernel's per-output sequence, split at chunk boundaries.
template <int R>
__attribute__((noinline)) void tile(const float* x, int64_t xs, const float* w, int64_t ws, int64_t steps,
                                    __mmask16 mk, bool first, bool last, __m512* acc_io, float* out) {
    __m512 acc[R][kC];
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < kC; ++c) acc[r][c] = first ? _mm512_setzero_ps() : acc_io[r * kC + c];
    for (int64_t s = 0; s < steps; ++s) {
        const int64_t t = 16 * s;
        __m512 wv[kC];
        for (int c = 0; c < kC; ++c) wv[c] = _mm512_load_ps(w + c * ws + t);
        for (int r = 0; r < R; ++r) {
            __m512 xv = _mm512_loadu_ps(x + r * xs + t);
            // One load per x chunk: keeps GCC from folding it into each of the kC FMAs.
            __asm__("" : "+v"(xv));
            for (int c = 0; c < kC; ++c) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
        }
    }
    if (mk) {
        const int64_t t = 16 * steps;
        __m512 wv[kC];
        for (int c = 0; c < kC; ++c) wv[c] = _mm512_load_ps(w + c * ws + t);
        for (int r = 0; r < R; ++r) {
            const __m512 xv = _mm512_maskz_loadu_ps(mk, x + r * xs + t);
            for (int c = 0; c < kC; ++c) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
        }
    }
    if (last) {
        // out[i] for i = r * kC + c, 16 at a time (a short last group repeats accumulators).
        constexpr int kN = R * kC;
        for (int g = 0; g < kN; g += 16) {
            __m512 v[16];
            for (int i = 0; i < 16; ++i) {
                const int e = g + i < kN ? g + i : g + i - 8 < kN && g + i >= 8 ? g + i - 8 : g;
                v[i] = acc[e / kC][e % kC];
            }
            alignas(64) float sums[16];
            _mm512_store_ps(sums, reduce16(v));
            for (int i = 0; i < 16 && g + i < kN; ++i) out[g + i] = sums[4 * (i % 4) + i / 4];
        }
    } else {
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < kC; ++c) acc_io[r * kC + c] = acc[r][c];
    }
}

using TileFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, __mmask16, bool, bool,
                        __m512*, float*);

template <DType WT>
bool gemm(const float* x, int64_t m, int64_t k, const uint8_t* w, int64_t n, int64_t j0, int64_t j1,
          const float* bias, float* y) {
    static const TileFn tiles[kR + 1] = {nullptr, tile<1>, tile<2>, tile<3>, tile<4>,
                                         tile<5>, tile<6>, tile<7>, tile<8>};
    const size_t rb = dtype_row_bytes(WT, k);
    const int64_t kp = (k + 15) / 16 * 16;
    const int64_t kc_max = imin(kp, kKc);
    // Converted rows kc_max + 16 floats apart, so that rows do not share L1 sets.
    const int64_t ws = kc_max + 16;
    const int64_t n_chunks = (kp + kKc - 1) / kKc;
    thread_local Scratch scratch;
    float* wp = scratch.get(static_cast<size_t>(kNb * ws) + static_cast<size_t>(kMb * kNb * 16));
    if (!wp) return false;
    auto* accs = reinterpret_cast<__m512*>(wp + kNb * ws);  // kMb × kNb accumulators
    float out[kR * kC];
    for (int64_t i0 = 0; i0 < m; i0 += kMb) {
        const int64_t i1 = imin(m, i0 + kMb);
        for (int64_t jb = j0; jb < j1; jb += kNb) {
            const int64_t je = imin(j1, jb + kNb), rows = je - jb;
            const int64_t rows_pad = (rows + kC - 1) / kC * kC;
            for (int64_t ch = 0; ch < n_chunks; ++ch) {
                const int64_t t0 = ch * kKc, t1 = imin(k, t0 + kKc);
                const bool first = ch == 0, last = ch == n_chunks - 1;
                convert_rows<WT>(w + static_cast<size_t>(jb) * rb, rb, t0, t1, ws,
                                 rows, rows_pad, wp);
                const int64_t steps = (t1 - t0) / 16;
                const auto mk = static_cast<__mmask16>((1u << ((t1 - t0) % 16)) - 1u);
                for (int64_t i = i0; i < i1; i += kR) {
                    const int64_t rn = imin(kR, i1 - i);
                    const float* xi = x + i * k + t0;
                    for (int64_t jt = 0; jt < rows; jt += kC) {
                        __m512* acc = accs + ((i - i0) * kNb + jt * kR);  // this tile's kR·kC
                        tiles[rn](xi, k, wp + jt * ws, ws, steps, mk, first, last, acc, out);
                        if (!last) continue;
                        const int64_t j = jb + jt, cn = imin(kC, je - j);
                        for (int64_t r = 0; r < rn; ++r) {
                            for (int64_t c = 0; c < cn; ++c) {
                                y[(i + r) * n + j + c] = out[r * kC + c] + (bias ? bias[j + c] : 0.0f);
                            }
                        }
                    }
                }
            }
        }
    }
    return true;
}

}  // namespace

bool float_gemm_avx512(DType wt, const float* x, int64_t m, int64_t k, const uint8_t* w, int64_t n,
                       int64_t j0, int64_t j1, const float* bias, float* y) {
    switch (wt) {
        case DType::kF32: return gemm<DType::kF32>(x, m, k, w, n, j0, j1, bias, y);
        case DType::kF16: return gemm<DType::kF16>(x, m, k, w, n, j0, j1, bias, y);
        case DType::kBF16: return gemm<DType::kBF16>(x, m, k, w, n, j0, j1, bias, y);
        default: return false;
    }
}

}  // namespace ag::kernels::cpu::isa
