// Whisper's log-mel spectrogram, computed as transformers' WhisperFeatureExtractor does on its
// numpy path (audio_utils.spectrogram + mel_filter_bank): every step in float64 up to log10,
// except that the complex spectrum is rounded to complex64 as numpy stores it; log10 output,
// global max, clamp and scaling in float32.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "audio/audio.h"
#include "audio/real_fft.h"
#include "base/check.h"

namespace ag::audio {
namespace {

// Slaney mel scale (transformers hertz_to_mel / mel_to_hertz, mel_scale="slaney").
double hertz_to_mel(double hz) {
    if (hz >= 1000.0) return 15.0 + std::log(hz / 1000.0) * (27.0 / std::log(6.4));
    return 3.0 * hz / 200.0;
}

double mel_to_hertz(double mel) {
    if (mel >= 15.0) return 1000.0 * std::exp((std::log(6.4) / 27.0) * (mel - 15.0));
    return 200.0 * mel / 3.0;
}

// numpy.linspace(start, stop, num) with endpoint.
std::vector<double> linspace(double start, double stop, int num) {
    std::vector<double> y(static_cast<size_t>(num));
    const double step = num > 1 ? (stop - start) / (num - 1) : 0.0;
    for (int i = 0; i < num; ++i) y[size_t(i)] = double(i) * step + start;
    if (num > 1) y.back() = stop;
    return y;
}

// [n_mels, n_bins] f64, zero outside [lo[m], hi[m]).
struct MelBank {
    int n_mels = 0, n_bins = 0;
    std::vector<double> w;
    std::vector<int> lo, hi;
};

MelBank make_mel_bank(int n_mels, int n_fft, int sample_rate) {
    AG_CHECK(n_mels > 0 && n_fft >= 2 && sample_rate > 0, "mel bank: n_mels {} n_fft {} rate {}",
             n_mels, n_fft, sample_rate);
    MelBank b;
    b.n_mels = n_mels;
    b.n_bins = 1 + n_fft / 2;
    const std::vector<double> mels = linspace(hertz_to_mel(0.0), hertz_to_mel(8000.0), n_mels + 2);
    std::vector<double> ff(mels.size());  // filter edge/centre frequencies, Hz
    for (size_t i = 0; i < mels.size(); ++i) ff[i] = mel_to_hertz(mels[i]);
    const std::vector<double> fft_hz = linspace(0.0, double(sample_rate / 2), b.n_bins);
    b.w.assign(size_t(n_mels) * size_t(b.n_bins), 0.0);
    b.lo.assign(size_t(n_mels), b.n_bins);
    b.hi.assign(size_t(n_mels), 0);
    for (int m = 0; m < n_mels; ++m) {
        const double d0 = ff[size_t(m) + 1] - ff[size_t(m)];
        const double d1 = ff[size_t(m) + 2] - ff[size_t(m) + 1];
        const double enorm = 2.0 / (ff[size_t(m) + 2] - ff[size_t(m)]);
        for (int k = 0; k < b.n_bins; ++k) {
            const double down = -(ff[size_t(m)] - fft_hz[size_t(k)]) / d0;
            const double up = (ff[size_t(m) + 2] - fft_hz[size_t(k)]) / d1;
            const double v = std::max(0.0, std::min(down, up)) * enorm;
            b.w[size_t(m) * size_t(b.n_bins) + size_t(k)] = v;
            if (v != 0.0) {
                b.lo[size_t(m)] = std::min(b.lo[size_t(m)], k);
                b.hi[size_t(m)] = k + 1;
            }
        }
        if (b.hi[size_t(m)] == 0) b.lo[size_t(m)] = 0;  // an all-zero filter (too many mels)
    }
    return b;
}

// numpy "reflect" padding index (periodic with period 2(n-1)), for i in [-pad, n + pad).
int64_t reflect(int64_t i, int64_t n) {
    if (n == 1) return 0;
    const int64_t period = 2 * (n - 1);
    int64_t j = i % period;
    if (j < 0) j += period;
    return j >= n ? period - j : j;
}

// x is the whole (already padded/truncated) signal. Frames: n / hop (the STFT's last frame,
// index n / hop, is dropped as Whisper does).
LogMel compute_log_mel(std::span<const float> x, int n_mels) {
    LogMel out;
    out.n_mels = n_mels;
    const int64_t n = int64_t(x.size());
    const int64_t n_frames = n / kWhisperHop;
    out.n_frames = n_frames;
    if (n_frames == 0) return out;

    constexpr int kN = kWhisperNFft, kHalf = kN / 2;
    const MelBank bank = make_mel_bank(n_mels, kN, kWhisperSampleRate);
    const RealFft fft(kN);
    RealFft::Scratch scratch = fft.make_scratch();
    // Periodic Hann as numpy.hanning(401)[:-1]: 0.5 + 0.5 cos(pi (2j - 400) / 400).
    double window[kN];
    for (int j = 0; j < kN; ++j) {
        window[j] = 0.5 + 0.5 * std::cos(std::numbers::pi * double(2 * j - kN) / double(kN));
    }
    out.data.resize(size_t(n_mels) * size_t(n_frames));
    double frame[kN], re[kHalf + 1], im[kHalf + 1], power[kHalf + 1];
    float max_v = -INFINITY;
    for (int64_t f = 0; f < n_frames; ++f) {
        const int64_t start = f * kWhisperHop - kHalf;  // centred frame, reflect-padded
        if (start >= 0 && start + kN <= n) {
            for (int j = 0; j < kN; ++j) frame[j] = double(x[size_t(start + j)]) * window[j];
        } else {
            for (int j = 0; j < kN; ++j) {
                frame[j] = double(x[size_t(reflect(start + j, n))]) * window[j];
            }
        }
        fft.forward(frame, re, im, scratch);
        for (int k = 0; k <= kHalf; ++k) {
            // numpy keeps the spectrum as complex64, then takes |.|^2 in float64.
            const double r = double(float(re[k])), i = double(float(im[k]));
            power[k] = r * r + i * i;
        }
        for (int m = 0; m < n_mels; ++m) {
            const double* w = bank.w.data() + size_t(m) * size_t(bank.n_bins);
            double acc = 0.0;
            for (int k = bank.lo[size_t(m)]; k < bank.hi[size_t(m)]; ++k) acc += w[k] * power[k];
            const float v = float(std::log10(std::max(acc, 1e-10)));
            out.data[size_t(m) * size_t(n_frames) + size_t(f)] = v;
            max_v = std::max(max_v, v);
        }
    }
    const float floor_v = max_v - 8.0f;
    for (float& v : out.data) v = (std::max(v, floor_v) + 4.0f) / 4.0f;
    return out;
}

}  // namespace

std::vector<float> mel_filters(int n_mels, int n_fft, int sample_rate) {
    const MelBank b = make_mel_bank(n_mels, n_fft, sample_rate);
    std::vector<float> out(b.w.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = float(b.w[i]);
    return out;
}

LogMel log_mel_window(std::span<const float> samples16k, int n_mels) {
    std::vector<float> x(size_t(kWhisperWindowSamples), 0.0f);
    const size_t n = std::min(samples16k.size(), x.size());
    std::copy_n(samples16k.begin(), n, x.begin());
    return compute_log_mel(x, n_mels);
}

LogMel log_mel(std::span<const float> samples16k, int n_mels, int64_t pad_samples) {
    AG_CHECK(pad_samples >= 0, "log_mel: negative pad_samples {}", pad_samples);
    std::vector<float> x(samples16k.size() + size_t(pad_samples), 0.0f);
    std::copy(samples16k.begin(), samples16k.end(), x.begin());
    return compute_log_mel(x, n_mels);
}

}  // namespace ag::audio
