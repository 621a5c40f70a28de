// Token sampling with vLLM's semantics (docs/sampling.md): penalties first (repetition over
// prompt ∪ output, frequency/presence over output only), then greedy argmax, or temperature →
// min-p → top-k → top-p → a draw from the request's seeded generator.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "runtime/sampling_defaults.h"

namespace ag::runtime {

/// One sampled token with logprobs of the *raw* model distribution (log-softmax of the logits as
/// passed in, before penalties and temperature: vLLM's default `logprobs_mode=raw_logprobs`).
struct SampleResult {
    int32_t token = 0;
    float logprob = 0.0f;                                  // of `token`
    std::vector<std::pair<int32_t, float>> top_logprobs;  // top-N (id, logprob), most likely first
};

/// Per-sequence sampler: owns the sequence's generator (std::mt19937_64 seeded with
/// ResolvedSampling::seed), so the same seed and the same logits give the same tokens. Streams
/// are not bit-identical to vLLM's torch generator. Not thread-safe; one per sequence.
/// Cost per token: O(V + |prompt| + |output|) on every path; nothing sorts the vocabulary (top-k
/// keeps a size-k heap, top-p histograms the logits and sorts only the bin where the mass
/// crosses top_p).
class Sampler {
public:
    explicit Sampler(const ResolvedSampling& params);

    /// logits: [vocab] f32, modified in place (penalised, scaled, masked). prompt_ids/output_ids:
    /// the sequence so far (ids outside [0, vocab) are ignored). Returns the chosen id.
    int32_t sample(std::span<float> logits, std::span<const int32_t> prompt_ids,
                   std::span<const int32_t> output_ids);

    /// As sample(), also reporting the chosen token's raw logprob and the n_top most likely raw
    /// logprobs (n_top >= 0; n_top < 0 computes no logprobs at all).
    SampleResult sample_with_logprobs(std::span<float> logits,
                                      std::span<const int32_t> prompt_ids,
                                      std::span<const int32_t> output_ids, int n_top);

    const ResolvedSampling& params() const { return p_; }

private:
    void apply_penalties(std::span<float> logits, std::span<const int32_t> prompt_ids,
                         std::span<const int32_t> output_ids);
    int32_t draw(std::span<float> logits);
    int32_t draw_dense(std::span<const float> logits, float max_logit);
    size_t gather_top_k(std::span<const float> logits);
    size_t gather_finite(std::span<const float> logits);
    size_t apply_top_p(size_t n);
    int32_t draw_candidates(size_t n);
    double next_uniform();

    struct Candidate {
        float logit;
        float weight;  // exp(logit - max logit)
        int32_t id;
    };

    ResolvedSampling p_;
    std::mt19937_64 rng_;
    std::vector<uint8_t> mark_;    // [vocab] scratch, all zero between calls
    std::vector<int32_t> counts_;  // [vocab] scratch, all zero between calls
    std::vector<Candidate> cand_;  // candidates of the filtered paths
    std::vector<float> weight_;    // [vocab] exp(logit - max), draw_dense
    std::vector<double> block_sum_;  // draw_dense: weight sums per block of ids
    std::vector<float> heap_;        // top-k: the k largest logits so far
    std::vector<double> bin_mass_;   // top-p: mass per logit histogram bin
    std::vector<float> raw_;       // [vocab] raw logits, for logprobs
};

}  // namespace ag::runtime
