// Decoding of one 30 s window with temperature fallback (faster-whisper's
// generate_with_fallback over CTranslate2's Whisper generate): greedy at T = 0, best-of-N
// sampling at T > 0, logit filters per step, no-speech probability at the SOT position.
#pragma once

#include <atomic>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "asr/logit_filters.h"
#include "asr/whisper_tokens.h"
#include "base/status.h"
#include "model/speech_model.h"
#include "tokenizer/tokenizer.h"

namespace ag::asr {

struct WindowOptions {
    std::vector<float> temperatures{0.0f};
    int best_of = 5;                     // samples per temperature > 0
    float compression_ratio_threshold = 2.4f;  // <= 0: off
    float logprob_threshold = -1.0f;           // NaN: off
    float no_speech_threshold = 0.6f;          // NaN: off
    bool timestamps = false;
    std::vector<int32_t> suppress;       // every step
    std::vector<int32_t> suppress_begin; // first step only (suppress_blank)
    TimestampRules rules;                // used when timestamps
    int64_t max_length = 448;            // prompt + generated tokens (CTranslate2 max_length)
    const std::atomic<bool>* cancel = nullptr;  // true: stop at the next token with an error
};

struct WindowResult {
    std::vector<int32_t> tokens;   // generated, <|endoftext|> excluded
    float avg_logprob = 0;         // sum of logprobs (EOT included) / (n + 1); NaN when n = 0
    float temperature = 0;
    float compression_ratio = 0;
    float no_speech_prob = 0;      // softmax at the <|startoftranscript|> position
    int64_t decoded_tokens = 0;    // decoder steps over all attempts (timing)
};

// Decodes `prompt` (build_prompt) against one encoder output. `rng` drives sampling.
Result<WindowResult> decode_window(const model::SpeechModel& model, const tok::Tokenizer& tk,
                                   const WhisperTokens& t, std::span<const float> encoder_out,
                                   std::span<const int32_t> prompt, const WindowOptions& opt,
                                   std::mt19937_64& rng);

// CTranslate2's decoding length for a prompt: min(max_length / 2, max_length - (prompt - 1)).
int64_t max_decode_steps(int64_t max_length, int64_t prompt_length);

}  // namespace ag::asr
