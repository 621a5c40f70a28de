#include "audio/real_fft.h"

#include <cmath>
#include <numbers>

#include "base/check.h"

namespace ag::audio {

RealFft::RealFft(int n) : n_(n), half_(n / 2) {
    AG_CHECK(n >= 2 && n % 2 == 0, "RealFft needs an even length >= 2, got {}", n);
    // Radix 4 first (cheapest butterfly), then 2, 3, 5 and whatever prime is left.
    int m = half_;
    for (int p : {4, 2, 3, 5}) {
        while (m % p == 0) {
            factors_.push_back(p);
            m /= p;
        }
    }
    for (int p = 7; m > 1; p += 2) {
        while (m % p == 0) {
            factors_.push_back(p);
            m /= p;
        }
        AG_CHECK(p <= kMaxRadix, "RealFft: length {} has a prime factor {} > {}", n, p, kMaxRadix);
    }
    const double two_pi = 2.0 * std::numbers::pi;
    tw_.resize(size_t(half_));
    for (int j = 0; j < half_; ++j) {
        const double a = -two_pi * j / half_;
        tw_[size_t(j)] = {std::cos(a), std::sin(a)};
    }
    split_.resize(size_t(half_) + 1);
    for (int k = 0; k <= half_; ++k) {
        const double a = -two_pi * k / n_;
        split_[size_t(k)] = {std::cos(a), std::sin(a)};
    }
}

// Decimation in time: the length-n transform of in[0], in[stride], ... is p interleaved
// length-m transforms (m = n/p) written to out[r*m .. r*m + m), combined in place by
// length-p butterflies with twiddles W_n^(r*k). `stride` is also half_/n, the step that turns
// the W_half table into W_n.
void RealFft::complex_fft(const Cpx* in, int64_t stride, Cpx* out, int n, int stage) const {
    if (n == 1) {  // only for a length-2 real transform (no factors)
        out[0] = in[0];
        return;
    }
    const int p = factors_[size_t(stage)];
    const int m = n / p;
    if (m == 1) {
        for (int q = 0; q < p; ++q) out[q] = in[int64_t(q) * stride];
    } else {
        for (int r = 0; r < p; ++r) {
            complex_fft(in + int64_t(r) * stride, stride * p, out + int64_t(r) * m, m, stage + 1);
        }
    }
    Cpx tv[kMaxRadix];
    for (int k = 0; k < m; ++k) {
        tv[0] = out[k];
        for (int r = 1; r < p; ++r) {
            const Cpx a = out[int64_t(r) * m + k];
            const Cpx w = tw_[size_t(int64_t(r) * k * stride)];
            tv[r] = {a.re * w.re - a.im * w.im, a.re * w.im + a.im * w.re};
        }
        if (p == 2) {
            out[k] = {tv[0].re + tv[1].re, tv[0].im + tv[1].im};
            out[k + m] = {tv[0].re - tv[1].re, tv[0].im - tv[1].im};
        } else if (p == 4) {
            const Cpx a0{tv[0].re + tv[2].re, tv[0].im + tv[2].im};
            const Cpx a1{tv[0].re - tv[2].re, tv[0].im - tv[2].im};
            const Cpx a2{tv[1].re + tv[3].re, tv[1].im + tv[3].im};
            const Cpx a3{tv[1].im - tv[3].im, tv[3].re - tv[1].re};  // (t1 - t3) * -i
            out[k] = {a0.re + a2.re, a0.im + a2.im};
            out[k + m] = {a1.re + a3.re, a1.im + a3.im};
            out[k + 2 * m] = {a0.re - a2.re, a0.im - a2.im};
            out[k + 3 * m] = {a1.re - a3.re, a1.im - a3.im};
        } else {
            // Generic: y_q = sum_r t_r W_p^(r q), W_p taken from the W_half table.
            const int64_t wp = int64_t(half_ / p);
            for (int q = 0; q < p; ++q) {
                Cpx acc = tv[0];
                for (int r = 1; r < p; ++r) {
                    const Cpx w = tw_[size_t((int64_t(r) * q % p) * wp)];
                    acc.re += tv[r].re * w.re - tv[r].im * w.im;
                    acc.im += tv[r].re * w.im + tv[r].im * w.re;
                }
                out[k + int64_t(q) * m] = acc;
            }
        }
    }
}

void RealFft::forward(const double* x, double* re, double* im, Scratch& scratch) const {
    // z[j] = x[2j] + i x[2j+1]; Z = FFT_half(z); E[k] = (Z[k] + conj Z[h-k]) / 2,
    // O[k] = (Z[k] - conj Z[h-k]) / 2i, X[k] = E[k] + W_n^k O[k].
    AG_CHECK(scratch.size() >= 2 * size_t(half_), "RealFft: scratch too small");
    Cpx* z = scratch.data();
    Cpx* zf = z + half_;
    for (int j = 0; j < half_; ++j) z[j] = {x[2 * j], x[2 * j + 1]};
    complex_fft(z, 1, zf, half_, 0);
    for (int k = 0; k <= half_; ++k) {
        const Cpx a = zf[k == half_ ? 0 : k];
        const Cpx b = zf[k == 0 ? 0 : half_ - k];  // Z[h-k] (mod h)
        const double er = 0.5 * (a.re + b.re), ei = 0.5 * (a.im - b.im);
        const double orr = 0.5 * (a.im + b.im), oi = -0.5 * (a.re - b.re);
        const Cpx w = split_[size_t(k)];
        re[k] = er + (orr * w.re - oi * w.im);
        im[k] = ei + (orr * w.im + oi * w.re);
    }
}

}  // namespace ag::audio
