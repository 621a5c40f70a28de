// Sampler and resolve_sampling: hand-computed penalty values, filter masks checked through
// empirical frequencies (fixed seeds, so deterministic), seeding, logprobs, defaults and
// validation. Semantics: docs/sampling.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "runtime/sampler.h"
#include "runtime/sampling_defaults.h"

namespace ag::runtime {
namespace {

using Ids = std::vector<int32_t>;

ResolvedSampling greedy() {
    ResolvedSampling p;
    p.temperature = 0.0f;
    p.seed = 1;
    return p;
}

ResolvedSampling random_sampling(uint64_t seed = 1234) {
    ResolvedSampling p;
    p.temperature = 1.0f;
    p.seed = seed;
    return p;
}

std::vector<float> log_probs(const std::vector<double>& probs) {
    std::vector<float> l;
    for (double p : probs) {
        l.push_back(p > 0.0 ? static_cast<float>(std::log(p))
                            : -std::numeric_limits<float>::infinity());
    }
    return l;
}

// Empirical token frequencies over n draws with the given sampler (fresh logits each draw).
std::vector<double> frequencies(Sampler& s, const std::vector<float>& logits, int n,
                                const Ids& prompt = {}, const Ids& output = {}) {
    std::vector<double> f(logits.size(), 0.0);
    for (int i = 0; i < n; ++i) {
        std::vector<float> l = logits;
        ++f[static_cast<size_t>(s.sample(l, prompt, output))];
    }
    for (double& x : f) x /= n;
    return f;
}

// Expected probabilities are exact; with 200k draws the standard error is <= 0.0012, so a 0.006
// tolerance is 5 sigma, and the seed is fixed, so the outcome cannot change between runs.
constexpr int kDraws = 200000;
constexpr double kTol = 0.006;

void expect_distribution(const std::vector<double>& got, const std::vector<double>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        if (want[i] == 0.0) {
            EXPECT_EQ(got[i], 0.0) << "token " << i << " must be masked";
        } else {
            EXPECT_NEAR(got[i], want[i], kTol) << "token " << i;
        }
    }
}

// ---- penalties ------------------------------------------------------------------------------

// Open-AutoGLM: greedy + frequency_penalty 0.2. Token 1 leads by 0.3 < 0.4: it survives one
// occurrence (1.3 - 0.2 = 1.1 > 1.0) and loses after two (1.3 - 0.4 = 0.9 < 1.0).
TEST(SamplerPenalties, FrequencyPenaltyFlipsGreedyAfterTwoOccurrences) {
    ResolvedSampling p = greedy();
    p.frequency_penalty = 0.2f;
    Sampler s(p);
    const std::vector<float> base = {1.0f, 1.3f, 0.0f, -1.0f};
    std::vector<float> l = base;
    EXPECT_EQ(s.sample(l, Ids{}, Ids{}), 1);
    l = base;
    EXPECT_EQ(s.sample(l, Ids{}, Ids{1}), 1);
    EXPECT_FLOAT_EQ(l[1], 1.3f - 0.2f);
    l = base;
    EXPECT_EQ(s.sample(l, Ids{}, Ids{1, 1}), 0);
    EXPECT_FLOAT_EQ(l[1], 1.3f - 0.4f);
    EXPECT_FLOAT_EQ(l[0], 1.0f);
}

TEST(SamplerPenalties, PromptTokensDoNotCountForFrequencyOrPresence) {
    ResolvedSampling p = greedy();
    p.frequency_penalty = 2.0f;
    p.presence_penalty = 2.0f;
    Sampler s(p);
    std::vector<float> l = {1.0f, 1.3f, 0.0f};
    EXPECT_EQ(s.sample(l, Ids{1, 1, 1, 1}, Ids{}), 1);
    EXPECT_EQ(l, (std::vector<float>{1.0f, 1.3f, 0.0f}));
}

TEST(SamplerPenalties, PresencePenaltyOncePerToken) {
    ResolvedSampling p = greedy();
    p.presence_penalty = 0.5f;
    Sampler s(p);
    std::vector<float> l = {1.0f, 1.3f, 0.2f};
    EXPECT_EQ(s.sample(l, Ids{}, Ids{1, 1, 1, 2}), 0);
    EXPECT_FLOAT_EQ(l[0], 1.0f);
    EXPECT_FLOAT_EQ(l[1], 1.3f - 0.5f);  // not 3 × 0.5
    EXPECT_FLOAT_EQ(l[2], 0.2f - 0.5f);
}

TEST(SamplerPenalties, FrequencyAndPresenceAdd) {
    ResolvedSampling p = greedy();
    p.frequency_penalty = 0.25f;
    p.presence_penalty = 0.5f;
    Sampler s(p);
    std::vector<float> l = {4.0f, 0.0f};
    (void)s.sample(l, Ids{0}, Ids{0, 0, 0});
    EXPECT_FLOAT_EQ(l[0], 4.0f - 3 * 0.25f - 0.5f);
    // Negative penalties reward repetition.
    ResolvedSampling q = greedy();
    q.frequency_penalty = -1.0f;
    Sampler t(q);
    l = {1.0f, 1.5f};
    EXPECT_EQ(t.sample(l, Ids{}, Ids{0}), 0);
    EXPECT_FLOAT_EQ(l[0], 2.0f);
}

TEST(SamplerPenalties, RepetitionPenaltyCountsPromptAndOutputOnce) {
    ResolvedSampling p = greedy();
    p.repetition_penalty = 2.0f;
    Sampler s(p);
    std::vector<float> l = {2.0f, -1.0f, 3.0f, 0.5f, 0.0f};
    (void)s.sample(l, Ids{0, 0, 0, 4}, Ids{1, 1});
    EXPECT_FLOAT_EQ(l[0], 1.0f);   // positive: divided, once even though it occurs 3 times
    EXPECT_FLOAT_EQ(l[1], -2.0f);  // negative: multiplied
    EXPECT_FLOAT_EQ(l[2], 3.0f);   // unseen: unchanged
    EXPECT_FLOAT_EQ(l[3], 0.5f);
    EXPECT_FLOAT_EQ(l[4], 0.0f);   // zero stays zero
}

TEST(SamplerPenalties, RepetitionPenaltyFlipsGreedyFromPromptAlone) {
    ResolvedSampling p = greedy();
    p.repetition_penalty = 1.5f;
    Sampler s(p);
    std::vector<float> l = {2.0f, 1.5f};
    EXPECT_EQ(s.sample(l, Ids{0}, Ids{}), 1);  // 2 / 1.5 = 1.33 < 1.5
    // Below 1 rewards repetition: a negative logit is multiplied by 0.5 -> moves up.
    ResolvedSampling q = greedy();
    q.repetition_penalty = 0.5f;
    Sampler t(q);
    l = {-1.0f, -0.6f};
    EXPECT_EQ(t.sample(l, Ids{0}, Ids{}), 0);
    EXPECT_FLOAT_EQ(l[0], -0.5f);
}

// vLLM order: repetition first, then frequency, then presence.
TEST(SamplerPenalties, RepetitionBeforeFrequency) {
    ResolvedSampling p = greedy();
    p.repetition_penalty = 2.0f;
    p.frequency_penalty = 0.5f;
    Sampler s(p);
    std::vector<float> l = {2.0f, 0.0f};
    (void)s.sample(l, Ids{}, Ids{0});
    EXPECT_FLOAT_EQ(l[0], 2.0f / 2.0f - 0.5f);  // not (2 - 0.5) / 2
}

TEST(SamplerPenalties, OutOfVocabIdsIgnoredAndStateResets) {
    ResolvedSampling p = greedy();
    p.repetition_penalty = 2.0f;
    p.frequency_penalty = 1.0f;
    Sampler s(p);
    std::vector<float> l = {1.0f, 2.0f};
    (void)s.sample(l, Ids{-1, 7, 1}, Ids{99, -5});
    EXPECT_FLOAT_EQ(l[0], 1.0f);
    EXPECT_FLOAT_EQ(l[1], 1.0f);
    // No state leaks into the next call.
    l = {1.0f, 2.0f};
    EXPECT_EQ(s.sample(l, Ids{}, Ids{}), 1);
    EXPECT_EQ(l, (std::vector<float>{1.0f, 2.0f}));
}

TEST(SamplerPenalties, AppliedBeforeTemperatureAndFilters) {
    // With sampling on, a token penalised to -inf-like depth is never drawn.
    ResolvedSampling p = random_sampling();
    p.frequency_penalty = 2.0f;
    p.top_k = 1;
    Sampler s(p);
    const std::vector<float> base = {1.0f, 1.5f, 0.0f};
    for (int i = 0; i < 100; ++i) {
        std::vector<float> l = base;
        EXPECT_EQ(s.sample(l, Ids{}, Ids{1}), 0);  // 1.5 - 2 < 1.0: top-1 is token 0
    }
}

// ---- greedy ---------------------------------------------------------------------------------

TEST(SamplerGreedy, TiesGoToLowestId) {
    Sampler s(greedy());
    std::vector<float> l = {1.0f, 3.0f, 3.0f, 2.0f, 3.0f};
    EXPECT_EQ(s.sample(l, Ids{}, Ids{}), 1);
}

TEST(SamplerGreedy, IndependentOfSeedAndLeavesLogitsUnscaled) {
    ResolvedSampling a = greedy();
    ResolvedSampling b = greedy();
    b.seed = 987654321;
    Sampler sa(a);
    Sampler sb(b);
    const std::vector<float> base = {0.1f, -2.0f, 0.7f, 0.69f};
    for (int i = 0; i < 10; ++i) {
        std::vector<float> la = base;
        std::vector<float> lb = base;
        EXPECT_EQ(sa.sample(la, Ids{}, Ids{}), 2);
        EXPECT_EQ(sb.sample(lb, Ids{}, Ids{}), 2);
        EXPECT_EQ(la, base);
    }
}

// ---- temperature and filters ----------------------------------------------------------------

TEST(SamplerDistribution, PlainSamplingMatchesSoftmax) {
    Sampler s(random_sampling());
    const std::vector<double> probs = {0.1, 0.2, 0.3, 0.4};
    expect_distribution(frequencies(s, log_probs(probs), kDraws), probs);
}

TEST(SamplerDistribution, TemperatureScalesLogits) {
    ResolvedSampling p = random_sampling();
    p.temperature = 2.0f;
    Sampler s(p);
    // softmax(log q / 2) ∝ sqrt(q)
    const std::vector<double> q = {0.1, 0.2, 0.3, 0.4};
    std::vector<double> want;
    double z = 0.0;
    for (double x : q) z += std::sqrt(x);
    for (double x : q) want.push_back(std::sqrt(x) / z);
    expect_distribution(frequencies(s, log_probs(q), kDraws), want);
}

TEST(SamplerDistribution, TopKRenormalises) {
    ResolvedSampling p = random_sampling();
    p.top_k = 2;
    Sampler s(p);
    expect_distribution(frequencies(s, log_probs({0.1, 0.2, 0.3, 0.4}), kDraws),
                        {0.0, 0.0, 3.0 / 7.0, 4.0 / 7.0});
}

TEST(SamplerDistribution, TopKKeepsTiesWithKth) {
    // vLLM masks only logits strictly below the k-th largest value.
    ResolvedSampling p = random_sampling();
    p.top_k = 1;
    Sampler s(p);
    const std::vector<float> l = {1.0f, 2.0f, 0.0f, 2.0f};
    expect_distribution(frequencies(s, l, kDraws), {0.0, 0.5, 0.0, 0.5});
}

TEST(SamplerDistribution, TopPKeepsSmallestPrefixReachingP) {
    const std::vector<float> l = log_probs({0.1, 0.2, 0.3, 0.4});
    ResolvedSampling p = random_sampling();
    p.top_p = 0.6f;  // 0.4 (before: 0), 0.3 (before: 0.4 < 0.6), 0.2 dropped (before: 0.7)
    Sampler s(p);
    expect_distribution(frequencies(s, l, kDraws), {0.0, 0.0, 3.0 / 7.0, 4.0 / 7.0});
    p.top_p = 0.75f;  // 0.2 stays (before: 0.7 < 0.75), 0.1 dropped (before: 0.9)
    Sampler t(p);
    expect_distribution(frequencies(t, l, kDraws), {0.0, 2.0 / 9.0, 3.0 / 9.0, 4.0 / 9.0});
    p.top_p = 0.01f;  // always at least the most likely token
    Sampler u(p);
    expect_distribution(frequencies(u, l, 1000), {0.0, 0.0, 0.0, 1.0});
}

TEST(SamplerDistribution, TopPAppliesToTopKRenormalisedMass) {
    // top_k 3 -> {0.2, 0.3, 0.4} / 0.9; top_p 0.75: 0.444 + 0.333 = 0.778 >= 0.75, so 0.2 goes.
    // (On the unrenormalised mass, 0.4 + 0.3 = 0.7 < 0.75 would have kept it.)
    ResolvedSampling p = random_sampling();
    p.top_k = 3;
    p.top_p = 0.75f;
    Sampler s(p);
    expect_distribution(frequencies(s, log_probs({0.1, 0.2, 0.3, 0.4}), kDraws),
                        {0.0, 0.0, 3.0 / 7.0, 4.0 / 7.0});
}

TEST(SamplerDistribution, MinPRelativeToMax) {
    ResolvedSampling p = random_sampling();
    p.min_p = 0.25f;  // threshold 0.125: drops 0.05
    Sampler s(p);
    expect_distribution(frequencies(s, log_probs({0.05, 0.15, 0.3, 0.5}), kDraws),
                        {0.0, 0.15 / 0.95, 0.3 / 0.95, 0.5 / 0.95});
}

TEST(SamplerDistribution, MinPBeforeTopP) {
    // vLLM v1 order: min-p on the full distribution, then top-p on what is left.
    // min_p 0.2 drops 0.05 -> {0.526, 0.316, 0.158}; top_p 0.82: before-masses 0, 0.526, 0.842,
    // so token 2 goes -> {0.625, 0.375}. (top-p first would keep 0.5, 0.3, 0.15.)
    ResolvedSampling p = random_sampling();
    p.min_p = 0.2f;
    p.top_p = 0.82f;
    Sampler s(p);
    expect_distribution(frequencies(s, log_probs({0.5, 0.3, 0.15, 0.05}), kDraws),
                        {0.625, 0.375, 0.0, 0.0});
}

TEST(SamplerDistribution, TemperatureBeforeFilters) {
    // T = 0.5 sharpens {0.1, 0.2, 0.3, 0.4} to ∝ {1, 4, 9, 16} / 30; top_p 0.5: 16/30 = 0.533
    // already reaches 0.5, so only token 3 stays. (Unscaled, 0.4 < 0.5 would keep token 2.)
    ResolvedSampling p = random_sampling();
    p.temperature = 0.5f;
    p.top_p = 0.5f;
    Sampler s(p);
    expect_distribution(frequencies(s, log_probs({0.1, 0.2, 0.3, 0.4}), 2000),
                        {0.0, 0.0, 0.0, 1.0});
}

// A 151k vocabulary (GLM-4's size): every sampled token lies in the nucleus computed by a full
// sort, both for a peaked distribution (the incremental sort stops early) and a flat one (it
// grows to most of the vocabulary).
TEST(SamplerDistribution, TopPOnLargeVocabMatchesFullSortNucleus) {
    constexpr size_t kVocab = 151552;
    for (float scale : {8.0f, 1.0f}) {
        std::mt19937_64 gen(7);
        std::normal_distribution<float> normal(0.0f, scale);
        std::vector<float> logits(kVocab);
        for (float& x : logits) x = normal(gen);
        // Reference nucleus for top_p 0.9.
        std::vector<int32_t> order(kVocab);
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
            return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)];
        });
        const float mx = logits[static_cast<size_t>(order[0])];
        double z = 0.0;
        for (float x : logits) z += std::exp(static_cast<double>(x - mx));
        std::vector<uint8_t> in_nucleus(kVocab, 0);
        double cum = 0.0;
        size_t n_nucleus = 0;
        for (int32_t id : order) {
            if (cum >= 0.9 * z) break;
            in_nucleus[static_cast<size_t>(id)] = 1;
            cum += std::exp(static_cast<double>(logits[static_cast<size_t>(id)] - mx));
            ++n_nucleus;
        }
        ResolvedSampling p = random_sampling(99);
        p.top_p = 0.9f;
        Sampler s(p);
        for (int i = 0; i < 300; ++i) {
            std::vector<float> l = logits;
            const int32_t tok = s.sample(l, Ids{}, Ids{});
            ASSERT_TRUE(in_nucleus[static_cast<size_t>(tok)])
                << "scale " << scale << " nucleus " << n_nucleus << " token " << tok;
        }
    }
}

