#include "base/thread_pool.h"
#include <cmath>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/vec16.h"
#include "kernels/ref/ref.h"

namespace ag::kernels::cpu {

using namespace vec;

// rms_norm and silu_mul: the reference math on 16-lane vectors (f32 partial sums of squares
// instead of ref's double sum; a polynomial e^x), within ~1e-6 relative of ref; rows split over
// the pool. rope_interleaved runs the reference loop on each chunk of rows.

namespace {

void rms_norm_rows(const float* x, const float* w, float* y, int64_t rows, int64_t cols, float eps) {
    const int64_t cv = cols / kL * kL;
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        v16 a0 = v16{}, a1 = v16{};
        int64_t c = 0;
        for (; c + 2 * kL <= cv; c += 2 * kL) {
            const v16 u = load(xr + c), v = load(xr + c + kL);
            a0 += u * u;
            a1 += v * v;
        }
        if (c < cv) {
            const v16 u = load(xr + c);
            a0 += u * u;
        }
        float ss = hsum(a0 + a1);
        for (int64_t t = cv; t < cols; ++t) ss += xr[t] * xr[t];
        const float inv = 1.0f / std::sqrt(ss / static_cast<float>(cols) + eps);
        const v16 vi = splat(inv);
        for (c = 0; c < cv; c += kL) store(yr + c, load(w + c) * (load(xr + c) * vi));
        for (int64_t t = cv; t < cols; ++t) yr[t] = w[t] * (xr[t] * inv);
    }
}

// g · sigmoid(g) · u, sigmoid from e^−|g| so the exponential never overflows.
void silu_mul_rows(const float* gu, float* out, int64_t rows, int64_t f) {
    const int64_t fv = f / kL * kL;
    const v16 one = splat(1.0f);
    for (int64_t r = 0; r < rows; ++r) {
        const float* g = gu + r * 2 * f;
        const float* u = g + f;
        float* o = out + r * f;
        for (int64_t j = 0; j < fv; j += kL) {
            const v16 gv = load(g + j);
            const v16 e = exp_nonpos(-vabs(gv));
            const v16 den = one + e;
            const v16 sig = gv >= v16{} ? one / den : e / den;
            store(o + j, gv * sig * load(u + j));
        }
        for (int64_t j = fv; j < f; ++j) o[j] = g[j] / (1.0f + std::exp(-g[j])) * u[j];
    }
}

// 0.5·x·(1 + erf(x/√2)), erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7) on 16 lanes:
// erf(|z|) = 1 − t·(a1 + t·(a2 + …)) · e^(−z²), t = 1 / (1 + p·|z|); the sign restored after.
// The GELU it gives is within ~2e-7 of the exact one relative to max(|x|, 1).
void gelu_erf_rows(float* x, int64_t n) {
    const int64_t nv = n / kL * kL;
    const v16 one = splat(1.0f), half = splat(0.5f);
    for (int64_t i = 0; i < nv; i += kL) {
        const v16 v = load(x + i);
        const v16 z = v * splat(0.70710678118654752f);
        const v16 a = vabs(z);
        const v16 t = one / (one + splat(0.3275911f) * a);
        v16 p = splat(1.061405429f);
        p = p * t + splat(-1.453152027f);
        p = p * t + splat(1.421413741f);
        p = p * t + splat(-0.284496736f);
        p = p * t + splat(0.254829592f);
        const v16 e = one - p * t * exp_nonpos(-(a * a));
        const v16 erf = z >= v16{} ? e : -e;
        store(x + i, half * v * (one + erf));
    }
    for (int64_t i = nv; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}

}  // namespace

void gelu_erf(float* x, int64_t n) {
    ThreadPool::global().parallel_for(n, 4096, [&](int64_t i0, int64_t i1) {
        gelu_erf_rows(x + i0, i1 - i0);
    });
}

void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t cols, float eps) {
    ThreadPool::global().parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
        rms_norm_rows(x + r0 * cols, w, y + r0 * cols, r1 - r0, cols, eps);
    });
}

void silu_mul(const float* gu, float* out, int64_t rows, int64_t f) {
    ThreadPool::global().parallel_for(rows, 1, [&](int64_t r0, int64_t r1) {
        silu_mul_rows(gu + r0 * 2 * f, out + r0 * f, r1 - r0, f);
    });
}

void rope_interleaved(float* x, const float* cos, const float* sin, int64_t n_tok, int64_t n_head,
                      int64_t head_dim, int64_t n_pairs) {
    ThreadPool::global().parallel_for(n_tok, 4, [&](int64_t t0, int64_t t1) {
        ref::rope_interleaved(x + t0 * n_head * head_dim, cos + t0 * n_pairs, sin + t0 * n_pairs,
                              t1 - t0, n_head, head_dim, n_pairs);
    });
}

void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows,
                int64_t cols, float eps) {
    ThreadPool::global().parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const float* v = x + r * cols;
            float* out = y + r * cols;
            double mean = 0.0;
            for (int64_t i = 0; i < cols; ++i) mean += v[i];
            mean /= static_cast<double>(cols);
            double var = 0.0;
            for (int64_t i = 0; i < cols; ++i) var += (v[i] - mean) * (v[i] - mean);
            var /= static_cast<double>(cols);
            const auto inv = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
            const auto mu = static_cast<float>(mean);
            for (int64_t i = 0; i < cols; ++i) out[i] = (v[i] - mu) * inv * w[i] + b[i];
        }
    });
}

}  // namespace ag::kernels::cpu
