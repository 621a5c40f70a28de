// Mixed-radix FFT of a real signal, float64 throughout (numpy's rfft computes in float64 too,
// which the Whisper log-mel must match). Internal to ag_audio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ag::audio {

// Forward real DFT of even length n whose half n/2 factors into 2, 3, 4, 5 (and any other
// prime, at O(p^2) per butterfly): X[k] = sum_j x[j] exp(-2 pi i j k / n), k = 0 .. n/2.
// Done as one complex FFT of length n/2 over (x[2j], x[2j+1]) and a split step.
// Immutable after construction: one instance may be shared by threads (each passes its own
// scratch).
class RealFft {
public:
    explicit RealFft(int n);
    int size() const { return n_; }
    int n_bins() const { return n_ / 2 + 1; }

    struct Cpx {
        double re, im;
    };
    // Per-thread work space for forward(): construct with make_scratch().
    using Scratch = std::vector<Cpx>;
    Scratch make_scratch() const { return Scratch(2 * std::size_t(half_)); }

    // x: [n] f64; re, im: [n/2 + 1] f64.
    void forward(const double* x, double* re, double* im, Scratch& scratch) const;

private:
    static constexpr int kMaxRadix = 61;
    void complex_fft(const Cpx* in, int64_t stride, Cpx* out, int n, int stage) const;

    int n_ = 0, half_ = 0;
    std::vector<int> factors_;  // radices of the length-n/2 complex FFT, outermost first
    std::vector<Cpx> tw_;       // [n/2] exp(-2 pi i j / (n/2))
    std::vector<Cpx> split_;    // [n/2 + 1] exp(-2 pi i k / n), for the real split step
};

}  // namespace ag::audio
