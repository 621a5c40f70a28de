#include "runtime/sampler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace ag::runtime {

namespace {

constexpr float kSamplingEps = 1e-5f;  // vLLM _SAMPLING_EPS: temperature below this is greedy
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr size_t kTopPSortBelow = 256;  // top-p: below this many candidates, just sort
constexpr size_t kTopPBins = 4096;      // top-p: logit histogram resolution
constexpr size_t kBlock = 1024;         // draw_dense: ids per block sum

// Largest value (NaN ignored unless v[0] is NaN), 8 lanes so that it vectorises.
float max8(std::span<const float> v) {
    float lane[8];
    for (float& x : lane) x = v[0];
    size_t i = 0;
    for (; i + 8 <= v.size(); i += 8) {
        for (size_t j = 0; j < 8; ++j) lane[j] = v[i + j] > lane[j] ? v[i + j] : lane[j];
    }
    float m = v[0];
    for (; i < v.size(); ++i) m = v[i] > m ? v[i] : m;
    for (float x : lane) m = x > m ? x : m;
    return m;
}

// Lowest id among the maxima (torch.argmax returns the first maximal index).
int32_t argmax(std::span<const float> v) {
    const float m = max8(v);
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == m) return static_cast<int32_t>(i);
    }
    return 0;  // all NaN
}

size_t uz(int32_t id) { return static_cast<size_t>(id); }

// Most likely first; equal logits by id, so every ordering is total and deterministic.
template <class C>
bool more_likely(const C& a, const C& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// exp(x) for x = logit - max <= 0, written so that loops over it vectorise (Cephes expf
// polynomial, about 1 ulp); 0 below -87 (float32 softmax underflows there too) and for -inf.
inline float exp_nonpos(float x) {
    const float xc = std::max(x, -88.0f);
    const float kRound = 12582912.0f;  // 1.5 · 2^23: adding it rounds to the nearest integer
    const float n = (xc * 1.44269504088896341f + kRound) - kRound;
    const float r = xc - n * 0.693359375f + n * 2.12194440e-4f;  // xc - n·ln2, split
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * r * r + r + 1.0f;
    const auto bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;  // 2^n
    const float v = y * std::bit_cast<float>(bits);
    return x < -87.0f ? 0.0f : v;
}

// Sum of w[0, n) with 8 independent accumulators (vectorises, and is not latency-bound).
double sum8(const float* w, size_t n) {
    double acc[8] = {};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (size_t j = 0; j < 8; ++j) acc[j] += w[i + j];
    }
    double s = 0.0;
    for (; i < n; ++i) s += w[i];
    for (double a : acc) s += a;
    return s;
}

}  // namespace

Sampler::Sampler(const ResolvedSampling& params) : p_(params), rng_(params.seed) {}

// vLLM apply_penalties: repetition (multiplicative, prompt ∪ output), then frequency and
// presence (OpenAI definition, output only). Each id is penalised once however often it occurs.
void Sampler::apply_penalties(std::span<float> logits, std::span<const int32_t> prompt_ids,
                              std::span<const int32_t> output_ids) {
    const size_t n_vocab = logits.size();
    auto in_vocab = [n_vocab](int32_t id) { return id >= 0 && uz(id) < n_vocab; };
    if (p_.repetition_penalty != 1.0f) {
        mark_.resize(n_vocab, 0);
        const float r = p_.repetition_penalty;
        auto penalise = [&](int32_t id) {
            if (!in_vocab(id) || mark_[uz(id)] != 0) return;
            mark_[uz(id)] = 1;
            float& l = logits[uz(id)];
            l = l > 0.0f ? l / r : l * r;
        };
        for (int32_t id : prompt_ids) penalise(id);
        for (int32_t id : output_ids) penalise(id);
        for (int32_t id : prompt_ids) if (in_vocab(id)) mark_[uz(id)] = 0;
        for (int32_t id : output_ids) if (in_vocab(id)) mark_[uz(id)] = 0;
    }
    if (p_.frequency_penalty != 0.0f || p_.presence_penalty != 0.0f) {
        counts_.resize(n_vocab, 0);
        for (int32_t id : output_ids) if (in_vocab(id)) ++counts_[uz(id)];
        for (int32_t id : output_ids) {
            if (!in_vocab(id) || counts_[uz(id)] == 0) continue;
            float& l = logits[uz(id)];
            l -= p_.frequency_penalty * static_cast<float>(counts_[uz(id)]);
            l -= p_.presence_penalty;
            counts_[uz(id)] = 0;  // done for this id; also restores the all-zero invariant
        }
    }
}

