// Whisper against Hugging Face transformers: tiny random WhisperForConditionalGeneration
// checkpoints (80 mel bins with Whisper's real 1500-frame window; 128 mel bins with scaled
// embeddings) made by tests/golden/make_whisper_golden.py, with encoder rows, decoder logits at
// every position and greedy continuations recorded from transformers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/speech_model.h"

namespace ag::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kGoldenRoot = "tests/golden/models";

std::vector<std::string> whisper_models() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(kGoldenRoot)) {
        if (e.path().filename().string().rfind("whisper_", 0) == 0) {
            names.push_back(e.path().filename().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

// The generator's formula, in double, cast to float.
std::vector<float> mel_input(int64_t n_mels, int64_t n_frames) {
    std::vector<float> m(static_cast<size_t>(n_mels * n_frames));
    for (int64_t c = 0; c < n_mels; ++c) {
        for (int64_t t = 0; t < n_frames; ++t) {
            const double v = 0.5 * std::sin(0.013 * static_cast<double>(t + 1) * static_cast<double>(c + 1)) +
                             0.25 * std::cos(0.37 * static_cast<double>(c) + 0.011 * static_cast<double>(t));
            m[static_cast<size_t>(c * n_frames + t)] = static_cast<float>(v);
        }
    }
    return m;
}

class WhisperGolden : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        dir_ = kGoldenRoot / GetParam();
        std::ifstream in(dir_ / "whisper_golden.json");
        ASSERT_TRUE(in.good()) << dir_;
        golden_ = json::parse(in);
        auto m = load_speech_model(dir_.string());
        ASSERT_TRUE(m.ok()) << m.status().to_string();
        model_ = std::move(m).value();
        const WhisperConfig& c = model_->config();
        ASSERT_EQ(c.n_frames(), golden_.at("n_frames").get<int64_t>());
        auto enc = model_->encode(mel_input(c.n_mels, c.n_frames()));
        ASSERT_TRUE(enc.ok()) << enc.status().to_string();
        enc_ = std::move(enc).value();
    }
    fs::path dir_;
    json golden_;
    std::unique_ptr<SpeechModel> model_;
    std::vector<float> enc_;
};

TEST(WhisperGoldenSet, HasBothShapes) { EXPECT_EQ(whisper_models().size(), 2u); }

TEST_P(WhisperGolden, EncoderMatchesTransformers) {
    const int64_t d = model_->config().d_model;
    ASSERT_EQ(enc_.size(), static_cast<size_t>(model_->config().max_source_positions * d));
    float worst = 0;
    for (const auto& [row, want] : golden_.at("encoder_rows").items()) {
        const int64_t r = std::stoll(row);
        for (int64_t e = 0; e < d; ++e) {
            worst = std::max(worst, std::fabs(enc_[static_cast<size_t>(r * d + e)] -
                                              want[static_cast<size_t>(e)].get<float>()));
        }
    }
    EXPECT_LT(worst, 1e-3f);
    double sum = 0, abs_sum = 0;
    for (float v : enc_) {
        sum += v;
        abs_sum += std::fabs(v);
    }
    const double want_abs = golden_.at("encoder_abs_sum").get<double>();
    EXPECT_NEAR(abs_sum, want_abs, 1e-5 * want_abs);
    EXPECT_NEAR(sum, golden_.at("encoder_sum").get<double>(), 1e-5 * want_abs);
}

TEST_P(WhisperGolden, DecoderLogitsAtEveryPosition) {
    const auto tokens = golden_.at("tokens").get<std::vector<int32_t>>();
    const auto& want = golden_.at("logits");
    const int64_t V = model_->config().vocab_size;
    auto st = model_->start_decoder(enc_);
    ASSERT_TRUE(st.ok()) << st.status().to_string();
    std::vector<float> logits(tokens.size() * static_cast<size_t>(V));
    ASSERT_TRUE(model_->decode(tokens, *st, logits.data(), true).ok());
    float worst = 0;
    for (size_t i = 0; i < tokens.size(); ++i) {
        for (int64_t v = 0; v < V; ++v) {
            worst = std::max(worst, std::fabs(logits[i * static_cast<size_t>(V) + static_cast<size_t>(v)] -
                                              want[i][static_cast<size_t>(v)].get<float>()));
        }
    }
    EXPECT_LT(worst, 1e-3f);
    // Token by token through the self-attention cache gives the same last-position logits.
    auto st2 = model_->start_decoder(enc_);
    ASSERT_TRUE(st2.ok());
    std::vector<float> last(static_cast<size_t>(V));
    for (int32_t t : tokens) ASSERT_TRUE(model_->decode({&t, 1}, *st2, last.data()).ok());
    for (int64_t v = 0; v < V; ++v) {
        EXPECT_NEAR(last[static_cast<size_t>(v)], want[tokens.size() - 1][static_cast<size_t>(v)].get<float>(), 1e-3f);
    }
}

TEST_P(WhisperGolden, GreedyContinuationIsIdentical) {
    auto tokens = golden_.at("tokens").get<std::vector<int32_t>>();
    const auto want = golden_.at("greedy").get<std::vector<int32_t>>();
    const int64_t V = model_->config().vocab_size;
    auto st = model_->start_decoder(enc_);
    ASSERT_TRUE(st.ok());
    std::vector<float> logits(static_cast<size_t>(V));
    std::vector<int32_t> got;
    std::vector<int32_t> feed = tokens;
    for (size_t k = 0; k < want.size(); ++k) {
        ASSERT_TRUE(model_->decode(feed, *st, logits.data()).ok());
        const auto best = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        got.push_back(best);
        feed = {best};
    }
    EXPECT_EQ(got, want);
}

TEST_P(WhisperGolden, BadInputsAreErrors) {
    const WhisperConfig& c = model_->config();
    EXPECT_FALSE(model_->encode(std::vector<float>(10)).ok());
    auto st = model_->start_decoder(enc_);
    ASSERT_TRUE(st.ok());
    std::vector<float> logits(static_cast<size_t>(c.vocab_size));
    const int32_t bad = static_cast<int32_t>(c.vocab_size);
    EXPECT_FALSE(model_->decode({&bad, 1}, *st, logits.data()).ok());
    std::vector<int32_t> too_long(static_cast<size_t>(c.max_target_positions + 1), 1);
    EXPECT_EQ(model_->decode(too_long, *st, logits.data()).code(), ErrorCode::kOutOfRange);
    EXPECT_FALSE(model_->start_decoder(std::vector<float>(3)).ok());
}

TEST(WhisperLoad, ChatLoaderRefusesASpeechModelClearly) {
    auto m = load_model((kGoldenRoot / "whisper_tiny80_f32").string());
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find("speech-recognition model"), std::string::npos)
        << m.status().message();
    auto s = load_speech_model((kGoldenRoot / "glm4_f32").string());
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), ErrorCode::kUnsupported);
}

