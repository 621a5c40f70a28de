// Golden tests: every fixture string must encode to exactly HF's ids and decode to HF's text.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "fixture_util.h"
#include "tokenizer/utf8.h"

namespace ag::tok {
namespace {

using test::base64_decode;
using test::fixture_dir;
using test::read_jsonl;

class TokenizerGolden : public ::testing::TestWithParam<std::string> {};

Tokenizer load_or_die(const std::string& name) {
    auto tok = Tokenizer::load(fixture_dir(name));
    if (!tok.ok()) throw std::runtime_error(tok.status().to_string());
    return std::move(tok).value();
}

TEST_P(TokenizerGolden, EncodeMatchesHf) {
    const Tokenizer tok = load_or_die(GetParam());
    const auto rows = read_jsonl(fixture_dir(GetParam()) + "/encode_cases.jsonl");
    ASSERT_GE(rows.size(), 2000u);
    int failures = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        const std::string input = base64_decode(rows[i]["in"].get<std::string>());
        const auto expected = rows[i]["ids"].get<std::vector<int32_t>>();
        const std::vector<int32_t> ids = tok.encode(input);
        if (ids != expected && ++failures <= 10) {
            ADD_FAILURE() << "case " << i << " input " << nlohmann::json(input).dump()
                          << "\n got      " << nlohmann::json(ids).dump() << "\n expected "
                          << nlohmann::json(expected).dump();
        }
    }
    EXPECT_EQ(failures, 0);
}

TEST_P(TokenizerGolden, DecodeOfEncodedMatchesHf) {
    const Tokenizer tok = load_or_die(GetParam());
    const auto rows = read_jsonl(fixture_dir(GetParam()) + "/encode_cases.jsonl");
    int failures = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto ids = rows[i]["ids"].get<std::vector<int32_t>>();
        const std::string dec = tok.decode(ids, false);
        const std::string dec_skip = tok.decode(ids, true);
        if ((dec != rows[i]["dec"] || dec_skip != rows[i]["dec_skip"]) && ++failures <= 10) {
            ADD_FAILURE() << "case " << i << "\n got  " << nlohmann::json(dec).dump() << " / "
                          << nlohmann::json(dec_skip).dump() << "\n want " << rows[i]["dec"].dump()
                          << " / " << rows[i]["dec_skip"].dump();
        }
    }
    EXPECT_EQ(failures, 0);
}

TEST_P(TokenizerGolden, DecodeRandomIdsMatchesHf) {
    const Tokenizer tok = load_or_die(GetParam());
    const auto rows = read_jsonl(fixture_dir(GetParam()) + "/decode_cases.jsonl");
    ASSERT_FALSE(rows.empty());
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto ids = rows[i]["ids"].get<std::vector<int32_t>>();
        EXPECT_EQ(tok.decode(ids, false), rows[i]["dec"].get<std::string>()) << "case " << i;
        EXPECT_EQ(tok.decode(ids, true), rows[i]["dec_skip"].get<std::string>()) << "case " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TokenizerGolden, ::testing::ValuesIn(test::fixture_names()),
                         test::ParamName{});

TEST(Tokenizer, Glm4SpecialTokensAndConfig) {
    const Tokenizer tok = load_or_die("glm4");
    const auto user = tok.token_to_id("<|user|>");
    ASSERT_TRUE(user.has_value());
    EXPECT_TRUE(tok.is_special(*user));
    const auto think = tok.token_to_id("<think>");
    ASSERT_TRUE(think.has_value());
    EXPECT_FALSE(tok.is_special(*think));
    EXPECT_EQ(tok.eos_token_id(), tok.token_to_id("<|endoftext|>"));
    EXPECT_EQ(tok.pad_token_id(), tok.token_to_id("<|endoftext|>"));
    EXPECT_NE(tok.chat_template().find("[gMASK]<sop>"), std::string::npos);
    EXPECT_EQ(tok.vocab_size(), *tok.token_to_id("<|end_of_box|>") + 1);
    EXPECT_EQ(tok.id_to_token(*user), "<|user|>");
    EXPECT_EQ(tok.id_to_token(*tok.token_to_id("\xC4\x8A")), "\xC4\x8A");  // "Ċ" = "\n"
    EXPECT_EQ(tok.id_to_token(-1), "");
    EXPECT_EQ(tok.id_to_token(tok.vocab_size()), "");
    EXPECT_FALSE(tok.token_to_id("definitely not a token").has_value());
}

