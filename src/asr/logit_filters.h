// The logit processing of one Whisper decoding step, as CTranslate2's Whisper generate applies
// it for faster-whisper (SuppressTokens, SuppressTokensBegin, ApplyTimestampRules), plus the
// language-detection read-out. Disabled logits become -inf. Pure functions over spans.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ag::asr {

// logits[id] = -inf for each id in range (ids outside [0, logits.size()) are ignored).
void suppress_tokens(std::span<float> logits, std::span<const int32_t> ids);

struct TimestampRules {
    int32_t eot = -1;
    int32_t no_timestamps = -1;
    int32_t timestamp_begin = -1;  // first timestamp token (<|0.00|>)
    int32_t timestamp_end = -1;    // last timestamp token (inclusive)
    // Largest timestamp allowed as the first token: timestamp_begin +
    // round(max_initial_timestamp / 0.02) (faster-whisper: 1.0 s -> index 50).
    int32_t max_initial_timestamp_id = -1;
};

// Timestamp rules for the next token given the tokens sampled so far in this window
// (`sampled`, the prompt excluded):
//  - <|notimestamps|> is never sampled;
//  - first token: a timestamp no later than max_initial_timestamp_id;
//  - timestamps come in pairs: after two timestamps, text (or EOT); after one timestamp that
//    follows text, a timestamp or EOT;
//  - timestamps never decrease (ids below the last sampled timestamp are disabled);
//  - if the total probability of the timestamps exceeds every single text token's, text is
//    disabled (log-softmax over the logits after the rules above).
void apply_timestamp_rules(std::span<float> logits, std::span<const int32_t> sampled,
                           const TimestampRules& rules);

// In-place log-softmax (float accumulation of the max, double of the sum).
void log_softmax(std::span<float> x);

// Language detection read-out: softmax over the logits of `lang_ids` only (the decoder's
// logits after <|startoftranscript|>); probabilities parallel to lang_ids and the best index
// (first on ties).
struct LanguageProbs {
    std::vector<float> probs;
    size_t best = 0;
};
LanguageProbs language_probs(std::span<const float> logits, std::span<const int32_t> lang_ids);

}  // namespace ag::asr