double Sampler::next_uniform() {
    // 53 random bits -> [0, 1); the same on every standard library, unlike
    // std::uniform_real_distribution.
    return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

// vLLM sampler order: temperature, min-p, then top-k and top-p, then the draw.
int32_t Sampler::draw(std::span<float> logits) {
    if (p_.temperature < kSamplingEps) return argmax(logits);
    for (float& l : logits) l /= p_.temperature;
    const float max_logit = max8(logits);
    if (!std::isfinite(max_logit)) return argmax(logits);  // nothing finite to sample from
    if (p_.min_p > 0.0f) {
        // p_i < min_p · p_max  ⇔  logit_i < max + log(min_p); the maximum always survives.
        const float cut = max_logit + std::log(p_.min_p);
        for (float& l : logits) {
            if (l < cut) l = kNegInf;
        }
    }
    const bool use_top_k = p_.top_k > 0 && uz(p_.top_k) < logits.size();
    const bool use_top_p = p_.top_p < 1.0f;
    if (!use_top_k && !use_top_p) return draw_dense(logits, max_logit);
    size_t n = use_top_k ? gather_top_k(logits) : gather_finite(logits);
    for (size_t i = 0; i < n; ++i) cand_[i].weight = exp_nonpos(cand_[i].logit - max_logit);
    if (use_top_p) n = apply_top_p(n);
    return draw_candidates(n);
}

// Inverse-CDF draw over the whole vocabulary, O(V): weights, per-block sums, then a walk over
// the blocks and inside the one block that holds the draw.
int32_t Sampler::draw_dense(std::span<const float> logits, float max_logit) {
    const size_t n = logits.size();
    weight_.resize(n);
    for (size_t i = 0; i < n; ++i) weight_[i] = exp_nonpos(logits[i] - max_logit);
    block_sum_.resize((n + kBlock - 1) / kBlock);
    double z = 0.0;
    for (size_t b = 0; b < block_sum_.size(); ++b) {
        block_sum_[b] = sum8(weight_.data() + b * kBlock, std::min(kBlock, n - b * kBlock));
        z += block_sum_[b];
    }
    const double r = next_uniform() * z;
    double acc = 0.0;
    size_t b = 0;
    while (b + 1 < block_sum_.size() && r >= acc + block_sum_[b]) acc += block_sum_[b++];
    const size_t end = std::min(n, (b + 1) * kBlock);
    size_t last = n;  // last id of the block with a non-zero weight
    for (size_t i = b * kBlock; i < end; ++i) {
        if (weight_[i] <= 0.0f) continue;
        acc += weight_[i];
        last = i;
        if (r < acc) return static_cast<int32_t>(i);
    }
    // Only reached when rounding put r at the very end of the block (or beyond the mass).
    return last < n ? static_cast<int32_t>(last) : argmax(logits);
}

// cand_[0, n) = every id whose logit is >= the k-th largest (vLLM masks only logits below
// the k-th largest value, so ties with it stay). O(V): a size-k heap that almost every logit
// fails to enter with a single comparison, then one collecting pass.
size_t Sampler::gather_top_k(std::span<const float> logits) {
    const size_t k = uz(p_.top_k);
    heap_.clear();
    for (size_t i = 0; i < k; ++i) heap_.push_back(logits[i]);
    auto greater = [](float a, float b) { return a > b; };  // min-heap: front = k-th largest
    std::make_heap(heap_.begin(), heap_.end(), greater);
    for (size_t i = k; i < logits.size(); ++i) {
        if (!(logits[i] > heap_.front())) continue;
        std::pop_heap(heap_.begin(), heap_.end(), greater);
        heap_.back() = logits[i];
        std::push_heap(heap_.begin(), heap_.end(), greater);
    }
    const float kth = heap_.front();
    cand_.clear();
    for (size_t i = 0; i < logits.size(); ++i) {
        // At -inf, keep only finite logits: the others have zero probability anyway.
        if (logits[i] >= kth && logits[i] > kNegInf) {
            cand_.push_back({logits[i], 0.0f, static_cast<int32_t>(i)});
        }
    }
    return cand_.size();
}

// cand_[0, n) = every id with a finite logit (those min-p left).
size_t Sampler::gather_finite(std::span<const float> logits) {
    cand_.clear();
    for (size_t i = 0; i < logits.size(); ++i) {
        if (logits[i] > kNegInf) cand_.push_back({logits[i], 0.0f, static_cast<int32_t>(i)});
    }
    return cand_.size();
}

// Keeps the shortest most-likely-first prefix of cand_[0, n) whose mass reaches top_p: a token
// stays iff the mass of the tokens ranked before it is < top_p (vLLM masks a token when the
// ascending cumulative sum up to it is <= 1 - top_p; the most likely token always stays).
// Returns the number kept, moved to the front of cand_. No full sort: a histogram of the
// logits finds the bin where the mass crosses top_p; bins above it are kept whole, bins below
// dropped whole, and only the crossing bin is sorted. O(n).
size_t Sampler::apply_top_p(size_t n) {
    auto at = [this](size_t i) { return cand_.begin() + static_cast<std::ptrdiff_t>(i); };
    float hi = kNegInf;
    float lo = -kNegInf;
    for (size_t i = 0; i < n; ++i) {
        hi = std::max(hi, cand_[i].logit);
        lo = std::min(lo, cand_[i].logit);
    }
    size_t first = 0;       // cand_[0, first): kept for sure (mass `before` < target)
    size_t last = n;        // cand_[first, last): to sort and scan
    double before = 0.0;
    double target = 0.0;
    if (n <= kTopPSortBelow || !(hi > lo)) {
        for (size_t i = 0; i < n; ++i) target += cand_[i].weight;
        target *= static_cast<double>(p_.top_p);
    } else {
        const float scale = static_cast<float>(kTopPBins) / (hi - lo);
        auto bin_of = [&](float l) {
            return std::min(kTopPBins - 1, static_cast<size_t>((hi - l) * scale));
        };
        bin_mass_.assign(kTopPBins, 0.0);
        for (size_t i = 0; i < n; ++i) bin_mass_[bin_of(cand_[i].logit)] += cand_[i].weight;
        double z = 0.0;
        for (double m : bin_mass_) z += m;
        target = static_cast<double>(p_.top_p) * z;
        size_t cross = 0;  // first bin whose end reaches the target
        while (cross + 1 < kTopPBins && before + bin_mass_[cross] < target) {
            before += bin_mass_[cross++];
        }
        auto mid = std::partition(at(0), at(n), [&](const Candidate& c) {
            return bin_of(c.logit) < cross;
        });
        first = static_cast<size_t>(mid - at(0));
        auto end = std::partition(mid, at(n), [&](const Candidate& c) {
            return bin_of(c.logit) == cross;
        });
        last = static_cast<size_t>(end - at(0));
    }
    std::sort(at(first), at(last), more_likely<Candidate>);
    size_t keep = first;
    double cum = before;
    while (keep < last && (keep == 0 || cum < target)) cum += cand_[keep++].weight;
    return keep;
}

// Inverse-CDF draw over cand_[0, n).
int32_t Sampler::draw_candidates(size_t n) {
    double z = 0.0;
    for (size_t i = 0; i < n; ++i) z += cand_[i].weight;
    const double r = next_uniform() * z;
    double acc = 0.0;
    for (size_t i = 0; i < n; ++i) {
        acc += cand_[i].weight;
        if (r < acc) return cand_[i].id;
    }
    for (size_t i = n; i-- > 0;) {  // r rounded up to z: last possible token
        if (cand_[i].weight > 0.0f) return cand_[i].id;
    }
    return cand_[0].id;
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
    if (n_top < 0) {
        res.token = sample(logits, prompt_ids, output_ids);
        return res;
    }
    // Raw log-softmax, before any processing (vLLM logprobs_mode=raw_logprobs, the default).
    raw_.assign(logits.begin(), logits.end());
    const float max_logit = max8(raw_);
    double s = 0.0;
    for (float l : raw_) s += std::exp(l - max_logit);
    const float lse = max_logit + static_cast<float>(std::log(s));

    res.token = sample(logits, prompt_ids, output_ids);
    res.logprob = raw_[uz(res.token)] - lse;

    const size_t k = std::min(raw_.size(), static_cast<size_t>(n_top));
    cand_.resize(raw_.size());
    for (size_t i = 0; i < raw_.size(); ++i) cand_[i] = {raw_[i], 0.0f, static_cast<int32_t>(i)};
    std::partial_sort(cand_.begin(), cand_.begin() + static_cast<std::ptrdiff_t>(k), cand_.end(),
                      more_likely<Candidate>);
    res.top_logprobs.reserve(k);
    for (size_t i = 0; i < k; ++i) res.top_logprobs.emplace_back(cand_[i].id, cand_[i].logit - lse);
    return res;
}

}  // namespace ag::runtime
