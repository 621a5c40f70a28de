// Log-mel spectrogram and mel filters against transformers' WhisperFeatureExtractor
// (tests/golden/make_mel_golden.py writes tests/golden/audio/mel_golden.json).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numbers>
#include <random>

#include <nlohmann/json.hpp>

#include "audio/audio.h"
#include "audio/real_fft.h"

namespace ag::audio {
namespace {

using nlohmann::json;

constexpr double kTol = 1e-4;  // every stored log-mel value

// The signal of make_mel_golden.py's signal(): float64, rounded to float32.
std::vector<float> golden_signal(int64_t n) {
    std::vector<float> x(static_cast<size_t>(n));
    const double T = double(n) / 16000.0, two_pi = 2.0 * std::numbers::pi;
    for (int64_t i = 0; i < n; ++i) {
        uint32_t h = uint32_t(uint64_t(i) * 0x9E3779B1u);
        h ^= h >> 15;
        h *= 0x85EBCA77u;
        h ^= h >> 13;
        const double t = double(i) / 16000.0;
        double v = 0.3 * std::sin(two_pi * 440.0 * t) +
                   0.15 * std::sin(two_pi * 1234.5 * t + 0.3) *
                       (0.6 + 0.4 * std::sin(two_pi * 0.7 * t)) +
                   0.1 * std::sin(two_pi * (60.0 * t + 7840.0 * t * t / (2.0 * T))) +
                   0.02 * (double(h) / 4294967296.0 - 0.5);
        if (t >= 0.40 * T && t < 0.45 * T) v = 0.0;
        if (t >= 0.60 * T && t < 0.65 * T) v *= 1e-3;
        x[size_t(i)] = float(v);
    }
    return x;
}

const json& golden() {
    static const json j = [] {
        std::ifstream in("tests/golden/audio/mel_golden.json");
        EXPECT_TRUE(in.good()) << "run from the repository root";
        return json::parse(in);
    }();
    return j;
}

// Max |got - want| over a stored vector.
double max_diff(const std::vector<double>& got, const json& want) {
    EXPECT_EQ(got.size(), want.size());
    double d = 0;
    for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
        d = std::max(d, std::abs(got[i] - want[i].get<double>()));
    }
    return d;
}

void check_case(const json& c, const LogMel& mel) {
    const int64_t n_mels = c["n_mels"], n_frames = c["n_frames"];
    ASSERT_EQ(mel.n_mels, n_mels);
    ASSERT_EQ(mel.n_frames, n_frames);
    ASSERT_EQ(mel.data.size(), size_t(n_mels * n_frames));
    auto at = [&](int64_t m, int64_t f) { return double(mel.data[size_t(m * n_frames + f)]); };
    for (const auto& [key, values] : c["rows"].items()) {
        const int64_t r = std::stoll(key);
        std::vector<double> got(static_cast<size_t>(n_frames));
        for (int64_t f = 0; f < n_frames; ++f) got[size_t(f)] = at(r, f);
        EXPECT_LE(max_diff(got, values), kTol) << "row " << r;
    }
    for (const auto& [key, values] : c["cols"].items()) {
        const int64_t f = std::stoll(key);
        std::vector<double> got(static_cast<size_t>(n_mels));
        for (int64_t m = 0; m < n_mels; ++m) got[size_t(m)] = at(m, f);
        EXPECT_LE(max_diff(got, values), kTol) << "column " << f;
    }
    std::vector<double> row_mean(size_t(n_mels), 0.0), col_mean(size_t(n_frames), 0.0);
    double mean = 0;
    for (int64_t m = 0; m < n_mels; ++m) {
        for (int64_t f = 0; f < n_frames; ++f) {
            row_mean[size_t(m)] += at(m, f) / double(n_frames);
            col_mean[size_t(f)] += at(m, f) / double(n_mels);
            mean += at(m, f);
        }
    }
    mean /= double(n_mels * n_frames);
    EXPECT_LE(max_diff(row_mean, c["row_mean"]), kTol);
    EXPECT_LE(max_diff(col_mean, c["col_mean"]), kTol);
    EXPECT_NEAR(mean, c["mean"].get<double>(), kTol);
}

TEST(MelGolden, FiltersMatchTransformers) {
    for (const auto& [key, g] : golden()["filters"].items()) {
        const int n_mels = std::stoi(key);
        const std::vector<float> f = mel_filters(n_mels);
        ASSERT_EQ(f.size(), size_t(n_mels) * 201);
        for (const auto& [rk, values] : g["rows"].items()) {
            const int r = std::stoi(rk);
            std::vector<double> got(201);
            for (int k = 0; k < 201; ++k) got[size_t(k)] = f[size_t(r) * 201 + size_t(k)];
            EXPECT_LE(max_diff(got, values), 1e-8) << n_mels << " mels, filter " << r;
        }
        std::vector<double> sums(size_t(n_mels), 0.0);
        for (int m = 0; m < n_mels; ++m) {
            for (int k = 0; k < 201; ++k) sums[size_t(m)] += f[size_t(m) * 201 + size_t(k)];
        }
        EXPECT_LE(max_diff(sums, g["row_sum"]), 1e-6) << n_mels << " mels";
    }
}

TEST(MelGolden, WindowAndWholeSignalMatchTransformers) {
    size_t n_checked = 0;
    for (const json& c : golden()["cases"]) {
        const int64_t n = c["n_samples"];
        const int n_mels = c["n_mels"];
        const std::vector<float> x = golden_signal(n);
        const std::string kind = c["kind"];
        SCOPED_TRACE(kind + " " + std::to_string(c["seconds"].get<double>()) + " s, " +
                     std::to_string(n_mels) + " mels");
        if (kind == "window") {
            check_case(c, log_mel_window(x, n_mels));
        } else {
            check_case(c, log_mel(x, n_mels, c["pad_samples"].get<int64_t>()));
        }
        ++n_checked;
    }
    EXPECT_EQ(n_checked, 12u);
}

TEST(LogMel, ShortAndEmptyInputs) {
    // Fewer than one hop: no frames (numpy would fail on the max of an empty array).
    const std::vector<float> tiny(100, 0.25f);
    EXPECT_EQ(log_mel(tiny, 80, 0).n_frames, 0);
    EXPECT_TRUE(log_mel(tiny, 80, 0).data.empty());
    EXPECT_EQ(log_mel({}, 80, 0).n_frames, 0);
    // Shorter than the reflect padding (n <= 200): repeated reflection, still finite.
    const std::vector<float> x = golden_signal(180);
    const LogMel m = log_mel(x, 80, 0);
    EXPECT_EQ(m.n_frames, 1);
    for (float v : m.data) EXPECT_TRUE(std::isfinite(v));
    // All zeros: log10(1e-10) = -10 everywhere, (-10 + 4) / 4 = -1.5.
    const LogMel z = log_mel_window({}, 128);
    ASSERT_EQ(z.n_frames, 3000);
    for (float v : z.data) ASSERT_EQ(v, -1.5f);
}

TEST(RealFft, MatchesDirectDft) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (int n : {2, 4, 6, 10, 14, 22, 40, 98, 400, 512}) {
        const RealFft fft(n);
        RealFft::Scratch scratch = fft.make_scratch();
        const size_t nb = static_cast<size_t>(n / 2 + 1);
        std::vector<double> x(static_cast<size_t>(n)), re(nb), im(nb);
        for (double& v : x) v = u(rng);
        fft.forward(x.data(), re.data(), im.data(), scratch);
        double err = 0;
        for (int k = 0; k <= n / 2; ++k) {
            long double sr = 0, si = 0;
            for (int j = 0; j < n; ++j) {
                const long double a = -2.0L * std::numbers::pi_v<long double> * j * k / n;
                sr += x[size_t(j)] * std::cos(a);
                si += x[size_t(j)] * std::sin(a);
            }
            err = std::max({err, std::abs(double(sr) - re[size_t(k)]),
                            std::abs(double(si) - im[size_t(k)])});
        }
        EXPECT_LT(err, 1e-12) << "n = " << n;
    }
}

// Speed is reported, not asserted (docs/audio.md quotes it).
TEST(LogMel, Speed30Seconds) {
    const std::vector<float> x = golden_signal(480000);
    LogMel m;
    double best = 1e9;
    for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        m = log_mel_window(x, 128);
        best = std::min(best, std::chrono::duration<double, std::milli>(
                                  std::chrono::steady_clock::now() - t0)
                                  .count());
    }
    EXPECT_EQ(m.n_frames, 3000);
    std::printf("log_mel_window(30 s, 128 mels): %.1f ms (best of 3, one thread)\n", best);
    RecordProperty("log_mel_30s_ms", std::to_string(best));
}

}  // namespace
}  // namespace ag::audio
