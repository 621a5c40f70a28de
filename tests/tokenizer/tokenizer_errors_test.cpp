// Bad files must give a non-ok Status whose message names the file (and the field), never crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "tokenizer/tokenizer.h"

namespace ag::tok {
namespace {

using nlohmann::json;

json minimal() {
    return json::parse(R"({
      "normalizer": null,
      "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
      "decoder": {"type": "ByteLevel"},
      "added_tokens": [{"id": 5, "content": "<s>", "special": true}],
      "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "\u0120": 3, "\u0120a": 4},
                "merges": ["a b", ["\u0120", "a"]]}
    })");
}

void expect_error(const json& doc, ErrorCode code, const std::string& field) {
    auto tok = Tokenizer::from_json(doc.dump(), "");
    ASSERT_FALSE(tok.ok()) << doc.dump();
    EXPECT_EQ(tok.status().code(), code) << tok.status().to_string();
    EXPECT_NE(tok.status().message().find("tokenizer.json"), std::string::npos)
        << tok.status().message();
    EXPECT_NE(tok.status().message().find(field), std::string::npos) << tok.status().message();
}

TEST(TokenizerErrors, MinimalIsValid) {
    auto tok = Tokenizer::from_json(minimal().dump(), "");
    ASSERT_TRUE(tok.ok()) << tok.status().to_string();
    EXPECT_EQ(tok->encode("ab a<s>"), (std::vector<int32_t>{2, 4, 5}));
    EXPECT_EQ(tok->vocab_size(), 6);
    EXPECT_FALSE(tok->eos_token_id().has_value());
    EXPECT_EQ(tok->chat_template(), "");
}

TEST(TokenizerErrors, EmptyAffixesAreAccepted) {
    // Whisper's tokenizer.json: continuing_subword_prefix "" and end_of_word_suffix "".
    json doc = minimal();
    doc["model"]["continuing_subword_prefix"] = "";
    doc["model"]["end_of_word_suffix"] = "";
    auto tok = Tokenizer::from_json(doc.dump(), "");
    ASSERT_TRUE(tok.ok()) << tok.status().to_string();
    EXPECT_EQ(tok->encode("ab a"), (std::vector<int32_t>{2, 4}));
    doc["model"]["continuing_subword_prefix"] = "##";
    expect_error(doc, ErrorCode::kUnsupported, "model.continuing_subword_prefix");
}

TEST(TokenizerErrors, MalformedJson) {
    auto tok = Tokenizer::from_json("{\"model\": ", "");
    ASSERT_FALSE(tok.ok());
    EXPECT_EQ(tok.status().code(), ErrorCode::kParseError);
    EXPECT_NE(tok.status().message().find("tokenizer.json"), std::string::npos);
    auto not_object = Tokenizer::from_json("[1, 2]", "");
    EXPECT_FALSE(not_object.ok());
}

TEST(TokenizerErrors, MissingFields) {
    json doc = minimal();
    doc.erase("model");
    expect_error(doc, ErrorCode::kParseError, "model");
    doc = minimal();
    doc["model"].erase("vocab");
    expect_error(doc, ErrorCode::kParseError, "model.vocab");
    doc = minimal();
    doc["model"].erase("merges");
    expect_error(doc, ErrorCode::kParseError, "model.merges");
    doc = minimal();
    doc["model"]["merges"] = json::array({"a c"});
    expect_error(doc, ErrorCode::kParseError, "model.merges[0]");
    doc = minimal();
    doc["model"]["merges"] = json::array({"abc"});
    expect_error(doc, ErrorCode::kParseError, "model.merges[0]");
    doc = minimal();
    doc["model"]["vocab"]["x"] = "seven";
    expect_error(doc, ErrorCode::kParseError, "model.vocab");
    doc = minimal();
    doc["added_tokens"][0].erase("content");
    expect_error(doc, ErrorCode::kParseError, "added_tokens[0].content");
}

