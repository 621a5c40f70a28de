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
#include <vector>

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
    float compression_ratio_threshold = 2.4f;  // gzip ratio of the text above this: fallback
    float logprob_threshold = -1.0f;           // average token logprob below this: fallback
    float no_speech_threshold = 0.6f;          // with logprob below threshold: window is silent
    bool condition_on_previous_text = true;
    std::string initial_prompt;                // text given as <|startofprev|> context
    bool suppress_blank = true;
    std::vector<int32_t> suppress_tokens{-1};  // -1 = the checkpoint's list
    int max_new_tokens = 0;                    // 0 = up to max_target_positions / 2
    uint64_t seed = 0;                         // sampling at temperature > 0
    // When set and true, transcribe() stops at the next token and returns an error.
    const std::atomic<bool>* cancel = nullptr;
};

struct Segment {
    int64_t id = 0;
    int64_t seek = 0;           // mel frame (10 ms) where its 30 s window starts
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

    // Transcribes 16 kHz mono samples. `on_segment` (optional) sees each segment as it is
    // final (streaming). Thread-safe: concurrent calls share the weights only.
    Result<Transcript> transcribe(std::span<const float> samples16k, const TranscribeOptions& opt,
                                  const std::function<void(const Segment&)>& on_segment = {}) const;

private:
    struct Impl;
    explicit Transcriber(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ag::asr