INSTANTIATE_TEST_SUITE_P(Models, WhisperGolden, ::testing::ValuesIn(whisper_models()));

// CTranslate2 (faster-whisper) files of whisper_tiny80_f32 made by ct2-transformers-converter:
// the same network within the rounding of their weight types.
struct Ct2Case {
    const char* dir;
    float enc_tol, logit_tol;
};

class WhisperCt2 : public ::testing::TestWithParam<Ct2Case> {};

float max_diff_encoder(const std::vector<float>& enc, const json& golden, int64_t d) {
    float worst = 0;
    for (const auto& [row, want] : golden.at("encoder_rows").items()) {
        const int64_t r = std::stoll(row);
        for (int64_t e = 0; e < d; ++e) {
            worst = std::max(worst, std::fabs(enc[static_cast<size_t>(r * d + e)] -
                                              want[static_cast<size_t>(e)].get<float>()));
        }
    }
    return worst;
}

TEST_P(WhisperCt2, MatchesTheTransformersGoldens) {
    const Ct2Case c = GetParam();
    std::ifstream in(kGoldenRoot / "whisper_tiny80_f32" / "whisper_golden.json");
    const json golden = json::parse(in);
    auto m = load_speech_model((kGoldenRoot / "ct2_whisper_tiny80" / c.dir).string());
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    const WhisperConfig& cfg = (*m)->config();
    EXPECT_EQ(cfg.d_model, 64);
    EXPECT_EQ(cfg.encoder_layers, 2);
    EXPECT_EQ(cfg.decoder_heads, 4);
    EXPECT_EQ(cfg.vocab_size, 512);
    EXPECT_EQ(cfg.max_source_positions, 1500);
    auto enc = (*m)->encode(mel_input(cfg.n_mels, cfg.n_frames()));
    ASSERT_TRUE(enc.ok()) << enc.status().to_string();
    const float enc_diff = max_diff_encoder(*enc, golden, cfg.d_model);
    EXPECT_LT(enc_diff, c.enc_tol);
    const auto tokens = golden.at("tokens").get<std::vector<int32_t>>();
    auto st = (*m)->start_decoder(*enc);
    ASSERT_TRUE(st.ok());
    std::vector<float> logits(tokens.size() * 512);
    ASSERT_TRUE((*m)->decode(tokens, *st, logits.data(), true).ok());
    float worst = 0;
    for (size_t i = 0; i < tokens.size(); ++i) {
        for (size_t v = 0; v < 512; ++v) {
            worst = std::max(worst, std::fabs(logits[i * 512 + v] - golden.at("logits")[i][v].get<float>()));
        }
    }
    EXPECT_LT(worst, c.logit_tol);
    std::printf("[ct2 %s] max |encoder - transformers| %.2e, max |logit - transformers| %.2e\n",
                c.dir, enc_diff, worst);
}

