// Audio front end for speech recognition: decode (libsndfile), downmix, resample (libsoxr) and
// Whisper's log-mel spectrogram. Everything is mono float32 in [-1, 1].
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ag::audio {

inline constexpr int kWhisperSampleRate = 16000;
inline constexpr int kWhisperNFft = 400;
inline constexpr int kWhisperHop = 160;
inline constexpr int kWhisperWindowSamples = 30 * kWhisperSampleRate;  // 480000
inline constexpr int kWhisperWindowFrames = kWhisperWindowSamples / kWhisperHop;  // 3000

struct Pcm {
    std::vector<float> samples;  // mono (channels averaged), [-1, 1]
    int sample_rate = 0;
    double seconds() const {
        return sample_rate > 0 ? double(samples.size()) / sample_rate : 0.0;
    }
};

// Decodes an encoded file held in memory: WAV (PCM 8/16/24/32, float), FLAC, OGG/Vorbis,
// Opus and MP3 (whatever the installed libsndfile reads). `name` is used in messages only.
// Errors: kInvalidArgument naming the problem (not audio / unsupported format / empty / corrupt).
Result<Pcm> decode(std::span<const uint8_t> bytes, std::string_view name = "audio");
Result<Pcm> decode_file(const std::string& path);

// Band-limited resampling (libsoxr, high quality). Same rate returns a copy.
Result<std::vector<float>> resample(std::span<const float> in, int from_rate, int to_rate);

// decode + resample to 16 kHz. `max_seconds` > 0 bounds the decoded duration
// (kResourceExhausted "audio is N s, longer than the limit of M s").
Result<std::vector<float>> load_16k(std::span<const uint8_t> bytes, std::string_view name = "audio",
                                    double max_seconds = 0);

// Slaney-scale, Slaney-normalized triangular mel filters as transformers'
// mel_filter_bank(num_frequency_bins = 1 + n_fft/2, n_mels, 0, 8000, 16000, "slaney", "slaney"):
// [n_mels, 1 + n_fft/2] row-major.
std::vector<float> mel_filters(int n_mels, int n_fft = kWhisperNFft,
                               int sample_rate = kWhisperSampleRate);

// Log-mel spectrogram as Whisper computes it: periodic Hann window of n_fft, centred STFT
// (reflect padding), hop 160, power spectrum, mel filters, log10(max(x, 1e-10)), clamp to
// (global max - 8), (x + 4) / 4; the last STFT frame is dropped. Output [n_mels, n_frames]
// row-major with n_frames = samples.size() / 160.
//  - log_mel_window: one 30 s window exactly as WhisperFeatureExtractor(input padded with
//    zeros / truncated to 480000 samples): n_frames = 3000.
//  - log_mel: the whole signal followed by `pad_samples` zeros (openai-whisper / faster-whisper
//    pad with 30 s so the last window is complete): n_frames = (n + pad) / 160.
struct LogMel {
    std::vector<float> data;  // [n_mels, n_frames]
    int64_t n_mels = 0, n_frames = 0;
};
LogMel log_mel_window(std::span<const float> samples16k, int n_mels);
LogMel log_mel(std::span<const float> samples16k, int n_mels,
               int64_t pad_samples = kWhisperWindowSamples);

}  // namespace ag::audio
