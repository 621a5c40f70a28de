// config.json parsing: the three GLM-4.1V layouts parse to the same values (pitfall 22), and
// GLM-4-0414's layout; bad configs give errors naming the field.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "model/model.h"
#include "model/model_config.h"

namespace ag::model {
namespace {

using nlohmann::json;

json load(const std::string& name) {
    std::ifstream in("tests/fixtures/configs/" + name);
    EXPECT_TRUE(in.good()) << name;
    return json::parse(in);
}

void expect_glm41v(const ModelConfig& c) {
    EXPECT_EQ(c.architecture, "Glm4vForConditionalGeneration");
    EXPECT_EQ(c.text.vocab_size, 151552);
    EXPECT_EQ(c.text.hidden_size, 4096);
    EXPECT_EQ(c.text.intermediate_size, 13696);
    EXPECT_EQ(c.text.n_layer, 40);
    EXPECT_EQ(c.text.n_head, 32);
    EXPECT_EQ(c.text.n_head_kv, 2);
    EXPECT_EQ(c.text.head_dim, 128);
    EXPECT_EQ(c.text.rotary_dim, 64);
    EXPECT_EQ(c.text.mrope_section, (std::vector<int64_t>{8, 12, 12}));
    EXPECT_DOUBLE_EQ(c.text.rope_theta, 10000.0);
    EXPECT_FLOAT_EQ(c.text.rms_norm_eps, 1e-5f);
    EXPECT_FALSE(c.text.tie_word_embeddings);
    EXPECT_EQ(c.mm.image_token_id, 151343);
    EXPECT_EQ(c.mm.image_start_token_id, 151339);
    EXPECT_EQ(c.mm.image_end_token_id, 151340);
    EXPECT_EQ(c.eos_token_ids, (std::vector<int32_t>{151329, 151336, 151338, 151348}));
    EXPECT_TRUE(c.has_vision);
}

TEST(ModelConfig, ThreeGlm41vLayoutsParseIdentically) {
    for (const char* name : {"glm41v_flat.json", "glm41v_nested457.json", "glm41v_v5.json"}) {
        SCOPED_TRACE(name);
        auto c = parse_model_config(load(name), json(), name);
        ASSERT_TRUE(c.ok()) << c.status().to_string();
        expect_glm41v(*c);
    }
}

TEST(ModelConfig, Glm4_0414) {
  for (const char* name : {"glm4_0414.json", "glm4_0414_v5.json"}) {
    SCOPED_TRACE(name);
    auto c = parse_model_config(load(name), json(), name);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    EXPECT_EQ(c->architecture, "Glm4ForCausalLM");
    EXPECT_EQ(c->text.head_dim, 128);
    EXPECT_EQ(c->text.rotary_dim, 64);
    EXPECT_EQ(c->text.mrope_section, (std::vector<int64_t>{32}));
    EXPECT_FALSE(c->has_vision);
  }
}

TEST(ModelConfig, GenerationConfigEosWins) {
    json gen = {{"eos_token_id", 7}};
    auto c = parse_model_config(load("glm41v_v5.json"), gen, "x");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->eos_token_ids, (std::vector<int32_t>{7}));
}

TEST(ModelConfig, ErrorsNameTheField) {
    json cfg = load("glm41v_v5.json");
    cfg["text_config"].erase("hidden_size");
    cfg.erase("hidden_size");
    auto c = parse_model_config(cfg, json(), "my/config.json");
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.status().message().find("my/config.json"), std::string::npos);
    EXPECT_NE(c.status().message().find("hidden_size"), std::string::npos);

    json bad = load("glm41v_v5.json");
    bad["text_config"]["rope_parameters"]["mrope_section"] = {8, 8, 8};
    auto b = parse_model_config(bad, json(), "x");
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.status().message().find("mrope_section"), std::string::npos);

    auto na = parse_model_config(json{{"hidden_size", 4}}, json(), "x");
    ASSERT_FALSE(na.ok());
    EXPECT_NE(na.status().message().find("architectures"), std::string::npos);
}

TEST(ModelLoad, UnknownArchitectureAndMissingDir) {
    auto m = load_model("/nonexistent/model");
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find("/nonexistent/model"), std::string::npos);
}

TEST(TextPositions, AllAxesEqual) {
    auto p = text_positions(5, 3);
    EXPECT_EQ(p, (std::vector<int32_t>{5, 6, 7, 5, 6, 7, 5, 6, 7}));
}

}  // namespace
}  // namespace ag::model