INSTANTIATE_TEST_SUITE_P(Formats, WhisperCt2,
                         ::testing::Values(Ct2Case{"float16", 1e-2f, 2e-2f},
                                           Ct2Case{"int8", 2e-1f, 4e-1f}));

std::vector<uint8_t> read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::vector<uint8_t>& b, size_t from, size_t to) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data() + from), static_cast<std::streamsize>(to - from));
}

TEST(WhisperCt2Files, PartsTruncationAndBadHeadersAreClear) {
    const fs::path src = kGoldenRoot / "ct2_whisper_tiny80" / "float16";
    const auto bytes = read_bytes(src / "model.bin");
    ASSERT_GT(bytes.size(), 1000u);
    const fs::path tmp = fs::temp_directory_path() / "ag_ct2_parts_test";
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    fs::copy_file(src / "config.json", tmp / "config.json");
    // The PyPI packages' split: model.bin.part1 + model.bin.part2, concatenated in order.
    const size_t half = bytes.size() / 2;
    write_bytes(tmp / "model.bin.part1", bytes, 0, half);
    write_bytes(tmp / "model.bin.part2", bytes, half, bytes.size());
    EXPECT_TRUE(load_speech_model(tmp.string()).ok());
    // A missing second part: truncated, and the message says so.
    fs::remove(tmp / "model.bin.part2");
    auto r = load_speech_model(tmp.string());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().message();
    // Parts in the wrong order.
    write_bytes(tmp / "model.bin.part1", bytes, half, bytes.size());
    write_bytes(tmp / "model.bin.part2", bytes, 0, half);
    EXPECT_FALSE(load_speech_model(tmp.string()).ok());
    // No weights at all.
    fs::remove(tmp / "model.bin.part1");
    fs::remove(tmp / "model.bin.part2");
    r = load_speech_model(tmp.string());
    EXPECT_FALSE(r.ok());
    // An unknown spec name (same length, so the rest parses).
    auto other = bytes;
    const std::string spec = "WhisperSpec";
    auto it = std::search(other.begin(), other.end(), spec.begin(), spec.end());
    ASSERT_NE(it, other.end());
    *(it + 7) = 'X';
    write_bytes(tmp / "model.bin", other, 0, other.size());
    r = load_speech_model(tmp.string());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported);
    EXPECT_NE(r.status().message().find("WhisperXpec"), std::string::npos) << r.status().message();
    fs::remove_all(tmp);
}

}  // namespace
}  // namespace ag::model