TEST(SamplerDistribution, TopKOnLargeVocab) {
    constexpr size_t kVocab = 151552;
    std::vector<float> logits(kVocab, 0.0f);
    logits[5] = 3.0f;
    logits[70000] = 3.0f;
    logits[151551] = 2.0f;
    ResolvedSampling p = random_sampling(5);
    p.top_k = 3;
    Sampler s(p);
    for (int i = 0; i < 200; ++i) {
        std::vector<float> l = logits;
        const int32_t tok = s.sample(l, Ids{}, Ids{});
        EXPECT_TRUE(tok == 5 || tok == 70000 || tok == 151551) << tok;
    }
}

// ---- seeding --------------------------------------------------------------------------------

std::vector<int32_t> draw_sequence(uint64_t seed, int n) {
    ResolvedSampling p = random_sampling(seed);
    p.top_k = 40;
    p.top_p = 0.95f;
    Sampler s(p);
    std::vector<float> base(64);
    for (size_t i = 0; i < base.size(); ++i) base[i] = std::sin(static_cast<float>(i));
    std::vector<int32_t> out;
    for (int i = 0; i < n; ++i) {
        std::vector<float> l = base;
        out.push_back(s.sample(l, Ids{}, out));
    }
    return out;
}

TEST(SamplerSeed, SameSeedSameTokens) {
    EXPECT_EQ(draw_sequence(42, 200), draw_sequence(42, 200));
    EXPECT_NE(draw_sequence(42, 200), draw_sequence(43, 200));
}

