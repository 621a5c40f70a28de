// Resolving a request's sampling parameters against generation_config.json and the OpenAI/vLLM
// defaults, with vLLM's validation (docs/sampling.md).
#pragma once

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "ag/types.h"
#include "base/status.h"

namespace ag::runtime {

/// Every field concrete: defaults applied, validated, normalised (top_k -1 -> 0; greedy requests
/// have top_p 1, top_k 0, min_p 0, as vLLM sets them).
struct ResolvedSampling {
    float temperature = 1.0f;        // 0: greedy; otherwise >= 0.01 (vLLM clamps (0, 0.01))
    float top_p = 1.0f;              // (0, 1]
    int32_t top_k = 0;               // 0: off
    float min_p = 0.0f;              // [0, 1]; 0: off
    float frequency_penalty = 0.0f;  // [-2, 2]
    float presence_penalty = 0.0f;   // [-2, 2]
    float repetition_penalty = 1.0f; // > 0; 1: off
    uint64_t seed = 0;               // drawn from std::random_device when the request has none
    int32_t max_tokens = 256;        // >= 1
};

/// The sampling defaults vLLM (`--generation-config auto`, ModelConfig.get_diff_sampling_param)
/// takes from a checkpoint's generation_config.json. Absent, null or non-numeric keys stay unset.
struct GenerationDefaults {
    std::optional<float> temperature;
    std::optional<float> top_p;
    std::optional<int32_t> top_k;  // a value of 50 (transformers 4.x's default) is dropped
    std::optional<float> min_p;
    std::optional<float> repetition_penalty;
    std::optional<int32_t> max_tokens;  // from max_new_tokens
};

/// Reads the keys vLLM takes from generation_config.json: temperature, top_p, top_k, min_p,
/// repetition_penalty and max_new_tokens (as max_tokens). `generation_config` may be null or not
/// an object (then everything is unset).
GenerationDefaults read_generation_defaults(const nlohmann::json& generation_config);

/// Request value > generation_config.json default > OpenAI/vLLM default (temperature 1, top_p 1,
/// top_k off, min_p 0, repetition_penalty 1), then vLLM's range checks. An error is
/// kInvalidArgument with a message naming the parameter and its allowed range, e.g.
/// "top_p must be in (0, 1], got 1.5.". NaN is rejected everywhere.
///
/// max_tokens: SamplingParams.max_tokens is always set, so it is taken as is. vLLM uses
/// generation_config's max_new_tokens only when the request has no max_tokens
/// (min(max_model_len - prompt_len, request max_tokens or max_new_tokens)); the caller that fills
/// SamplingParams.max_tokens applies that with read_generation_defaults(...).max_tokens.
Result<ResolvedSampling> resolve_sampling(const SamplingParams& req,
                                          const nlohmann::json& generation_config);

}  // namespace ag::runtime
