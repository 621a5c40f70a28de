// Whisper's special tokens, resolved by name from the tokenizer, and the prompt (SOT sequence)
// built from them, as openai-whisper's / faster-whisper's Tokenizer do.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "tokenizer/tokenizer.h"

namespace ag::asr {

struct WhisperTokens {
    int32_t sot = -1;            // <|startoftranscript|>
    int32_t eot = -1;            // <|endoftext|>
    int32_t transcribe = -1;     // <|transcribe|>
    int32_t translate = -1;      // <|translate|>
    int32_t no_timestamps = -1;  // <|notimestamps|>
    int32_t sot_prev = -1;       // <|startofprev|>
    int32_t sot_lm = -1;         // <|startoflm|> (-1 when absent)
    int32_t no_speech = -1;      // <|nospeech|> or <|nocaptions|> (-1 when absent)
    // Timestamp tokens <|0.00|>, <|0.02|>, ...: no_timestamps + 1 up to the model's last id
    // (faster-whisper's rule; tokenizer.json often does not list them).
    int32_t timestamp_begin = -1, timestamp_end = -1;
    std::vector<int32_t> lang_ids;        // language tokens, in id order (or config lang_ids)
    std::vector<std::string> lang_codes;  // "en", "zh", ... parallel to lang_ids

    bool multilingual() const { return !lang_ids.empty(); }
    // The token of an ISO code ("en"), or -1.
    int32_t language_id(std::string_view code) const;
    // The code of a language token, or "".
    std::string language_code(int32_t id) const;
};

// Resolves the special tokens. `model_vocab` is the model's vocab size (logit count);
// `lang_ids` (optional: CTranslate2 config.json's "lang_ids"; empty = not given) fixes the
// language tokens, else they are the added tokens "<|xx|>" between <|startoftranscript|> and
// <|translate|>.
// A vocab of exactly 51864 is English-only (openai's .en models), so it gets no languages.
// Errors: kNotFound naming a missing required token.
Result<WhisperTokens> resolve_whisper_tokens(const tok::Tokenizer& tk, int64_t model_vocab,
                                             const nlohmann::json& lang_ids = {});

// openai-whisper's Tokenizer.non_speech_tokens: symbols and speaker-tag punctuation that never
// start a spoken word (the fallback for checkpoints without a suppress list).
std::vector<int32_t> non_speech_tokens(const tok::Tokenizer& tk);

// faster-whisper's get_prompt:
//   [<|startofprev|>, previous[-(max_length/2 - 1):]...]   (only when previous is non-empty)
//   <|startoftranscript|> [language] [task] [<|notimestamps|> when !timestamps]
// `language` / `task` -1: left out (English-only models).
std::vector<int32_t> build_prompt(const WhisperTokens& t, std::span<const int32_t> previous,
                                  int32_t language, int32_t task, bool timestamps,
                                  int64_t max_length = 448);

}  // namespace ag::asr
