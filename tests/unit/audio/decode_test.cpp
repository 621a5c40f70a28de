// Decoding, downmix, resampling and load_16k. Encoded inputs are written in the test by
// libsndfile's own encoders from synthetic tones, so no binary fixtures are needed.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <random>
#include <string>

#include "audio/audio.h"

namespace ag::audio {
namespace {

// --- libsndfile writer over a growable memory buffer -----------------------------------
struct MemFile {
    std::vector<uint8_t> bytes;
    sf_count_t pos = 0;
};

sf_count_t mem_len(void* u) { return sf_count_t(static_cast<MemFile*>(u)->bytes.size()); }
sf_count_t mem_seek(sf_count_t off, int whence, void* u) {
    auto* m = static_cast<MemFile*>(u);
    const sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : mem_len(u);
    if (base + off < 0) return -1;
    m->pos = base + off;
    return m->pos;
}
sf_count_t mem_read(void* p, sf_count_t n, void* u) {
    auto* m = static_cast<MemFile*>(u);
    const sf_count_t left = std::max<sf_count_t>(0, mem_len(u) - m->pos);
    n = std::min(n, left);
    if (n > 0) std::memcpy(p, m->bytes.data() + m->pos, size_t(n));
    m->pos += n;
    return n;
}
sf_count_t mem_write(const void* p, sf_count_t n, void* u) {
    auto* m = static_cast<MemFile*>(u);
    if (size_t(m->pos + n) > m->bytes.size()) m->bytes.resize(size_t(m->pos + n));
    std::memcpy(m->bytes.data() + m->pos, p, size_t(n));
    m->pos += n;
    return n;
}
sf_count_t mem_tell(void* u) { return static_cast<MemFile*>(u)->pos; }

// Interleaved [frames, channels] samples encoded as `format` (SF_FORMAT_*).
std::vector<uint8_t> encode(const std::vector<float>& interleaved, int channels, int rate,
                            int format) {
    MemFile mf;
    SF_VIRTUAL_IO vio{mem_len, mem_seek, mem_read, mem_write, mem_tell};
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = channels;
    info.format = format;
    SNDFILE* sf = sf_open_virtual(&vio, SFM_WRITE, &info, &mf);
    EXPECT_NE(sf, nullptr) << "libsndfile cannot write format 0x" << std::hex << format << ": "
                           << sf_strerror(nullptr);
    if (!sf) return {};
    const sf_count_t frames = sf_count_t(interleaved.size()) / channels;
    EXPECT_EQ(sf_writef_float(sf, interleaved.data(), frames), frames);
    sf_close(sf);
    return mf.bytes;
}

std::vector<float> tone(double hz, double amp, int rate, double seconds, double phase = 0) {
    std::vector<float> x(size_t(std::llround(seconds * rate)));
    for (size_t i = 0; i < x.size(); ++i) {
        x[i] = float(amp * std::sin(2.0 * std::numbers::pi * hz * double(i) / rate + phase));
    }
    return x;
}

// Least-squares fit of a*sin + b*cos at `hz` over the middle 80% of x: the amplitude, and the
// residual RMS relative to the signal RMS (small when x is that tone, whatever its delay).
struct ToneFit {
    double amplitude = 0, residual = 1;
};
ToneFit fit_tone(const std::vector<float>& x, int rate, double hz) {
    const size_t b = x.size() / 10, e = x.size() - x.size() / 10;
    double ss = 0, cc = 0, sc = 0, xs = 0, xc = 0, xx = 0;
    for (size_t i = b; i < e; ++i) {
        const double a = 2.0 * std::numbers::pi * hz * double(i) / rate;
        const double s = std::sin(a), c = std::cos(a);
        ss += s * s, cc += c * c, sc += s * c, xs += x[i] * s, xc += x[i] * c, xx += x[i] * x[i];
    }
    const double det = ss * cc - sc * sc;
    const double ka = (xs * cc - xc * sc) / det, kb = (xc * ss - xs * sc) / det;
    double res = 0;
    for (size_t i = b; i < e; ++i) {
        const double a = 2.0 * std::numbers::pi * hz * double(i) / rate;
        const double r = x[i] - (ka * std::sin(a) + kb * std::cos(a));
        res += r * r;
    }
    return {std::hypot(ka, kb), xx > 0 ? std::sqrt(res / xx) : 1.0};
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b, size_t skip = 0) {
    double d = 0;
    const size_t n = std::min(a.size(), b.size());
    for (size_t i = skip; i + skip < n; ++i) d = std::max(d, double(std::abs(a[i] - b[i])));
    return d;
}

// --- lossless formats: the samples survive -----------------------------------------------
struct LosslessCase {
    const char* name;
    int format;
    double tol;
};

TEST(Decode, LosslessFormatsKeepSamples) {
    const LosslessCase cases[] = {
        {"wav u8", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 1.5 / 128},  // write truncates, read / 128
        {"wav pcm16", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1e-3},
        {"wav pcm24", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1e-3},
        {"wav pcm32", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 1e-3},
        {"wav float", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1e-7},
        {"wav double", SF_FORMAT_WAV | SF_FORMAT_DOUBLE, 1e-7},
        {"flac 16", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1e-3},
        {"flac 24", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 1e-3},
    };
    const std::vector<float> x = tone(440.0, 0.6, 16000, 1.25);
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const std::vector<uint8_t> bytes = encode(x, 1, 16000, c.format);
        Result<Pcm> pcm = decode(bytes, c.name);
        ASSERT_TRUE(pcm.ok()) << pcm.status().to_string();
        EXPECT_EQ(pcm->sample_rate, 16000);
        ASSERT_EQ(pcm->samples.size(), x.size());
        EXPECT_DOUBLE_EQ(pcm->seconds(), 1.25);
        EXPECT_LE(max_abs_diff(pcm->samples, x), c.tol);
    }
}

// --- lossy formats: duration, frequency and amplitude survive ------------------------------
struct LossyCase {
    const char* name;
    int format;
    int rate;
};

TEST(Decode, LossyFormatsKeepTheTone) {
    const LossyCase cases[] = {
        {"ogg vorbis", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000},
        {"ogg opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000},
        {"ogg opus 16k", SF_FORMAT_OGG | SF_FORMAT_OPUS, 16000},
        {"mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100},
        {"mp3 16k", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 16000},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const std::vector<float> x = tone(440.0, 0.5, c.rate, 2.0);
        const std::vector<uint8_t> bytes = encode(x, 1, c.rate, c.format);
        ASSERT_FALSE(bytes.empty());
        Result<Pcm> pcm = decode(bytes, c.name);
        ASSERT_TRUE(pcm.ok()) << pcm.status().to_string();
        EXPECT_EQ(pcm->sample_rate, c.rate);
        EXPECT_NEAR(pcm->seconds(), 2.0, 0.05);
        const ToneFit fit = fit_tone(pcm->samples, c.rate, 440.0);
        EXPECT_NEAR(fit.amplitude, 0.5, 0.02);
        EXPECT_LT(fit.residual, 0.05);  // measured 0.004 .. 0.012
        // Through load_16k: 16 kHz, same tone.
        Result<std::vector<float>> s16 = load_16k(bytes, c.name);
        ASSERT_TRUE(s16.ok()) << s16.status().to_string();
        EXPECT_NEAR(double(s16->size()) / 16000.0, 2.0, 0.05);
        const ToneFit fit16 = fit_tone(*s16, 16000, 440.0);
        EXPECT_NEAR(fit16.amplitude, 0.5, 0.02);
        EXPECT_LT(fit16.residual, 0.05);
    }
}

TEST(Decode, StereoIsAveraged) {
    const std::vector<float> l = tone(440.0, 0.5, 16000, 0.5), r = tone(1000.0, 0.3, 16000, 0.5);
    std::vector<float> inter(2 * l.size()), want(l.size());
    for (size_t i = 0; i < l.size(); ++i) {
        inter[2 * i] = l[i];
        inter[2 * i + 1] = r[i];
        want[i] = 0.5f * (l[i] + r[i]);
    }
    for (int format : {SF_FORMAT_WAV | SF_FORMAT_FLOAT, SF_FORMAT_FLAC | SF_FORMAT_PCM_24}) {
        Result<Pcm> pcm = decode(encode(inter, 2, 16000, format));
        ASSERT_TRUE(pcm.ok()) << pcm.status().to_string();
        ASSERT_EQ(pcm->samples.size(), l.size());
        EXPECT_LE(max_abs_diff(pcm->samples, want), 1e-4);
    }
    // Opposite channels cancel.
    for (size_t i = 0; i < l.size(); ++i) inter[2 * i + 1] = -l[i];
    Result<Pcm> pcm = decode(encode(inter, 2, 16000, SF_FORMAT_WAV | SF_FORMAT_FLOAT));
    ASSERT_TRUE(pcm.ok());
    EXPECT_LE(max_abs_diff(pcm->samples, std::vector<float>(l.size(), 0.0f)), 1e-7);
}

// --- resampling ---------------------------------------------------------------------------
TEST(Resample, ToSixteenKilohertzKeepsLengthAndTone) {
    struct Case {
        int rate;
        double hz;
    };
    for (const Case c : {Case{44100, 440.0}, Case{8000, 1000.0}, Case{48000, 3000.0},
                         Case{22050, 200.0}}) {
        SCOPED_TRACE(c.rate);
        const std::vector<float> x = tone(c.hz, 0.5, c.rate, 1.5);
        Result<std::vector<float>> y =
            load_16k(encode(x, 1, c.rate, SF_FORMAT_WAV | SF_FORMAT_FLOAT));
        ASSERT_TRUE(y.ok()) << y.status().to_string();
        EXPECT_NEAR(double(y->size()), 24000.0, 1.0);
        // soxr compensates its delay: sample for sample equal to the tone sampled at 16 kHz
        // (away from the edges, where the filter sees the signal start and stop).
        const std::vector<float> want = tone(c.hz, 0.5, 16000, 1.5);
        EXPECT_LE(max_abs_diff(*y, want, 400), 1e-5);  // measured <= 4e-7
    }
}

TEST(Resample, Basics) {
    const std::vector<float> x = tone(440.0, 0.5, 16000, 0.1);
    Result<std::vector<float>> same = resample(x, 16000, 16000);
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(*same, x);
    Result<std::vector<float>> empty = resample({}, 44100, 16000);
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->empty());
    Result<std::vector<float>> down = resample(x, 16000, 8000);
    ASSERT_TRUE(down.ok());
    EXPECT_NEAR(double(down->size()), 800.0, 1.0);
    for (auto [a, b] : {std::pair{0, 16000}, std::pair{16000, -1}, std::pair{16000, 10000000}}) {
        Result<std::vector<float>> r = resample(x, a, b);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    }
}

// --- errors ---------------------------------------------------------------------------------
void expect_invalid(const Result<Pcm>& r, const std::string& needle) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << r.status().to_string();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

TEST(DecodeErrors, Empty) {
    expect_invalid(decode({}, "clip.wav"), "clip.wav: audio file is empty");
    Result<std::vector<float>> r = load_16k({}, "x");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
}

TEST(DecodeErrors, RandomBytesAreNotAudio) {
    std::mt19937 rng(1234);
    for (size_t n : {1, 3, 12, 44, 100, 1000, 4096, 65536}) {
        for (int rep = 0; rep < 4; ++rep) {
            std::vector<uint8_t> b(n);
            for (auto& v : b) v = uint8_t(rng());
            expect_invalid(decode(b, "noise.bin"), "noise.bin: not a recognised audio format (");
        }
    }
    const std::string text = "this is not an audio file, just some text\n";
    expect_invalid(decode({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, "t.txt"),
                   "t.txt: not a recognised audio format (");
}

TEST(DecodeErrors, TruncatedWavAndFlac) {
    const std::vector<float> x = tone(440.0, 0.5, 16000, 1.0);
    const std::vector<uint8_t> wav = encode(x, 1, 16000, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    for (size_t n : {4, 12, 20, 30, 43}) {  // inside the 44-byte header
        expect_invalid(decode({wav.data(), n}, "cut.wav"), "cut.wav");
    }
    // Header complete, data cut: what is there decodes.
    Result<Pcm> part = decode({wav.data(), 44 + 2000}, "cut.wav");
    if (part.ok()) {
        EXPECT_LE(part->samples.size(), 1000u);
    }

    const std::vector<uint8_t> flac = encode(x, 1, 16000, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
    for (size_t n : {size_t(3), size_t(10), size_t(42), flac.size() / 4, flac.size() / 2,
                     flac.size() - 1}) {
        Result<Pcm> r = decode({flac.data(), n}, "cut.flac");
        if (r.ok()) {
            EXPECT_LE(r->samples.size(), x.size());
        } else {
            EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
        }
    }
    expect_invalid(decode({flac.data(), 10}, "cut.flac"), "cut.flac");
}

TEST(DecodeErrors, NoSamples) {
    const std::vector<uint8_t> wav = encode({}, 1, 16000, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    ASSERT_FALSE(wav.empty());
    expect_invalid(decode(wav, "silent.wav"), "silent.wav: contains no samples");
}

TEST(DecodeErrors, AbsurdSampleRate) {
    std::vector<uint8_t> wav =
        encode(tone(440.0, 0.5, 16000, 0.1), 1, 16000, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    const auto fmt_at = std::search(wav.begin(), wav.end(), std::begin("fmt "),
                                    std::begin("fmt ") + 4);
    ASSERT_NE(fmt_at, wav.end());
    const size_t rate_at = size_t(fmt_at - wav.begin()) + 12;  // "fmt ", size, tag, channels
    for (uint32_t rate : {2u, 999u, 5000000u, 0xFFFFFFFFu}) {
        std::vector<uint8_t> b = wav;
        for (int k = 0; k < 4; ++k) b[rate_at + size_t(k)] = uint8_t(rate >> (8 * k));
        Result<Pcm> r = decode(b, "rate.wav");
        ASSERT_FALSE(r.ok()) << rate;
        EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
        EXPECT_NE(r.status().message().find("rate.wav"), std::string::npos);
    }
}

TEST(DecodeErrors, LongerThanTheLimit) {
    const std::vector<uint8_t> wav =
        encode(tone(440.0, 0.5, 44100, 3.0), 1, 44100, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    Result<std::vector<float>> r = load_16k(wav, "long.wav", 2.0);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted);
    EXPECT_EQ(r.status().message(), "audio is 3.0 s, longer than the limit of 2 s");
    Result<std::vector<float>> ok = load_16k(wav, "long.wav", 3.0);  // exactly at the limit
    ASSERT_TRUE(ok.ok()) << ok.status().to_string();
    EXPECT_NEAR(double(ok->size()), 48000.0, 1.0);
    EXPECT_TRUE(load_16k(wav, "long.wav", 0).ok());  // 0 = no limit
    Result<std::vector<float>> bad = load_16k(wav, "long.wav", -1.0);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
}

TEST(DecodeFile, ReadsAFileAndReportsMissingOnes) {
    const std::vector<uint8_t> flac =
        encode(tone(440.0, 0.5, 16000, 0.5), 1, 16000, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
    const std::filesystem::path path =
        std::filesystem::temp_directory_path() /
        ("ag_audio_test_" + std::to_string(std::random_device{}()) + ".flac");
    {
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(flac.data()), std::streamsize(flac.size()));
    }
    Result<Pcm> pcm = decode_file(path.string());
    std::filesystem::remove(path);
    ASSERT_TRUE(pcm.ok()) << pcm.status().to_string();
    EXPECT_EQ(pcm->samples.size(), 8000u);

    Result<Pcm> missing = decode_file("/nonexistent/dir/clip.wav");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
    EXPECT_NE(missing.status().message().find("/nonexistent/dir/clip.wav"), std::string::npos);
}

}  // namespace
}  // namespace ag::audio
