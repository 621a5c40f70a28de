/// Public native types shared by the engine, the CLI and (later) the server.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace ag {

/// Sampling parameters with vLLM's semantics (see docs/sampling.md):
///  - frequency/presence penalties count *generated* tokens only (OpenAI definition, no window);
///  - repetition_penalty is multiplicative over prompt ∪ generated tokens;
///  - penalties are applied first, then greedy (temperature == 0) or temperature, top-k, top-p,
///    min-p and a draw from the seeded generator.
/// An unset optional means "take the checkpoint's generation_config.json default, else the
/// OpenAI/vLLM default" (runtime::resolve_sampling).
struct SamplingParams {
    std::optional<float> temperature;         // 0 = greedy; default 1.0
    std::optional<float> top_p;               // (0, 1]; default 1.0
    std::optional<int32_t> top_k;             // -1 or 0 = off; default off
    std::optional<float> min_p;               // [0, 1]; default 0
    float frequency_penalty = 0.0f;           // [-2, 2]
    float presence_penalty = 0.0f;            // [-2, 2]
    std::optional<float> repetition_penalty;  // > 0; default 1.0
    std::optional<uint64_t> seed;             // unset: random per request
    int32_t max_tokens = 256;
    bool ignore_eos = false;
    std::vector<int32_t> stop_token_ids;      // in addition to the checkpoint's eos set
};

}  // namespace ag
