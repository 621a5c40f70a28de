// Resolving a request's sampling parameters against generation_config.json and defaults.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "ag/types.h"
#include "base/status.h"

namespace ag::runtime {

// Every field concrete (defaults and generation_config.json applied).
struct ResolvedSampling {
    float temperature = 1.0f;
    float top_p = 1.0f;
    int32_t top_k = 0;             // 0: off
    float min_p = 0.0f;
    float frequency_penalty = 0.0f;
    float presence_penalty = 0.0f;
    float repetition_penalty = 1.0f;
    uint64_t seed = 0;
    int32_t max_tokens = 256;
};

// Request value > generation_config.json (temperature, top_p, top_k, min_p, repetition_penalty;
// max_new_tokens for an unset max_tokens is NOT applied here: SamplingParams.max_tokens is always
// set by the caller) > OpenAI/vLLM default. Validates ranges with vLLM-like messages.
Result<ResolvedSampling> resolve_sampling(const SamplingParams& req,
                                          const nlohmann::json& generation_config);

}  // namespace ag::runtime
