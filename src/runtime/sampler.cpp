#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace ag::runtime {

namespace {

constexpr float kSamplingEps = 1e-5f;  // vLLM: temperature below this is greedy
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Lowest id among the maxima.
int32_t argmax(std::span<const float> v) {
    size_t best = 0;
    for (size_t i = 1; i < v.size(); ++i) {
        if (v[i] > v[best]) best = i;
    }
    return static_cast<int32_t>(best);
}

}  // namespace

Sampler::Sampler(const ResolvedSampling& params) : p_(params), rng_(params.seed) {}

void Sampler::apply_penalties(std::span<float> logits, std::span<const int32_t> prompt_ids,
                              std::span<const int32_t> output_ids) {
    const auto V = static_cast<int32_t>(logits.size());
    const bool rep = p_.repetition_penalty != 1.0f;
    const bool freq = p_.frequency_penalty != 0.0f || p_.presence_penalty != 0.0f;
    if (!rep && !freq) return;
    if (rep) {
        // Multiplicative, over prompt ∪ output: positive logits are divided, others multiplied.
        seen_.assign(static_cast<size_t>(V), 0);
        for (int32_t id : prompt_ids) if (id >= 0 && id < V) seen_[static_cast<size_t>(id)] = 1;
        for (int32_t id : output_ids) if (id >= 0 && id < V) seen_[static_cast<size_t>(id)] = 1;
        for (int32_t id = 0; id < V; ++id) {
            if (!seen_[static_cast<size_t>(id)]) continue;
            float& l = logits[static_cast<size_t>(id)];
            l = l > 0.0f ? l / p_.repetition_penalty : l * p_.repetition_penalty;
        }
    }
    if (freq) {
        // OpenAI definition over generated tokens only: l -= f·count + p·[count > 0].
        counts_.assign(static_cast<size_t>(V), 0);
        for (int32_t id : output_ids) if (id >= 0 && id < V) ++counts_[static_cast<size_t>(id)];
        for (int32_t id : output_ids) {
            if (id < 0 || id >= V) continue;
            int32_t& c = counts_[static_cast<size_t>(id)];
            if (c == 0) continue;  // already applied for this id
            logits[static_cast<size_t>(id)] -=
                p_.frequency_penalty * static_cast<float>(c) + p_.presence_penalty;
            c = 0;
        }
    }
}

int32_t Sampler::draw(std::span<float> logits) {
    if (p_.temperature < kSamplingEps) return argmax(logits);
    const float inv_t = 1.0f / p_.temperature;
    for (float& l : logits) l *= inv_t;
    const float mx = *std::max_element(logits.begin(), logits.end());
    // min-p (vLLM applies it before top-k/top-p): drop p < min_p · p_max, i.e.
    // logit < max + log(min_p).
    if (p_.min_p > 0.0f) {
        const float cut = mx + std::log(p_.min_p);
        for (float& l : logits) if (l < cut) l = kNegInf;
    }
    // Candidates sorted by logit (descending; ties by id), truncated by top-k.
    idx_.resize(logits.size());
    std::iota(idx_.begin(), idx_.end(), 0);
    auto by_logit = [&](int32_t a, int32_t b) {
        const float la = logits[static_cast<size_t>(a)], lb = logits[static_cast<size_t>(b)];
        return la > lb || (la == lb && a < b);
    };
    size_t n = idx_.size();
    if (p_.top_k > 0 && static_cast<size_t>(p_.top_k) < n) {
        std::nth_element(idx_.begin(), idx_.begin() + p_.top_k - 1, idx_.end(), by_logit);
        n = static_cast<size_t>(p_.top_k);
    }
    const bool need_sort = p_.top_p < 1.0f;
    if (need_sort) std::sort(idx_.begin(), idx_.begin() + static_cast<std::ptrdiff_t>(n), by_logit);
    // Probabilities over the kept candidates.
    std::vector<double> prob(n);
    double z = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const float l = logits[static_cast<size_t>(idx_[i])];
        prob[i] = l == kNegInf ? 0.0 : std::exp(static_cast<double>(l - mx));
        z += prob[i];
    }
    if (need_sort) {
        // top-p: keep the smallest prefix whose mass reaches top_p (at least one token).
        double cum = 0.0;
        size_t keep = 0;
        while (keep < n) {
            cum += prob[keep] / z;
            ++keep;
            if (cum >= static_cast<double>(p_.top_p)) break;
        }
        n = keep;
        z = 0.0;
        for (size_t i = 0; i < n; ++i) z += prob[i];
    }
    std::uniform_real_distribution<double> u(0.0, z);
    const double r = u(rng_);
    double acc = 0.0;
    for (size_t i = 0; i < n; ++i) {
        acc += prob[i];
        if (r < acc && prob[i] > 0.0) return idx_[i];
    }
    for (size_t i = n; i-- > 0;) if (prob[i] > 0.0) return idx_[i];
    return idx_[0];
}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> prompt_ids,
                        std::span<const int32_t> output_ids) {
    apply_penalties(logits, prompt_ids, output_ids);
    return draw(logits);
}

SampleResult Sampler::sample_with_logprobs(std::span<float> logits,
                                           std::span<const int32_t> prompt_ids,
                                           std::span<const int32_t> output_ids, int n_top) {
    SampleResult res;
    // Raw log-softmax before any processing (vLLM's default logprobs mode).
    std::vector<float> raw;
    float lse = 0.0f;
    if (n_top >= 0) {
        raw.assign(logits.begin(), logits.end());
        const float mx = *std::max_element(raw.begin(), raw.end());
        double s = 0.0;
        for (float l : raw) s += std::exp(static_cast<double>(l - mx));
        lse = mx + static_cast<float>(std::log(s));
    }
    res.token = sample(logits, prompt_ids, output_ids);
    if (n_top >= 0) {
        res.logprob = raw[static_cast<size_t>(res.token)] - lse;
        std::vector<int32_t> ids(raw.size());
        std::iota(ids.begin(), ids.end(), 0);
        const size_t k = std::min(ids.size(), static_cast<size_t>(n_top));
        std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(),
                          [&](int32_t a, int32_t b) {
                              return raw[static_cast<size_t>(a)] > raw[static_cast<size_t>(b)] ||
                                     (raw[static_cast<size_t>(a)] == raw[static_cast<size_t>(b)] && a < b);
                          });
        for (size_t i = 0; i < k; ++i) res.top.emplace_back(ids[i], raw[static_cast<size_t>(ids[i])] - lse);
    }
    return res;
}

}  // namespace ag::runtime
