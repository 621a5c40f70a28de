// Sampler semantics (vLLM's): hand-computed expectations for penalties and truncation, seeded
// reproducibility, empirical frequencies with a fixed seed, and parameter resolution.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "runtime/sampler.h"

namespace ag::runtime {
namespace {

ResolvedSampling greedy() {
    ResolvedSampling p;
    p.temperature = 0.0f;
    return p;
}

TEST(Sampler, GreedyTiesPickLowestId) {
    Sampler s(greedy());
    std::vector<float> l = {1.0f, 3.0f, 3.0f, 2.0f};
    EXPECT_EQ(s.sample(l, {}, {}), 1);
}

TEST(Sampler, FrequencyPenaltyCountsOutputOnlyAndFlipsGreedy) {
    // Open-AutoGLM: greedy with frequency_penalty 0.2. Token 0 leads by 0.3; after it was
    // generated twice it loses 0.4 and token 1 wins. Prompt occurrences do not count.
    ResolvedSampling p = greedy();
    p.frequency_penalty = 0.2f;
    Sampler s(p);
    const std::vector<int32_t> prompt = {0, 0, 0, 0, 0};
    std::vector<float> l = {1.3f, 1.0f, 0.0f};
    EXPECT_EQ(s.sample(l, prompt, std::vector<int32_t>{0}), 0);  // 1.1 > 1.0
    l = {1.3f, 1.0f, 0.0f};
    EXPECT_EQ(s.sample(l, prompt, std::vector<int32_t>{0, 0}), 1);  // 0.9 < 1.0
    EXPECT_FLOAT_EQ(l[0], 0.9f);
}

TEST(Sampler, PresencePenaltyOncePerToken) {
    ResolvedSampling p = greedy();
    p.presence_penalty = 0.5f;
    Sampler s(p);
    std::vector<float> l = {1.0f, 1.0f};
    s.sample(l, {}, std::vector<int32_t>{0, 0, 0});
    EXPECT_FLOAT_EQ(l[0], 0.5f);
    EXPECT_FLOAT_EQ(l[1], 1.0f);
}

TEST(Sampler, RepetitionPenaltyOverPromptAndOutput) {
    ResolvedSampling p = greedy();
    p.repetition_penalty = 2.0f;
    Sampler s(p);
    std::vector<float> l = {4.0f, -1.0f, 3.0f, 0.5f};
    // id 0 from the prompt (positive: divided), id 1 from the output (negative: multiplied).
    EXPECT_EQ(s.sample(l, std::vector<int32_t>{0}, std::vector<int32_t>{1}), 2);
    EXPECT_FLOAT_EQ(l[0], 2.0f);
    EXPECT_FLOAT_EQ(l[1], -2.0f);
    EXPECT_FLOAT_EQ(l[2], 3.0f);
}

std::map<int32_t, double> frequencies(ResolvedSampling p, const std::vector<float>& logits, int n) {
    Sampler s(p);
    std::map<int32_t, double> f;
    for (int i = 0; i < n; ++i) {
        std::vector<float> l = logits;
        f[s.sample(l, {}, {})] += 1.0 / n;
    }
    return f;
}

const std::vector<float> kLogits = {std::log(0.5f), std::log(0.25f), std::log(0.15f), std::log(0.1f)};

TEST(Sampler, TemperatureOneFollowsSoftmax) {
    ResolvedSampling p;
    p.seed = 42;
    auto f = frequencies(p, kLogits, 20000);
    EXPECT_NEAR(f[0], 0.5, 0.02);
    EXPECT_NEAR(f[1], 0.25, 0.02);
    EXPECT_NEAR(f[2], 0.15, 0.02);
    EXPECT_NEAR(f[3], 0.10, 0.02);
}

TEST(Sampler, TopKTopPMinPTruncate) {
    ResolvedSampling p;
    p.seed = 1;
    p.top_k = 2;  // {0.5, 0.25} renormalised -> 2/3, 1/3
    auto f = frequencies(p, kLogits, 20000);
    EXPECT_NEAR(f[0], 2.0 / 3, 0.02);
    EXPECT_EQ(f.count(2) + f.count(3), 0u);

    p.top_k = 0;
    p.top_p = 0.8f;  // smallest prefix reaching 0.8: {0.5, 0.25, 0.15}
    f = frequencies(p, kLogits, 20000);
    EXPECT_EQ(f.count(3), 0u);
    EXPECT_NEAR(f[2], 0.15 / 0.9, 0.02);

    p.top_p = 1.0f;
    p.min_p = 0.4f;  // keep p >= 0.2: {0.5, 0.25}
    f = frequencies(p, kLogits, 20000);
    EXPECT_EQ(f.count(2) + f.count(3), 0u);
    EXPECT_NEAR(f[1], 1.0 / 3, 0.02);

    p.min_p = 0.0f;
    p.top_p = 0.1f;  // always keeps at least the top token
    f = frequencies(p, kLogits, 1000);
    EXPECT_DOUBLE_EQ(f[0], 1.0);
}

TEST(Sampler, SameSeedSameTokens) {
    ResolvedSampling p;
    p.seed = 99;
    auto run = [&] {
        Sampler s(p);
        std::vector<int32_t> out;
        for (int i = 0; i < 50; ++i) {
            std::vector<float> l = kLogits;
            out.push_back(s.sample(l, {}, out));
        }
        return out;
    };
    EXPECT_EQ(run(), run());
}

TEST(Sampler, LogprobsAreOfTheRawDistribution) {
    ResolvedSampling p = greedy();
    p.frequency_penalty = 2.0f;
    Sampler s(p);
    std::vector<float> l = kLogits;
    auto r = s.sample_with_logprobs(l, {}, std::vector<int32_t>{0}, 2);
    EXPECT_EQ(r.token, 1);  // penalised token 0 loses
    EXPECT_NEAR(r.logprob, std::log(0.25), 1e-5);
    ASSERT_EQ(r.top.size(), 2u);
    EXPECT_EQ(r.top[0].first, 0);
    EXPECT_NEAR(r.top[0].second, std::log(0.5), 1e-5);
}

TEST(ResolveSampling, PrecedenceRequestThenGenerationConfigThenDefault) {
    nlohmann::json gen = {{"temperature", 0.6}, {"top_p", 0.9}, {"top_k", 20}};
    SamplingParams req;
    req.top_p = 0.5f;
    auto r = resolve_sampling(req, gen);
    ASSERT_TRUE(r.ok());
    EXPECT_FLOAT_EQ(r->temperature, 0.6f);
    EXPECT_FLOAT_EQ(r->top_p, 0.5f);
    EXPECT_EQ(r->top_k, 20);
    EXPECT_FLOAT_EQ(r->min_p, 0.0f);
    EXPECT_FLOAT_EQ(r->repetition_penalty, 1.0f);
    auto d = resolve_sampling(SamplingParams{}, nlohmann::json());
    ASSERT_TRUE(d.ok());
    EXPECT_FLOAT_EQ(d->temperature, 1.0f);
}

TEST(ResolveSampling, ValidationMessagesNameTheParameter) {
    auto check = [](auto set, const char* name) {
        SamplingParams req;
        set(req);
        auto r = resolve_sampling(req, nlohmann::json());
        ASSERT_FALSE(r.ok()) << name;
        EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
        EXPECT_NE(r.status().message().find(name), std::string::npos) << r.status().message();
    };
    check([](SamplingParams& r) { r.temperature = -0.1f; }, "temperature");
    check([](SamplingParams& r) { r.temperature = NAN; }, "temperature");
    check([](SamplingParams& r) { r.top_p = 0.0f; }, "top_p");
    check([](SamplingParams& r) { r.top_p = 1.5f; }, "top_p");
    check([](SamplingParams& r) { r.top_k = -2; }, "top_k");
    check([](SamplingParams& r) { r.min_p = 1.5f; }, "min_p");
    check([](SamplingParams& r) { r.frequency_penalty = 2.5f; }, "frequency_penalty");
    check([](SamplingParams& r) { r.presence_penalty = -3.0f; }, "presence_penalty");
    check([](SamplingParams& r) { r.repetition_penalty = 0.0f; }, "repetition_penalty");
    check([](SamplingParams& r) { r.max_tokens = 0; }, "max_tokens");
}

}  // namespace
}  // namespace ag::runtime