TEST(SamplerSeed, StreamIsPinned) {
    // std::mt19937_64 and our 53-bit conversion are fully specified, so this holds on every
    // platform. A change here changes every seeded request's output: do it knowingly.
    Sampler s(random_sampling(2024));
    std::vector<int32_t> got;
    for (int i = 0; i < 12; ++i) {
        std::vector<float> l(4, 0.0f);  // uniform over 4 tokens: token = floor(4u)
        got.push_back(s.sample(l, Ids{}, Ids{}));
    }
    std::mt19937_64 ref(2024);
    std::vector<int32_t> want;
    for (int i = 0; i < 12; ++i) {
        const double u = static_cast<double>(ref() >> 11) * 0x1.0p-53;
        want.push_back(static_cast<int32_t>(u * 4.0));
    }
    EXPECT_EQ(got, want);
}

// ---- logprobs -------------------------------------------------------------------------------

TEST(SamplerLogprobs, RawDistributionBeforePenaltiesAndTemperature) {
    ResolvedSampling p = greedy();
    p.frequency_penalty = 2.0f;
    Sampler s(p);
    std::vector<float> l = log_probs({0.1, 0.2, 0.3, 0.4});
    const SampleResult r = s.sample_with_logprobs(l, Ids{}, Ids{3}, 2);
    EXPECT_EQ(r.token, 2);  // 3 is penalised out of the argmax
    EXPECT_NEAR(r.logprob, std::log(0.3), 1e-6);
    ASSERT_EQ(r.top_logprobs.size(), 2u);
    EXPECT_EQ(r.top_logprobs[0].first, 3);  // raw ranking, penalty not applied
    EXPECT_NEAR(r.top_logprobs[0].second, std::log(0.4), 1e-6);
    EXPECT_EQ(r.top_logprobs[1].first, 2);
    EXPECT_NEAR(r.top_logprobs[1].second, std::log(0.3), 1e-6);
}

