// Special tokens, the SOT sequence / prompt and the non-speech list on the tiny Whisper-shaped
// tokenizer (tests/golden/make_whisper_tokenizer.py).
#include <gtest/gtest.h>

#include <vector>

#include "asr/whisper_tokens.h"

namespace ag::asr {
namespace {

tok::Tokenizer tiny() {
    auto t = tok::Tokenizer::load("tests/fixtures/tokenizers/whisper_tiny");
    EXPECT_TRUE(t.ok()) << t.status().to_string();
    return std::move(t).value();
}

TEST(WhisperTokens, ResolvesByName) {
    const auto tk = tiny();
    auto r = resolve_whisper_tokens(tk, 512);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const WhisperTokens& t = *r;
    EXPECT_EQ(t.eot, 400);
    EXPECT_EQ(t.sot, 401);
    EXPECT_EQ(t.translate, 405);
    EXPECT_EQ(t.transcribe, 406);
    EXPECT_EQ(t.sot_lm, 407);
    EXPECT_EQ(t.sot_prev, 408);
    EXPECT_EQ(t.no_speech, 409);
    EXPECT_EQ(t.no_timestamps, 410);
    EXPECT_EQ(t.timestamp_begin, 411);
    EXPECT_EQ(t.timestamp_end, 511);
    EXPECT_EQ(t.lang_ids, (std::vector<int32_t>{402, 403, 404}));
    EXPECT_EQ(t.lang_codes, (std::vector<std::string>{"en", "zh", "de"}));
    EXPECT_TRUE(t.multilingual());
    EXPECT_EQ(t.language_id("zh"), 403);
    EXPECT_EQ(t.language_id("fr"), -1);
    EXPECT_EQ(t.language_code(404), "de");
}

TEST(WhisperTokens, ConfigLangIdsWinAndEnglishOnlyVocabHasNone) {
    const auto tk = tiny();
    auto r = resolve_whisper_tokens(tk, 512, nlohmann::json::array({404, 402}));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->lang_codes, (std::vector<std::string>{"de", "en"}));
    auto en = resolve_whisper_tokens(tk, 51864);
    ASSERT_TRUE(en.ok());
    EXPECT_FALSE(en->multilingual());
}

TEST(WhisperTokens, MissingSpecialTokenIsAClearError) {
    auto gpt2 = tok::Tokenizer::load("tests/fixtures/tokenizers/gpt2");
    ASSERT_TRUE(gpt2.ok());
    auto r = resolve_whisper_tokens(*gpt2, 50257);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
    EXPECT_NE(r.status().message().find("<|startoftranscript|>"), std::string::npos);
}

TEST(BuildPrompt, SotSequence) {
    const auto tk = tiny();
    const WhisperTokens t = *resolve_whisper_tokens(tk, 512);
    EXPECT_EQ(build_prompt(t, {}, 402, t.transcribe, false),
              (std::vector<int32_t>{401, 402, 406, 410}));
    EXPECT_EQ(build_prompt(t, {}, 403, t.translate, true), (std::vector<int32_t>{401, 403, 405}));
    EXPECT_EQ(build_prompt(t, {}, -1, -1, false), (std::vector<int32_t>{401, 410}));
}

TEST(BuildPrompt, PreviousTextKeepsTheLastHalfContextMinusOne) {
    const auto tk = tiny();
    const WhisperTokens t = *resolve_whisper_tokens(tk, 512);
    std::vector<int32_t> prev;
    for (int32_t i = 0; i < 300; ++i) prev.push_back(i % 256);
    const auto p = build_prompt(t, prev, 402, t.transcribe, false, 448);
    ASSERT_EQ(p.size(), 1u + 223u + 4u);
    EXPECT_EQ(p.front(), 408);
    EXPECT_EQ(p[1], prev[300 - 223]);
    EXPECT_EQ(p[223], prev.back());
    EXPECT_EQ(p[224], 401);
    const std::vector<int32_t> few = {7, 8};
    EXPECT_EQ(build_prompt(t, few, 402, t.transcribe, true, 64),
              (std::vector<int32_t>{408, 7, 8, 401, 402, 406}));
}

TEST(NonSpeechTokens, MatchesFasterWhisperOnTheTinyTokenizer) {
    // faster_whisper.tokenizer.Tokenizer(...).non_speech_tokens on the same tokenizer.json
    const std::vector<int32_t> want = {32, 34, 35, 40, 41, 42, 43, 47, 58, 59, 60, 61, 62,
                                       64, 91, 92, 93, 94, 95, 96, 123, 124, 125, 126, 226};
    EXPECT_EQ(non_speech_tokens(tiny()), want);
}

}  // namespace
}  // namespace ag::asr