TEST(Tokenizer, SpecialTokenInline) {
    const Tokenizer tok = load_or_die("glm4");
    const int32_t user = *tok.token_to_id("<|user|>");
    const std::vector<int32_t> ids = tok.encode("a<|user|>b");
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(ids[0], *tok.token_to_id("a"));
    EXPECT_EQ(ids[1], user);
    EXPECT_EQ(ids[2], *tok.token_to_id("b"));
    EXPECT_EQ(tok.decode(ids), "a<|user|>b");
    EXPECT_EQ(tok.decode(ids, true), "ab");
    // Non-special added tokens are matched too and survive skip_special_tokens.
    const std::vector<int32_t> think = tok.encode("x<think>y</think>");
    EXPECT_EQ(think[1], *tok.token_to_id("<think>"));
    EXPECT_EQ(tok.decode(think, true), "x<think>y</think>");
}

TEST(Tokenizer, NewlineHasOwnId) {
    const Tokenizer tok = load_or_die("glm4");
    const std::vector<int32_t> ids = tok.encode("\n");
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_EQ(tok.decode(ids), "\n");
}

TEST(Tokenizer, InvalidUtf8IsReplacedLikePython) {
    const Tokenizer tok = load_or_die("glm4");
    // b'a\xffb\xe4\xb8'.decode('utf-8', 'replace') == 'a\ufffdb\ufffd'
    EXPECT_EQ(tok.encode("a\xff"
                         "b\xe4\xb8"),
              tok.encode("a\xEF\xBF\xBD"
                         "b\xEF\xBF\xBD"));
    // Surrogate encodings are three separate maximal subparts.
    EXPECT_EQ(tok.encode("\xed\xa0\x80"), tok.encode("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
}

TEST(Tokenizer, VeryLongInputsComplete) {
    const Tokenizer tok = load_or_die("glm4");
    for (const std::string& unit :
         {std::string("a"), std::string(" "), std::string("\n"), std::string("\xE4\xBD\xA0"),
          std::string("7"), std::string("!"), std::string("ab ")}) {
        std::string text;
        while (text.size() < 100000) text += unit;
        const std::vector<int32_t> ids = tok.encode(text);
        EXPECT_FALSE(ids.empty());
        EXPECT_TRUE(tok.decode(ids) == text) << "unit " << nlohmann::json(unit).dump();
    }
    const Tokenizer gpt2 = load_or_die("gpt2");
    const std::string spaces(50000, ' ');
    // Starts with a space, so ByteLevel(add_prefix_space) adds none.
    EXPECT_TRUE(gpt2.decode(gpt2.encode(spaces + "x")) == spaces + "x");
    EXPECT_TRUE(gpt2.decode(gpt2.encode("x" + spaces)) == " x" + spaces);
}

TEST(Tokenizer, RandomBytesRoundTripAndNeverCrash) {
    const Tokenizer glm = load_or_die("glm4");
    const Tokenizer split = load_or_die("splitmix");
    std::mt19937 rng(7);
    const std::string alphabet[] = {"a",
                                    " ",
                                    "\n",
                                    "\t",
                                    "\xE4\xBD\xA0",
                                    "\xF0\x9F\x98\x80",
                                    "<|user|>",
                                    "<think>",
                                    "'S",
                                    "1",
                                    ".",
                                    "|",
                                    "\xFF",
                                    "\xE4",
                                    "\xCC\x81",
                                    "\xE2\x80\x8D",
                                    "<|",
                                    "|>"};
    for (int iter = 0; iter < 2000; ++iter) {
        std::string text;
        const int n = std::uniform_int_distribution<int>(0, 40)(rng);
        for (int i = 0; i < n; ++i) {
            if (rng() % 4 == 0) {
                text += static_cast<char>(rng() & 0xFF);
            } else {
                text += alphabet[rng() % std::size(alphabet)];
            }
        }
        // GLM-4's pre-tokenizer keeps every byte: decode(encode(x)) is x made valid.
        ASSERT_EQ(glm.decode(glm.encode(text)), to_utf8_lossy(text)) << iter;
        const std::vector<int32_t> ids = split.encode(text);
        EXPECT_TRUE(is_valid_utf8(split.decode(ids)));
    }
}

TEST(Tokenizer, ConcurrentEncodeMatchesSerial) {
    const Tokenizer tok = load_or_die("glm4");
    const auto rows = read_jsonl(fixture_dir("glm4") + "/encode_cases.jsonl");
    std::vector<std::string> inputs;
    for (const auto& row : rows) inputs.push_back(base64_decode(row["in"].get<std::string>()));
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (size_t i = static_cast<size_t>(t); i < rows.size() * 2; i += 3) {
                const size_t k = i % rows.size();
                if (tok.encode(inputs[k]) != rows[k]["ids"].get<std::vector<int32_t>>()) {
                    ++mismatches[t];
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(Tokenizer, EmptyInput) {
    const Tokenizer tok = load_or_die("glm4");
    EXPECT_TRUE(tok.encode("").empty());
    EXPECT_EQ(tok.decode(std::vector<int32_t>{}), "");
}

}  // namespace
}  // namespace ag::tok
