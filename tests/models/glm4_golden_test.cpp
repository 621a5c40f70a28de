// Golden tests against Hugging Face transformers: tiny random Glm4ForCausalLM and
// Glm4vForConditionalGeneration checkpoints made by tests/golden/make_golden.py, with the logits
// of every position and 32-token greedy continuations recorded from transformers.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/model.h"
#include "runtime/generator.h"

namespace ag::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kGoldenRoot = "tests/golden/models";

std::vector<std::string> golden_models() {
    std::vector<std::string> names;
    if (!fs::exists(kGoldenRoot)) return names;
    for (const auto& e : fs::directory_iterator(kGoldenRoot)) {
        if (fs::exists(e.path() / "golden.json")) names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<float> read_f32(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    EXPECT_TRUE(in.good()) << p;
    in.seekg(0, std::ios::end);
    const auto n = static_cast<size_t>(in.tellg()) / sizeof(float);
    in.seekg(0);
    std::vector<float> v(n);
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(float)));
    return v;
}

class Golden : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        dir_ = kGoldenRoot / GetParam();
        std::ifstream in(dir_ / "golden.json");
        golden_ = json::parse(in);
        auto m = load_model(dir_.string());
        ASSERT_TRUE(m.ok()) << m.status().to_string();
        model_ = std::move(m).value();
        is_f32_ = golden_.at("dtype").get<std::string>() == "float32";
        ASSERT_GE(golden_.at("cases").size(), 3u) << "golden.json has too few cases";
        for (const auto& c : golden_.at("cases")) {
            ASSERT_FALSE(c.at("ids").empty());
            ASSERT_FALSE(c.at("greedy").empty());
        }
    }
    fs::path dir_;
    json golden_;
    std::unique_ptr<Model> model_;
    bool is_f32_ = true;
};

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    float m = 0.0f;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

TEST_P(Golden, LogitsOfEveryPositionMatchTransformers) {
    const int64_t vocab = model_->config().text.vocab_size;
    for (const auto& c : golden_.at("cases")) {
        const auto ids = c.at("ids").get<std::vector<int32_t>>();
        const auto n = static_cast<int64_t>(ids.size());
        std::vector<float> logits(static_cast<size_t>(n * vocab));
        KvCache cache = model_->new_cache();
        auto pos = text_positions(0, n);
        ASSERT_TRUE(model_->forward({ids, pos, true}, cache, logits.data()).ok());
        // Our math is f32 over the stored weights, i.e. transformers with the weights upcast.
        const auto ref = read_f32(dir_ / c.at("logits_f32_file").get<std::string>());
        EXPECT_LE(max_abs_diff(logits, ref), 1e-3f) << "ids length " << n;
        if (!is_f32_) {
            // transformers running natively in bf16 rounds every activation, so it differs from
            // its own f32 run by native_vs_f32_max_abs_diff; we must be no further from it than
            // that (plus the f32 bound).
            const auto native = read_f32(dir_ / c.at("logits_file").get<std::string>());
            const float hf_gap = c.at("native_vs_f32_max_abs_diff").get<float>();
            EXPECT_LE(max_abs_diff(logits, native), hf_gap + 1e-3f) << "native, length " << n;
        }
    }
}

TEST_P(Golden, IncrementalDecodeEqualsFullForward) {
    // The KV cache path: feeding tokens one at a time gives the same last-position logits.
    const int64_t vocab = model_->config().text.vocab_size;
    const auto ids = golden_.at("cases").back().at("ids").get<std::vector<int32_t>>();
    const auto n = static_cast<int64_t>(ids.size());
    std::vector<float> full(static_cast<size_t>(n * vocab)), step(static_cast<size_t>(vocab));
    KvCache c1 = model_->new_cache(), c2 = model_->new_cache();
    auto pos = text_positions(0, n);
    ASSERT_TRUE(model_->forward({ids, pos, true}, c1, full.data()).ok());
    for (int64_t i = 0; i < n; ++i) {
        auto p = text_positions(i, 1);
        ASSERT_TRUE(model_->forward({std::span(ids).subspan(static_cast<size_t>(i), 1), p, false},
                                    c2, step.data()).ok());
        std::vector<float> row(full.begin() + i * vocab, full.begin() + (i + 1) * vocab);
        EXPECT_LE(max_abs_diff(row, step), 1e-4f) << "position " << i;
    }
}

TEST_P(Golden, GreedyContinuationMatchesTransformers) {
    for (const auto& c : golden_.at("cases")) {
        const auto ids = c.at("ids").get<std::vector<int32_t>>();
        const auto expected = c.at("greedy").get<std::vector<int32_t>>();
        runtime::GenerateOptions go;
        go.sampling.temperature = 0.0f;
        go.sampling.max_tokens = static_cast<int32_t>(expected.size());
        go.ignore_eos = true;
        auto res = runtime::generate(*model_, ids, go);
        ASSERT_TRUE(res.ok()) << res.status().to_string();
        EXPECT_EQ(res->ids, expected) << "prompt length " << ids.size();
    }
}

INSTANTIATE_TEST_SUITE_P(Models, Golden, ::testing::ValuesIn(golden_models()),
                         [](const auto& p) { return p.param; });

// The suite above is generated from what is on disk; an empty or partial list (wrong working
// directory, a golden.json lost) must fail instead of passing with no cases.
TEST(GoldenModels, EveryCommittedModelIsFound) {
    EXPECT_EQ(golden_models(),
              (std::vector<std::string>{"glm4_bf16", "glm4_f32", "glm4v_bf16", "glm4v_f32"}));
}

}  // namespace
}  // namespace ag::model
