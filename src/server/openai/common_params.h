// Request fields shared by /v1/chat/completions and /v1/completions: sampling (vLLM
// semantics, passed through to ag::SamplingParams), limits, stop conditions, streaming.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ag/types.h"
#include "server/openai/api_error.h"
#include "server/openai/request_fields.h"

namespace ag::server::openai {

struct CommonParams {
    std::optional<std::string> model;
    SamplingParams sampling;               ///< max_tokens is set by fit_max_tokens
    std::optional<int64_t> max_tokens;     ///< max_completion_tokens, else max_tokens
    int32_t n = 1;
    bool stream = false;
    bool include_usage = false;            ///< stream_options.include_usage
    std::vector<std::string> stop;         ///< never emitted; finish_reason "stop"
    bool skip_special_tokens = true;
    std::optional<bool> include_reasoning; ///< include_reasoning, alias return_reasoning
};

inline constexpr int32_t kMaxN = 128;
inline constexpr int32_t kMaxLogprobs = 20;

/// The keys read_common() understands (for unknown-field logging).
const std::set<std::string>& common_keys();

/// Reads and range-checks the shared fields; errors land in `f`.
void read_common(RequestFields& f, int32_t vocab_size, CommonParams& out);

/// vLLM's length rule: prompt + max_tokens must fit max_model_len; an absent max_tokens
/// becomes max_model_len − prompt. Returns the 400 with vLLM's wording otherwise.
std::optional<ApiError> fit_max_tokens(int64_t n_prompt, int64_t max_model_len,
                                       std::optional<int64_t> requested, int32_t& out);

}  // namespace ag::server::openai
