// Whisper decoding policy (openai-whisper / faster-whisper behaviour) over a SpeechModel:
// start-of-transcript sequence, language detection, suppress tokens, timestamp rules,
// temperature fallback, long audio by sequential 30 s windows with timestamp seeking.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "asr/whisper_tokens.h"
#include "base/status.h"
#include "model/speech_model.h"
#include "tokenizer/tokenizer.h"

namespace ag::asr {

struct TranscribeOptions {
    std::string language;             // ISO code ("en", "zh"); empty = detect on the first window
    std::string task = "transcribe";  // or "translate"
    bool timestamps = false;          // false: <|notimestamps|>; true: timestamp tokens, segments
    // Fallback ladder: the next temperature is tried when a window's result fails the
    // thresholds below. {0} = greedy only.
    std::vector<float> temperatures{0.0f, 0.2f, 0.4f, 0.6f, 0.8f, 1.0f};
    int best_of = 5;                           // samples drawn per temperature > 0 (best kept)
    // Thresholds; NaN (compression: <= 0) turns one off, as None does in faster-whisper.
    float compression_ratio_threshold = 2.4f;  // zlib ratio of the text above this: fallback
    float logprob_threshold = -1.0f;           // average token logprob below this: fallback
    float no_speech_threshold = 0.6f;          // with logprob below threshold: window is silent
    bool condition_on_previous_text = true;
    // A window decoded at a temperature above this does not condition the next one.
    float prompt_reset_on_temperature = 0.5f;
    std::string initial_prompt;                // text given as <|startofprev|> context
    bool suppress_blank = true;
    // -1 = the checkpoint's list (CT2 suppress_ids / HF suppress_tokens, else openai's
    // non-speech symbols); <|transcribe|>, <|translate|>, <|startoftranscript|>,
    // <|startofprev|>, <|startoflm|> and <|nospeech|> are always added (faster-whisper).
    std::vector<int32_t> suppress_tokens{-1};
    float max_initial_timestamp = 1.0f;        // seconds; the first timestamp is at most this
    int max_new_tokens = 0;                    // 0 = up to max_target_positions / 2
    uint64_t seed = 0;                         // sampling at temperature > 0
    // When set and true, transcribe() stops at the next token and returns an error.
    const std::atomic<bool>* cancel = nullptr;
};

struct Segment {
    int64_t id = 0;
    int64_t seek = 0;           // mel frame (10 ms) where its window starts
    double start = 0, end = 0;  // seconds
    std::string text;
    std::vector<int32_t> tokens;  // text tokens (and timestamps in timestamp mode)
    float temperature = 0, avg_logprob = 0, compression_ratio = 0, no_speech_prob = 0;
};

struct Transcript {
    std::string text;      // segments joined (leading space of the first trimmed)
    std::string language;  // given or detected
    float language_probability = 0;
    double duration = 0;   // seconds of audio
    std::vector<Segment> segments;
    // Timings for bench asr.
    double mel_seconds = 0, encoder_seconds = 0, decoder_seconds = 0;
    int64_t windows = 0, decoded_tokens = 0;
};

// A speech model with its tokenizer and special tokens, loaded from one directory
// (HF WhisperForConditionalGeneration or CTranslate2 faster-whisper layout).
class Transcriber {
public:
    static Result<std::unique_ptr<Transcriber>> load(const std::string& dir,
                                                     const model::LoadOptions& opts = {});
    ~Transcriber();
    const model::SpeechModel& model() const;
    const tok::Tokenizer& tokenizer() const;
    bool multilingual() const;
    const WhisperTokens& special_tokens() const;
    // suppress_tokens {-1} resolved (sorted): the checkpoint's list plus the always-suppressed
    // special tokens; and the first-step list of suppress_blank (" " and <|endoftext|>).
    std::vector<int32_t> suppress_ids(std::span<const int32_t> suppress_tokens) const;
    const std::vector<int32_t>& suppress_begin_ids() const;

    // Transcribes 16 kHz mono samples. `on_segment` (optional) sees each segment as it is
    // final (streaming). Thread-safe: concurrent calls share the weights only.
    Result<Transcript> transcribe(std::span<const float> samples16k, const TranscribeOptions& opt,
                                  const std::function<void(const Segment&)>& on_segment = {}) const;

    // The same from features computed by the caller: `mel` [n_mels, n_frames] row-major as
    // audio::log_mel(samples, n_mels, 160) (faster-whisper's FeatureExtractor: 160 zero samples
    // of padding, so n_frames = (samples + 160) / 160; the last frame is not decoded).
    Result<Transcript> transcribe_mel(std::span<const float> mel, int64_t n_frames,
                                      const TranscribeOptions& opt,
                                      const std::function<void(const Segment&)>& on_segment = {}) const;

    // The language tokens' probabilities for one window of mel [n_mels, window frames]
    // (faster-whisper's detect_language on one segment): codes sorted by probability.
    Result<std::vector<std::pair<std::string, float>>> detect_language(
        std::span<const float> window_mel) const;

private:
    struct Impl;
    explicit Transcriber(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ag::asr
