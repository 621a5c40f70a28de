// Single-sequence generation: prefill the prompt, then sample one token per forward step until
// an eos/stop id, max_tokens, or the callback asks to stop. Linear in the output length: each
// step feeds one token against the KV cache.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "base/status.h"
#include "model/model.h"
#include "runtime/sampler.h"

namespace ag::runtime {

enum class FinishReason { kStop, kLength, kAborted };

struct GenerateResult {
    std::vector<int32_t> ids;        // generated ids, the stop id excluded
    FinishReason finish = FinishReason::kLength;
    std::optional<int32_t> stop_id;  // the eos/stop id that ended generation
    double prefill_seconds = 0.0;
    double decode_seconds = 0.0;
};

struct GenerateOptions {
    ResolvedSampling sampling;
    std::vector<int32_t> stop_ids;   // eos set ∪ request stop_token_ids (ignored if ignore_eos)
    bool ignore_eos = false;
    KvDType kv_dtype = KvDType::kF32;  // the cache's storage format (--kv-cache-dtype)
    // Multimodal prompts (VisionModel::rope_index + encode_image): [3, n_prompt] positions (empty:
    // text positions), the decoding rope delta, image embeddings and the row of each prompt token.
    std::vector<int32_t> positions;
    int64_t rope_delta = 0;
    std::vector<float> embeds;
    std::vector<int32_t> embed_rows;
};

// Called with each generated token (not the stop id); return false to abort.
using TokenCallback = std::function<bool(int32_t)>;

Result<GenerateResult> generate(const model::Model& model, std::span<const int32_t> prompt,
                                const GenerateOptions& opts, const TokenCallback& on_token = {});

}  // namespace ag::runtime
