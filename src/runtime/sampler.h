// Token sampling with vLLM's semantics (docs/sampling.md): penalties first (repetition over
// prompt ∪ output, frequency/presence over output only), then greedy, or temperature → min-p →
// top-k → top-p → a draw from the request's seeded generator.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "runtime/sampling_defaults.h"

namespace ag::runtime {

struct SampleResult {
    int32_t token = 0;
    float logprob = 0.0f;                             // of the raw model distribution
    std::vector<std::pair<int32_t, float>> top;       // top-N raw logprobs, most likely first
};

class Sampler {
public:
    explicit Sampler(const ResolvedSampling& params);

    // logits: [vocab], modified in place. prompt/output: token ids so far.
    int32_t sample(std::span<float> logits, std::span<const int32_t> prompt_ids,
                   std::span<const int32_t> output_ids);
    // As sample(), also reporting logprobs of the raw (unprocessed) logits, as vLLM does by
    // default; n_top < 0 computes nothing extra.
    SampleResult sample_with_logprobs(std::span<float> logits, std::span<const int32_t> prompt_ids,
                                      std::span<const int32_t> output_ids, int n_top);

    const ResolvedSampling& params() const { return p_; }

private:
    void apply_penalties(std::span<float> logits, std::span<const int32_t> prompt_ids,
                         std::span<const int32_t> output_ids);
    int32_t draw(std::span<float> logits);

    ResolvedSampling p_;
    std::mt19937_64 rng_;
    std::vector<int32_t> counts_;    // scratch: occurrences per id in output
    std::vector<uint8_t> seen_;      // scratch: id in prompt ∪ output
    std::vector<int32_t> idx_;       // scratch: candidate ids
};

}  // namespace ag::runtime