TEST(SamplerLogprobs, UnnormalisedLogitsAndCounts) {
    ResolvedSampling p = random_sampling();
    p.temperature = 0.7f;
    Sampler s(p);
    std::vector<float> l = {10.0f, 12.0f, 11.0f};
    const double lse = std::log(std::exp(10.0) + std::exp(12.0) + std::exp(11.0));
    SampleResult r = s.sample_with_logprobs(l, Ids{}, Ids{}, 0);
    EXPECT_TRUE(r.top_logprobs.empty());
    const std::vector<float> raw = {10.0f, 12.0f, 11.0f};
    EXPECT_NEAR(r.logprob, raw[static_cast<size_t>(r.token)] - lse, 1e-5);
    l = raw;
    r = s.sample_with_logprobs(l, Ids{}, Ids{}, 10);  // more than the vocabulary
    ASSERT_EQ(r.top_logprobs.size(), 3u);
    EXPECT_EQ(r.top_logprobs[0].first, 1);
    EXPECT_EQ(r.top_logprobs[1].first, 2);
    EXPECT_EQ(r.top_logprobs[2].first, 0);
    EXPECT_NEAR(r.top_logprobs[2].second, 10.0 - lse, 1e-5);
}

TEST(SamplerLogprobs, NegativeNTopMatchesPlainSample) {
    ResolvedSampling p = random_sampling(77);
    Sampler a(p);
    Sampler b(p);
    for (int i = 0; i < 50; ++i) {
        std::vector<float> la = log_probs({0.25, 0.25, 0.5});
        std::vector<float> lb = la;
        const SampleResult r = a.sample_with_logprobs(la, Ids{}, Ids{}, -1);
        EXPECT_EQ(r.token, b.sample(lb, Ids{}, Ids{}));
        EXPECT_TRUE(r.top_logprobs.empty());
    }
}

