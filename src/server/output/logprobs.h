// Logprobs in OpenAI's two shapes: chat ({"content": [{token, logprob, bytes, top_logprobs}]})
// and legacy completions ({tokens, token_logprobs, top_logprobs, text_offset}). Token strings
// are the token decoded on its own (special tokens included); bytes are its raw UTF-8 bytes,
// which may be part of a multi-byte character. -inf is written as -9999.0 (as vLLM does).
#pragma once

#include <cstdint>
#include <span>

#include <nlohmann/json.hpp>

#include "ag/engine.h"
#include "tokenizer/tokenizer.h"

namespace ag::server::output {

/// Entries of `content` for these tokens (append to an existing list).
nlohmann::json chat_logprobs(const tok::Tokenizer& tok, std::span<const TokenLogprob> lps);

/// Appends these tokens to a completions logprobs object; `text_offset` is the character
/// offset of the first token's text in the choice's output and advances.
void append_completion_logprobs(const tok::Tokenizer& tok, std::span<const TokenLogprob> lps,
                                nlohmann::json& obj, int64_t& text_offset);
nlohmann::json empty_completion_logprobs();

}  // namespace ag::server::output
