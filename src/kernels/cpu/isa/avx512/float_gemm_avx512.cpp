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
// No std:: templates in this unit (see isa.h).
#include "kernels/cpu/isa/avx512/float_gemm_avx512.h"

#include <immintrin.h>

#include <cstddef>

namespace ag::kernels::cpu::isa {

namespace {

inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

constexpr int kR = 4;  // x rows per tile
constexpr int kC = 6;  // weight rows per tile (kR·kC accumulators + kC weights + 1 x = 31 zmm)
constexpr int64_t kXBlockBytes = 512 << 10;  // x rows per pass over the weights (kept in L2)
constexpr int64_t kWBlockBytes = 384 << 10;  // converted weight rows per block (kept in L2)

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

// One weight chunk of 16 values at t as f32; `mk` selects the values of a tail chunk (the
// others read as +0), as FloatKernel's load_w.
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

// Converts `rows` weight rows (rb bytes apart) into out (kp floats apart, kp = k rounded up to
// 16, the padding zero); rows rows .. rows_pad - 1 are all zero.
template <DType WT>
void convert_rows(const uint8_t* w, size_t rb, int64_t k, int64_t kp, int64_t rows, int64_t rows_pad,
                  float* out) {
    const int64_t kf = k / 16 * 16;
    const auto mk = static_cast<__mmask16>((1u << (k - kf)) - 1u);
    for (int64_t r = 0; r < rows; ++r) {
        const uint8_t* src = w + static_cast<size_t>(r) * rb;
        float* dst = out + r * kp;
        for (int64_t t = 0; t < kf; t += 16) _mm512_store_ps(dst + t, load_w<WT>(src, t, 0xFFFF, false));
        if (kf < k) _mm512_store_ps(dst + kf, load_w<WT>(src, kf, mk, true));
    }
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t r = rows; r < rows_pad; ++r) {
        for (int64_t t = 0; t < kp; t += 16) _mm512_store_ps(out + r * kp + t, zero);
    }
}

// out[r * kC + c] = x row r · converted weight row c, for r < R: FloatKernel's per-output sequence.
template <int R>
__attribute__((noinline)) void tile(const float* x, int64_t k, const float* wp, int64_t kp, float* out) {
    __m512 acc[R][kC];
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < kC; ++c) acc[r][c] = _mm512_setzero_ps();
    const int64_t kf = k / 16 * 16;
    for (int64_t t = 0; t < kf; t += 16) {
        __m512 wv[kC];
        for (int c = 0; c < kC; ++c) wv[c] = _mm512_load_ps(wp + c * kp + t);
        for (int r = 0; r < R; ++r) {
            const __m512 xv = _mm512_loadu_ps(x + r * k + t);
            for (int c = 0; c < kC; ++c) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
        }
    }
    if (kf < k) {
        const auto mk = static_cast<__mmask16>((1u << (k - kf)) - 1u);
        __m512 wv[kC];
        for (int c = 0; c < kC; ++c) wv[c] = _mm512_load_ps(wp + c * kp + kf);
        for (int r = 0; r < R; ++r) {
            const __m512 xv = _mm512_maskz_loadu_ps(mk, x + r * k + kf);
            for (int c = 0; c < kC; ++c) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < kC; ++c) out[r * kC + c] = _mm512_reduce_add_ps(acc[r][c]);
}

template <DType WT>
bool gemm(const float* x, int64_t m, int64_t k, const uint8_t* w, int64_t n, int64_t j0, int64_t j1,
          const float* bias, float* y) {
    const size_t rb = dtype_row_bytes(WT, k);
    const int64_t kp = (k + 15) / 16 * 16;
    const int64_t row_bytes = kp * 4;
    const int64_t mb = imax(kR, kXBlockBytes / row_bytes / kR * kR);
    const int64_t nb = imax(kC, kWBlockBytes / row_bytes / kC * kC);
    thread_local Scratch scratch;
    float* wp = scratch.get(static_cast<size_t>(nb * kp));
    if (!wp) return false;
    float out[kR * kC];
    for (int64_t i0 = 0; i0 < m; i0 += mb) {
        const int64_t i1 = imin(m, i0 + mb);
        for (int64_t jb = j0; jb < j1; jb += nb) {
            const int64_t je = imin(j1, jb + nb), rows = je - jb;
            const int64_t rows_pad = (rows + kC - 1) / kC * kC;
            convert_rows<WT>(w + static_cast<size_t>(jb) * rb, rb, k, kp, rows, rows_pad, wp);
            for (int64_t i = i0; i < i1; i += kR) {
                const int64_t rn = imin(kR, i1 - i);
                const float* xi = x + i * k;
                for (int64_t jt = 0; jt < rows; jt += kC) {
                    const float* wt = wp + jt * kp;
                    switch (rn) {
                        case 4: tile<4>(xi, k, wt, kp, out); break;
                        case 3: tile<3>(xi, k, wt, kp, out); break;
                        case 2: tile<2>(xi, k, wt, kp, out); break;
                        default: tile<1>(xi, k, wt, kp, out); break;
                    }
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