// ---- resolve_sampling -----------------------------------------------------------------------

TEST(ResolveSampling, OpenAiDefaultsWithoutGenerationConfig) {
    SamplingParams req;
    auto r = resolve_sampling(req, nlohmann::json());
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->temperature, 1.0f);
    EXPECT_EQ(r->top_p, 1.0f);
    EXPECT_EQ(r->top_k, 0);
    EXPECT_EQ(r->min_p, 0.0f);
    EXPECT_EQ(r->repetition_penalty, 1.0f);
    EXPECT_EQ(r->frequency_penalty, 0.0f);
    EXPECT_EQ(r->presence_penalty, 0.0f);
    EXPECT_EQ(r->max_tokens, req.max_tokens);
    auto r2 = resolve_sampling(req, nlohmann::json());
    ASSERT_TRUE(r2.ok());
    EXPECT_NE(r->seed, r2->seed);  // random per request (2^-64 chance of a false failure)
}

TEST(ResolveSampling, RequestOverGenerationConfigOverDefault) {
    const nlohmann::json gen = {{"do_sample", true},     {"temperature", 0.6},
                                {"top_p", 0.8},          {"top_k", 20},
                                {"min_p", 0.05},         {"repetition_penalty", 1.1},
                                {"max_new_tokens", 512}, {"eos_token_id", {151329, 151336}}};
    SamplingParams req;
    auto r = resolve_sampling(req, gen);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_FLOAT_EQ(r->temperature, 0.6f);
    EXPECT_FLOAT_EQ(r->top_p, 0.8f);
    EXPECT_EQ(r->top_k, 20);
    EXPECT_FLOAT_EQ(r->min_p, 0.05f);
    EXPECT_FLOAT_EQ(r->repetition_penalty, 1.1f);

    req.temperature = 0.9f;
    req.top_p = 0.85f;
    req.top_k = 5;
    req.min_p = 0.0f;
    req.repetition_penalty = 1.0f;
    req.seed = 12345;
    req.max_tokens = 3000;
    req.frequency_penalty = 0.2f;
    r = resolve_sampling(req, gen);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_FLOAT_EQ(r->temperature, 0.9f);
    EXPECT_FLOAT_EQ(r->top_p, 0.85f);
    EXPECT_EQ(r->top_k, 5);
    EXPECT_EQ(r->min_p, 0.0f);
    EXPECT_EQ(r->repetition_penalty, 1.0f);
    EXPECT_EQ(r->seed, 12345u);
    EXPECT_EQ(r->max_tokens, 3000);
    EXPECT_FLOAT_EQ(r->frequency_penalty, 0.2f);
}

