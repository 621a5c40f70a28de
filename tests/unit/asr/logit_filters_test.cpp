// Logit filters against hand-worked cases (vocab of 12: text 0..4, EOT 5, <|notimestamps|> 6,
// timestamps 7..11).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "asr/logit_filters.h"

namespace ag::asr {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

TimestampRules rules() {
    TimestampRules r;
    r.eot = 5;
    r.no_timestamps = 6;
    r.timestamp_begin = 7;
    r.timestamp_end = 11;
    r.max_initial_timestamp_id = 8;  // <|0.02|>
    return r;
}

std::vector<bool> disabled(const std::vector<float>& x) {
    std::vector<bool> d;
    for (float v : x) d.push_back(v == -kInf);
    return d;
}

TEST(SuppressTokens, SetsMinusInfAndIgnoresOutOfRange) {
    std::vector<float> x(4, 1.0f);
    const std::vector<int32_t> ids = {1, 3, -1, 9};
    suppress_tokens(x, ids);
    EXPECT_EQ(disabled(x), (std::vector<bool>{false, true, false, true}));
}

TEST(TimestampRules, FirstTokenIsAnEarlyTimestamp) {
    std::vector<float> x(12, 0.0f);
    apply_timestamp_rules(x, {}, rules());
    // text, EOT and <|notimestamps|> off; timestamps 7, 8 on; 9..11 past max_initial off
    EXPECT_EQ(disabled(x), (std::vector<bool>{true, true, true, true, true, true, true, false,
                                              false, true, true, true}));
}

TEST(TimestampRules, AfterAPairTextOrEot) {
    std::vector<float> x(12, 0.0f);
    const std::vector<int32_t> seq = {7, 2, 9, 9};
    apply_timestamp_rules(x, seq, rules());
    EXPECT_EQ(disabled(x), (std::vector<bool>{false, false, false, false, false, false, true,
                                              true, true, true, true, true}));
}

TEST(TimestampRules, SingleFirstTimestampCountsAsAPair) {
    // One sampled timestamp: its "penultimate" is itself, so timestamps are off (CTranslate2).
    std::vector<float> x(12, 0.0f);
    const std::vector<int32_t> seq = {8};
    apply_timestamp_rules(x, seq, rules());
    for (int i = 7; i <= 11; ++i) EXPECT_EQ(x[static_cast<size_t>(i)], -kInf) << i;
    for (int i = 0; i <= 5; ++i) EXPECT_EQ(x[static_cast<size_t>(i)], 0.0f) << i;
}

TEST(TimestampRules, OpenTimestampNeedsTimestampOrEotAndNeverDecreases) {
    std::vector<float> x(12, 0.0f);
    x[5] = 5.0f;  // EOT dominates: the probability-mass rule does not fire
    const std::vector<int32_t> seq = {7, 1, 2, 9};
    apply_timestamp_rules(x, seq, rules());
    // text 0..4 off, EOT on, timestamps below 9 off, 9 itself allowed (CTranslate2: "< last")
    EXPECT_EQ(disabled(x), (std::vector<bool>{true, true, true, true, true, false, true, true,
                                              true, false, false, false}));
}

TEST(TimestampRules, MonotonicAfterText) {
    std::vector<float> x(12, 0.0f);
    x[0] = 5.0f;  // text dominates: the probability-mass rule does not fire
    const std::vector<int32_t> seq = {7, 1, 10, 10, 3};
    apply_timestamp_rules(x, seq, rules());
    EXPECT_EQ(disabled(x), (std::vector<bool>{false, false, false, false, false, false, true,
                                              true, true, true, false, false}));
}

TEST(TimestampRules, TimestampMassAboveBestTextForcesTimestamp) {
    // After text: text logits 0 (each p ∝ 1), timestamps 7..11 at log(1.5) (mass 7.5 > 1).
    std::vector<float> x(12, 0.0f);
    for (int i = 7; i <= 11; ++i) x[static_cast<size_t>(i)] = std::log(1.5f);
    const std::vector<int32_t> seq = {7, 1};
    apply_timestamp_rules(x, seq, rules());
    for (int i = 0; i < 7; ++i) EXPECT_EQ(x[static_cast<size_t>(i)], -kInf) << i;
    for (int i = 7; i <= 11; ++i) EXPECT_GT(x[static_cast<size_t>(i)], -kInf) << i;
}

TEST(TimestampRules, TimestampMassBelowBestTextLeavesText) {
    // Best text token p ∝ e^3 ≈ 20 > timestamp mass 5.
    std::vector<float> x(12, 0.0f);
    x[2] = 3.0f;
    const std::vector<int32_t> seq = {7, 1};
    apply_timestamp_rules(x, seq, rules());
    EXPECT_EQ(x[2], 3.0f);
    EXPECT_EQ(x[0], 0.0f);
    EXPECT_EQ(x[6], -kInf);
}

TEST(TimestampRules, MassRuleSeesSuppressedTokens) {
    // Text token 2 would win but was suppressed before the rules: the mass rule compares the
    // timestamps with what is left (all text at -inf except 0 at logit 0 < mass log 5).
    std::vector<float> x(12, -kInf);
    x[0] = 0.0f;
    for (int i = 7; i <= 11; ++i) x[static_cast<size_t>(i)] = 0.0f;
    const std::vector<int32_t> seq = {7, 1};
    apply_timestamp_rules(x, seq, rules());
    EXPECT_EQ(x[0], -kInf);
    EXPECT_EQ(x[8], 0.0f);
}

TEST(LogSoftmax, NormalizesAndKeepsMinusInf) {
    std::vector<float> x = {0.0f, std::log(3.0f), -kInf};
    log_softmax(x);
    EXPECT_NEAR(std::exp(x[0]), 0.25, 1e-6);
    EXPECT_NEAR(std::exp(x[1]), 0.75, 1e-6);
    EXPECT_EQ(x[2], -kInf);
}

TEST(LanguageProbs, SoftmaxOverLanguageTokensOnly) {
    std::vector<float> logits(10, 0.0f);
    logits[9] = 100.0f;  // not a language token: ignored
    logits[3] = std::log(3.0f);
    logits[4] = 0.0f;
    const std::vector<int32_t> langs = {4, 3};
    const LanguageProbs p = language_probs(logits, langs);
    ASSERT_EQ(p.probs.size(), 2u);
    EXPECT_EQ(p.best, 1u);
    EXPECT_NEAR(p.probs[0], 0.25, 1e-6);
    EXPECT_NEAR(p.probs[1], 0.75, 1e-6);
}

TEST(LanguageProbs, TiesPickTheFirst) {
    std::vector<float> logits(4, 1.0f);
    const std::vector<int32_t> langs = {2, 1, 3};
    EXPECT_EQ(language_probs(logits, langs).best, 0u);
}

}  // namespace
}  // namespace ag::asr
