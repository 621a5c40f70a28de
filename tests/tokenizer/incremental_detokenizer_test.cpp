// Property: concat(push(id) for ids) + flush() == decode(ids), for both skip modes, on random
// id sequences that split multi-byte characters and emoji.
#include "tokenizer/incremental_detokenizer.h"

#include <gtest/gtest.h>

#include <random>

#include "fixture_util.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace ag::tok {
namespace {

Tokenizer load_or_die(const std::string& name) {
    auto tok = Tokenizer::load(test::fixture_dir(name));
    if (!tok.ok()) throw std::runtime_error(tok.status().to_string());
    return std::move(tok).value();
}

std::string stream(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip) {
    IncrementalDetokenizer detok(tok, skip);
    std::string text;
    for (int32_t id : ids) {
        const std::string piece = detok.push(id);
        EXPECT_TRUE(is_valid_utf8(piece));
        text += piece;
    }
    text += detok.flush();
    return text;
}

class IncrementalProperty : public ::testing::TestWithParam<std::string> {};

TEST_P(IncrementalProperty, MatchesDecodeOnRandomSequences) {
    const Tokenizer tok = load_or_die(GetParam());
    std::mt19937 rng(1234);
    // Ids for single bytes (split multi-byte chars) and emoji pieces are the interesting ones.
    std::vector<int32_t> byte_ids;
    for (int b = 0; b < 256; ++b) {
        const std::vector<int32_t> ids = tok.encode(std::string(1, static_cast<char>(b)));
        if (ids.size() == 1) byte_ids.push_back(ids[0]);
    }
    const std::vector<int32_t> emoji =
        tok.encode("👨‍👩‍👧‍👦🏳️‍🌈👍🏽 你好 <|user|>\xff");
    for (int iter = 0; iter < 3000; ++iter) {
        std::vector<int32_t> ids(std::uniform_int_distribution<int>(0, 16)(rng));
        for (int32_t& id : ids) {
            const int kind = std::uniform_int_distribution<int>(0, 9)(rng);
            if (kind < 4 && !byte_ids.empty()) {
                id = byte_ids[rng() % byte_ids.size()];
            } else if (kind < 6 && !emoji.empty()) {
                id = emoji[rng() % emoji.size()];
            } else {
                id = std::uniform_int_distribution<int32_t>(-2, tok.vocab_size() + 2)(rng);
            }
        }
        for (bool skip : {false, true}) {
            ASSERT_EQ(stream(tok, ids, skip), tok.decode(ids, skip))
                << "iteration " << iter << " skip " << skip;
        }
    }
}

TEST_P(IncrementalProperty, RoundTripsEncodedFixtureText) {
    const Tokenizer tok = load_or_die(GetParam());
    const auto rows = test::read_jsonl(test::fixture_dir(GetParam()) + "/encode_cases.jsonl");
    for (const auto& row : rows) {
        const auto ids = row["ids"].get<std::vector<int32_t>>();
        ASSERT_EQ(stream(tok, ids, false), row["dec"].get<std::string>());
        ASSERT_EQ(stream(tok, ids, true), row["dec_skip"].get<std::string>());
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, IncrementalProperty, ::testing::ValuesIn(test::fixture_names()),
                         test::ParamName{});

TEST(IncrementalDetokenizer, HoldsBackSplitCharacter) {
    const Tokenizer tok = load_or_die("glm4");
    // "你" = E4 BD A0: feed it one byte-level token at a time.
    std::vector<int32_t> byte_ids;
    for (char b : std::string("\xE4\xBD\xA0")) {
        std::string token;
        append_byte_level(std::string(1, b), token);
        const auto id = tok.token_to_id(token);
        ASSERT_TRUE(id.has_value());
        byte_ids.push_back(*id);
    }
    IncrementalDetokenizer detok(tok);
    EXPECT_EQ(detok.push(byte_ids[0]), "");
    EXPECT_EQ(detok.push(byte_ids[1]), "");
    EXPECT_EQ(detok.push(byte_ids[2]), "\xE4\xBD\xA0");
    EXPECT_EQ(detok.flush(), "");
    IncrementalDetokenizer cut(tok);
    EXPECT_EQ(cut.push(byte_ids[0]), "");
    EXPECT_EQ(cut.flush(), "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace ag::tok