TEST(TokenizerErrors, UnsupportedComponents) {
    json doc = minimal();
    doc["model"]["type"] = "WordPiece";
    expect_error(doc, ErrorCode::kUnsupported, "model.type");
    doc = minimal();
    doc["pre_tokenizer"] = json::parse(R"({"type": "Metaspace"})");
    expect_error(doc, ErrorCode::kUnsupported, "pre_tokenizer.type");
    doc = minimal();
    doc["pre_tokenizer"] = json::parse(
        R"({"type": "Sequence", "pretokenizers": [{"type": "ByteLevel"}, {"type": "Digits"}]})");
    expect_error(doc, ErrorCode::kUnsupported, "pre_tokenizer.pretokenizers[1].type");
    doc = minimal();
    doc["normalizer"] = json::parse(R"({"type": "NFC"})");
    expect_error(doc, ErrorCode::kUnsupported, "normalizer");
    doc = minimal();
    doc["decoder"] = json::parse(R"({"type": "WordPiece"})");
    expect_error(doc, ErrorCode::kUnsupported, "decoder");
    doc = minimal();
    doc["model"]["byte_fallback"] = true;
    expect_error(doc, ErrorCode::kUnsupported, "model.byte_fallback");
    doc = minimal();
    doc["pre_tokenizer"] = json::parse(
        R"({"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated"})");
    expect_error(doc, ErrorCode::kParseError, "pre_tokenizer.pattern");
    doc = minimal();
    doc["pre_tokenizer"] =
        json::parse(R"({"type": "Split", "pattern": {"String": "x"}, "behavior": "Sideways"})");
    expect_error(doc, ErrorCode::kUnsupported, "pre_tokenizer.behavior");
}

TEST(TokenizerErrors, BadConfig) {
    auto tok = Tokenizer::from_json(minimal().dump(), "{not json");
    ASSERT_FALSE(tok.ok());
    EXPECT_NE(tok.status().message().find("tokenizer_config.json"), std::string::npos);
    auto ok = Tokenizer::from_json(minimal().dump(),
                                   R"({"eos_token": {"content": "<s>"}, "pad_token": "b",
                                       "chat_template": [{"name": "default", "template": "T"}]})");
    ASSERT_TRUE(ok.ok()) << ok.status().to_string();
    EXPECT_EQ(ok->eos_token_id(), 5);
    EXPECT_EQ(ok->pad_token_id(), 1);
    EXPECT_EQ(ok->chat_template(), "T");
}

TEST(TokenizerErrors, NonexistentDirectory) {
    auto tok = Tokenizer::load("/nonexistent/tokenizer/dir");
    ASSERT_FALSE(tok.ok());
    EXPECT_EQ(tok.status().code(), ErrorCode::kNotFound);
    EXPECT_NE(tok.status().message().find("/nonexistent/tokenizer/dir/tokenizer.json"),
              std::string::npos)
        << tok.status().message();
}

TEST(TokenizerErrors, LoadErrorNamesPath) {
    const std::string dir = ::testing::TempDir() + "/ag_tok_bad";
    std::filesystem::create_directories(dir);
    {
        std::ofstream(dir + "/tokenizer.json") << minimal().dump();
        std::ofstream(dir + "/tokenizer_config.json") << "[broken";
    }
    auto tok = Tokenizer::load(dir);
    ASSERT_FALSE(tok.ok());
    EXPECT_NE(tok.status().message().find(dir + "/tokenizer_config.json"), std::string::npos)
        << tok.status().message();
    { std::ofstream(dir + "/tokenizer.json") << "{\"model\": {\"type\": \"BPE\"}}"; }
    tok = Tokenizer::load(dir);
    ASSERT_FALSE(tok.ok());
    EXPECT_NE(tok.status().message().find(dir + "/tokenizer.json: model.vocab"), std::string::npos)
        << tok.status().message();
}

}  // namespace
}  // namespace ag::tok