TEST(ResolveSampling, GenerationDefaultsKeys) {
    const nlohmann::json gen = {{"temperature", nullptr}, {"top_p", "0.5"}, {"top_k", 50},
                                {"max_new_tokens", 1024}, {"presence_penalty", 1.0}};
    const GenerationDefaults d = read_generation_defaults(gen);
    EXPECT_FALSE(d.temperature);  // null
    EXPECT_FALSE(d.top_p);        // not a number
    EXPECT_FALSE(d.top_k);        // 50 is transformers' default: to_diff_dict drops it
    EXPECT_FALSE(d.min_p);
    EXPECT_FALSE(d.repetition_penalty);
    ASSERT_TRUE(d.max_tokens);
    EXPECT_EQ(*d.max_tokens, 1024);
    // presence_penalty is not a key vLLM takes from generation_config.
    auto r = resolve_sampling(SamplingParams{}, gen);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->presence_penalty, 0.0f);
    EXPECT_EQ(r->top_k, 0);
    EXPECT_FALSE(read_generation_defaults(nlohmann::json::array()).max_tokens);
}

TEST(ResolveSampling, GreedyResetsFiltersAndTinyTemperatureIsClamped) {
    SamplingParams req;
    req.temperature = 0.0f;
    req.top_p = 0.85f;  // Open-AutoGLM sends this with temperature 0
    req.top_k = 3;
    req.min_p = 0.5f;
    auto r = resolve_sampling(req, nlohmann::json());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->temperature, 0.0f);
    EXPECT_EQ(r->top_p, 1.0f);
    EXPECT_EQ(r->top_k, 0);
    EXPECT_EQ(r->min_p, 0.0f);
    req.temperature = 1e-6f;  // vLLM raises (0, 0.01) to 0.01: sampling, not greedy
    r = resolve_sampling(req, nlohmann::json());
    ASSERT_TRUE(r.ok());
    EXPECT_FLOAT_EQ(r->temperature, 0.01f);
    EXPECT_EQ(r->top_k, 3);
    req.top_k = -1;  // -1 also means off
    r = resolve_sampling(req, nlohmann::json());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->top_k, 0);
}

