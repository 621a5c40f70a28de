// AVX2 GEMM for F32/F16/BF16 weights and many x rows (see float_gemm_avx2.h); the 8-lane
// counterpart of avx512/float_gemm_avx512.cpp.
//
// FloatKernel (matmul_avx2.cpp) converts each weight chunk to f32 in every tile. Here the weight
// rows of a block are converted once per block of x rows and chunk of k into a 32-byte aligned
// per-thread scratch (rows zero-padded to a multiple of 8 values, what FloatKernel's zero-padded
// tail copy produces), and tiles of kR x rows × kC weight rows (12 accumulators + 3 weights + 1 x
// = 16 ymm) run on it with no conversion in the inner loop. The conversions are the same exact
// instructions, each accumulator sees the same values and fmadd sequence as in FloatKernel and is
// summed by the same hsum: the bits do not change. Accumulators that cross a chunk boundary wait
// in the scratch (kMb × kNb × 32 bytes).
//
// No std:: templates in this unit (see isa.h).
#include "kernels/cpu/isa/avx2/float_gemm_avx2.h"

#include <immintrin.h>

#include <cstddef>
#include <cstring>

namespace ag::kernels::cpu::isa {

namespace {

inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

constexpr int kR = 4;            // x rows per tile (their chunk stays in L1 while weight tiles pass)
constexpr int kC = 3;            // weight rows per tile
constexpr int64_t kKc = 1024;    // k values per chunk (multiple of 8)
constexpr int64_t kMb = 128;     // x rows per block (multiple of kR)
constexpr int64_t kNb = 48;      // weight rows per block (multiple of kC)

// Per-thread 32-byte aligned scratch: the converted weight block, then the accumulators.
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

// The same sum as matmul_avx2.cpp's hsum (bit for bit).
inline float hsum(__m256 v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

#include "kernels/cpu/isa/avx2/load_w.inc"  // load_w

// Converts values t0 .. t1 - 1 of `rows` weight rows (rb bytes apart) into out (ws floats apart),
// zero-padded to a multiple of 8; rows rows .. rows_pad - 1 are all zero. t0 is a multiple of 8.
template <DType WT>
void convert_rows(const uint8_t* w, size_t rb, int64_t t0, int64_t t1, int64_t ws, int64_t rows,
                  int64_t rows_pad, float* out) {
    constexpr size_t kEs = WT == DType::kF32 ? 4 : 2;
    const int64_t tf = t0 + (t1 - t0) / 8 * 8;
    for (int64_t r = 0; r < rows; ++r) {
        const uint8_t* src = w + static_cast<size_t>(r) * rb;
        float* dst = out + r * ws - t0;
        for (int64_t t = t0; t < tf; t += 8) _mm256_store_ps(dst + t, load_w<WT>(src, t));
        if (tf < t1) {  // the tail through a zero-padded copy, as FloatKernel
            alignas(32) uint8_t buf[32];
            std::memset(buf, 0, sizeof buf);
            std::memcpy(buf, src + static_cast<size_t>(tf) * kEs, static_cast<size_t>(t1 - tf) * kEs);
            _mm256_store_ps(dst + tf, load_w<WT>(buf, 0));
        }
    }
    const __m256 zero = _mm256_setzero_ps();
    const int64_t len = (t1 - t0 + 7) / 8 * 8;
    for (int64_t r = rows; r < rows_pad; ++r) {
        for (int64_t t = 0; t < len; t += 8) _mm256_store_ps(out + r * ws + t, zero);
    }
}

// R x rows (xs floats apart) × kC converted weight rows (ws floats apart) over `steps` chunks of
// 8 values, then, if rem > 0, one tail chunk of x zero-padded from rem values. Accumulators start
// at zero (first) or from acc_io and end in acc_io or, when `last`, summed into out[r * kC + c].
template <int R>
__attribute__((noinline)) void tile(const float* x, int64_t xs, const float* w, int64_t ws, int64_t steps,
                                    int64_t rem, bool first, bool last, __m256* acc_io, float* out) {
    __m256 acc[R][kC];
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < kC; ++c) acc[r][c] = first ? _mm256_setzero_ps() : acc_io[r * kC + c];
    for (int64_t s = 0; s < steps; ++s) {
        const int64_t t = 8 * s;
        __m256 wv[kC];
        for (int c = 0; c < kC; ++c) wv[c] = _mm256_load_ps(w + c * ws + t);
        for (int r = 0; r < R; ++r) {
            __m256 xv = _mm256_loadu_ps(x + r * xs + t);
            __asm__("" : "+x"(xv));  // one load per x chunk, not one per FMA
            for (int c = 0; c < kC; ++c) acc[r][c] = _mm256_fmadd_ps(xv, wv[c], acc[r][c]);
        }
    }
    if (rem > 0) {
        const int64_t t = 8 * steps;
        __m256 wv[kC];
        for (int c = 0; c < kC; ++c) wv[c] = _mm256_load_ps(w + c * ws + t);
        for (int r = 0; r < R; ++r) {
            alignas(32) float xbuf[8];
            std::memset(xbuf, 0, sizeof xbuf);
            std::memcpy(xbuf, x + r * xs + t, static_cast<size_t>(rem) * 4);
            const __m256 xv = _mm256_load_ps(xbuf);
            for (int c = 0; c < kC; ++c) acc[r][c] = _mm256_fmadd_ps(xv, wv[c], acc[r][c]);
        }
    }
    if (last) {
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < kC; ++c) out[r * kC + c] = hsum(acc[r][c]);
    } else {
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < kC; ++c) acc_io[r * kC + c] = acc[r][c];
    }
}

using TileFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, int64_t, bool, bool, __m256*,
                        float*);

template <DType WT>
bool gemm(const float* x, int64_t m, int64_t k, const uint8_t* w, int64_t n, int64_t j0, int64_t j1,
          const float* bias, float* y) {
    static const TileFn tiles[kR + 1] = {nullptr, tile<1>, tile<2>, tile<3>, tile<4>};
    const size_t rb = dtype_row_bytes(WT, k);
    const int64_t kp = (k + 7) / 8 * 8;
    const int64_t kc_max = imin(kp, kKc);
    const int64_t ws = kc_max + 16;  // rows a little more than a multiple of 4 KiB apart
    const int64_t n_chunks = (kp + kKc - 1) / kKc;
    thread_local Scratch scratch;
    float* wp = scratch.get(static_cast<size_t>(kNb * ws) + static_cast<size_t>(kMb * kNb * 8));
    if (!wp) return false;
    auto* accs = reinterpret_cast<__m256*>(wp + kNb * ws);  // kMb × kNb accumulators
    float out[kR * kC];
    for (int64_t i0 = 0; i0 < m; i0 += kMb) {
        const int64_t i1 = imin(m, i0 + kMb);
        for (int64_t jb = j0; jb < j1; jb += kNb) {
            const int64_t je = imin(j1, jb + kNb), rows = je - jb;
            const int64_t rows_pad = (rows + kC - 1) / kC * kC;
            for (int64_t ch = 0; ch < n_chunks; ++ch) {
                const int64_t t0 = ch * kKc, t1 = imin(k, t0 + kKc);
                const bool first = ch == 0, last = ch == n_chunks - 1;
                convert_rows<WT>(w + static_cast<size_t>(jb) * rb, rb, t0, t1, ws, rows, rows_pad, wp);
                const int64_t steps = (t1 - t0) / 8, rem = (t1 - t0) % 8;
                for (int64_t i = i0; i < i1; i += kR) {
                    const int64_t rn = imin(kR, i1 - i);
                    const float* xi = x + i * k + t0;
                    for (int64_t jt = 0; jt < rows; jt += kC) {
                        __m256* acc = accs + ((i - i0) * kNb + jt * kR);  // this tile's kR·kC
                        tiles[rn](xi, k, wp + jt * ws, ws, steps, rem, first, last, acc, out);
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

bool float_gemm_avx2(DType wt, const float* x, int64_t m, int64_t k, const uint8_t* w, int64_t n,
                     int64_t j0, int64_t j1, const float* bias, float* y) {
    switch (wt) {
        case DType::kF32: return gemm<DType::kF32>(x, m, k, w, n, j0, j1, bias, y);
        case DType::kF16: return gemm<DType::kF16>(x, m, k, w, n, j0, j1, bias, y);
        case DType::kBF16: return gemm<DType::kBF16>(x, m, k, w, n, j0, j1, bias, y);
        default: return false;
    }
}

}  // namespace ag::kernels::cpu::isa