struct BadCase {
    const char* name;
    SamplingParams req;
    const char* message;
};

SamplingParams with(void (*set)(SamplingParams&)) {
    SamplingParams s;
    set(s);
    return s;
}

TEST(ResolveSampling, ValidationErrors) {
    const std::vector<BadCase> cases = {
        {"temperature<0", with([](SamplingParams& s) { s.temperature = -0.5f; }),
         "temperature must be non-negative, got -0.5."},
        {"temperature nan",
         with([](SamplingParams& s) { s.temperature = std::numeric_limits<float>::quiet_NaN(); }),
         "temperature must be a finite number, got nan."},
        {"temperature inf",
         with([](SamplingParams& s) { s.temperature = std::numeric_limits<float>::infinity(); }),
         "temperature must be a finite number, got inf."},
        {"top_p 0", with([](SamplingParams& s) { s.top_p = 0.0f; }),
         "top_p must be in (0, 1], got 0."},
        {"top_p 1.5", with([](SamplingParams& s) { s.top_p = 1.5f; }),
         "top_p must be in (0, 1], got 1.5."},
        {"top_p nan",
         with([](SamplingParams& s) { s.top_p = std::numeric_limits<float>::quiet_NaN(); }),
         "top_p must be in (0, 1], got nan."},
        {"top_k -2", with([](SamplingParams& s) { s.top_k = -2; }),
         "top_k must be 0 or -1 (disable), or at least 1, got -2."},
        {"min_p -0.1", with([](SamplingParams& s) { s.min_p = -0.1f; }),
         "min_p must be in [0, 1], got -0.1."},
        {"min_p 1.5", with([](SamplingParams& s) { s.min_p = 1.5f; }),
         "min_p must be in [0, 1], got 1.5."},
        {"min_p nan",
         with([](SamplingParams& s) { s.min_p = std::numeric_limits<float>::quiet_NaN(); }),
         "min_p must be in [0, 1], got nan."},
        {"frequency 2.5", with([](SamplingParams& s) { s.frequency_penalty = 2.5f; }),
         "frequency_penalty must be in [-2, 2], got 2.5."},
        {"frequency -2.5", with([](SamplingParams& s) { s.frequency_penalty = -2.5f; }),
         "frequency_penalty must be in [-2, 2], got -2.5."},
        {"frequency nan",
         with([](SamplingParams& s) {
             s.frequency_penalty = std::numeric_limits<float>::quiet_NaN();
         }),
         "frequency_penalty must be in [-2, 2], got nan."},
        {"presence 3", with([](SamplingParams& s) { s.presence_penalty = 3.0f; }),
         "presence_penalty must be in [-2, 2], got 3."},
        {"presence nan",
         with([](SamplingParams& s) {
             s.presence_penalty = std::numeric_limits<float>::quiet_NaN();
         }),
         "presence_penalty must be in [-2, 2], got nan."},
        {"repetition 0", with([](SamplingParams& s) { s.repetition_penalty = 0.0f; }),
         "repetition_penalty must be greater than zero, got 0."},
        {"repetition -1", with([](SamplingParams& s) { s.repetition_penalty = -1.0f; }),
         "repetition_penalty must be greater than zero, got -1."},
        {"repetition nan",
         with([](SamplingParams& s) {
             s.repetition_penalty = std::numeric_limits<float>::quiet_NaN();
         }),
         "repetition_penalty must be a finite number, got nan."},
        {"max_tokens 0", with([](SamplingParams& s) { s.max_tokens = 0; }),
         "max_tokens must be at least 1, got 0."},
    };
    for (const BadCase& c : cases) {
        auto r = resolve_sampling(c.req, nlohmann::json());
        ASSERT_FALSE(r.ok()) << c.name;
        EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << c.name;
        EXPECT_EQ(r.status().message(), c.message) << c.name;
    }
}

TEST(ResolveSampling, BoundaryValuesAccepted) {
    SamplingParams req;
    req.temperature = 0.0f;
    req.top_p = 1.0f;
    req.top_k = 0;
    req.min_p = 1.0f;
    req.frequency_penalty = -2.0f;
    req.presence_penalty = 2.0f;
    req.repetition_penalty = 1e-3f;
    req.max_tokens = 1;
    EXPECT_TRUE(resolve_sampling(req, nlohmann::json()).ok());
}

TEST(ResolveSampling, GenerationConfigValuesAreValidatedToo) {
    auto r = resolve_sampling(SamplingParams{}, nlohmann::json{{"top_p", 0.0}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), "top_p must be in (0, 1], got 0.");
    // ... unless the request overrides them.
    SamplingParams req;
    req.top_p = 0.5f;
    EXPECT_TRUE(resolve_sampling(req, nlohmann::json{{"top_p", 0.0}}).ok());
}

}  // namespace
}  // namespace ag::runtime
