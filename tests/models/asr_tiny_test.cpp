// Transcriber on the tiny random Whisper goldens (HF f32 and CTranslate2 float16) with the tiny
// Whisper-shaped tokenizer: loading and special tokens, the decoding invariants (SOT prompt,
// suppression, timestamp rules, seeking), language detection, determinism, threads, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <thread>

#include "asr/logit_filters.h"
#include "asr/segmenter.h"
#include "asr/transcriber.h"
#include "asr/window_decoder.h"
#include "asr_tiny_dir.h"

namespace ag::asr {
namespace {

namespace fs = std::filesystem;

// A deterministic non-trivial log-mel [80, n_frames].
std::vector<float> mel(int64_t n_frames) {
    std::vector<float> m(static_cast<size_t>(80 * n_frames));
    for (int64_t c = 0; c < 80; ++c) {
        for (int64_t t = 0; t < n_frames; ++t) {
            m[static_cast<size_t>(c * n_frames + t)] = static_cast<float>(
                0.5 * std::sin(0.013 * double(t + 1) * double(c + 1)) + 0.25 * std::cos(0.37 * double(c)));
        }
    }
    return m;
}

class AsrTiny : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        auto t = Transcriber::load(tiny_model_dir(GetParam()).string());
        ASSERT_TRUE(t.ok()) << t.status().to_string();
        tr_ = std::move(t).value();
    }
    TranscribeOptions greedy() const {
        TranscribeOptions o;
        o.language = "en";
        o.temperatures = {0.0f};
        o.no_speech_threshold = std::nanf("");
        return o;
    }
    std::unique_ptr<Transcriber> tr_;
};

TEST_P(AsrTiny, LoadsSpecialTokensAndSuppressLists) {
    const WhisperTokens& t = tr_->special_tokens();
    EXPECT_EQ(t.sot, 401);
    EXPECT_EQ(t.eot, 400);
    EXPECT_EQ(t.timestamp_begin, 411);
    EXPECT_EQ(t.timestamp_end, 511);
    EXPECT_TRUE(tr_->multilingual());
    // No checkpoint list: openai's non-speech symbols, plus the always-suppressed specials.
    const std::vector<int32_t> minus_one = {-1};
    const auto s = tr_->suppress_ids(minus_one);
    for (int32_t id : {32, 40, 41, 226, 405, 406, 401, 408, 407, 409}) {
        EXPECT_NE(std::find(s.begin(), s.end(), id), s.end()) << id;
    }
    EXPECT_EQ(std::find(s.begin(), s.end(), 400), s.end());  // EOT is never in it
    const std::vector<int32_t> own = {5, 7};
    const auto s2 = tr_->suppress_ids(own);
    EXPECT_EQ(s2, (std::vector<int32_t>{5, 7, 401, 405, 406, 407, 408, 409}));
    EXPECT_EQ(tr_->suppress_begin_ids(), (std::vector<int32_t>{32, 400}));  // " " and EOT
}

TEST_P(AsrTiny, GreedyWindowsSeekByTheWholeWindowWithoutTimestamps) {
    const int64_t n_frames = 4501;  // 45 s: windows at 0 and 3000 (1500 frames)
    TranscribeOptions o = greedy();
    // random weights emit timestamp tokens even in <|notimestamps|> mode (not suppressed, as
    // in faster-whisper); suppress them here to see the plain whole-window seeking
    for (int32_t id = 411; id < 512; ++id) o.suppress_tokens.push_back(id);
    auto r = tr_->transcribe_mel(mel(n_frames), n_frames, o);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->windows, 2);
    EXPECT_EQ(r->language, "en");
    EXPECT_DOUBLE_EQ(r->duration, 45.0);
    for (const Segment& s : r->segments) {
        EXPECT_TRUE(s.seek == 0 || s.seek == 3000) << s.seek;
        EXPECT_DOUBLE_EQ(s.start, s.seek * 0.01);
        EXPECT_DOUBLE_EQ(s.end, s.start + (s.seek == 0 ? 30.0 : 15.0));
        EXPECT_FALSE(s.tokens.empty());
        // max_target_positions 64, prompt of 4: at most min(32, 64 - 3) tokens
        EXPECT_LE(s.tokens.size(), 32u);
        for (int32_t id : s.tokens) EXPECT_NE(id, 400);
        EXPECT_EQ(s.temperature, 0.0f);
    }
    auto again = tr_->transcribe_mel(mel(n_frames), n_frames, o);
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->segments.size(), r->segments.size());
    for (size_t i = 0; i < r->segments.size(); ++i) {
        EXPECT_EQ(again->segments[i].tokens, r->segments[i].tokens);
    }
    EXPECT_EQ(again->text, r->text);
}

TEST_P(AsrTiny, FirstTokenFollowsSuppressionAndPromptIsTheSotSequence) {
    // Decode one window directly: the first token is neither blank (" ", EOT) nor suppressed.
    const auto& m = tr_->model();
    const int64_t w = m.config().n_frames();
    auto enc = m.encode(mel(w));
    ASSERT_TRUE(enc.ok());
    const WhisperTokens& t = tr_->special_tokens();
    const auto prompt = build_prompt(t, {}, t.language_id("en"), t.transcribe, false, 64);
    EXPECT_EQ(prompt, (std::vector<int32_t>{401, 402, 406, 410}));
    WindowOptions wo;
    wo.max_length = 64;
    const std::vector<int32_t> minus_one = {-1};
    wo.suppress = tr_->suppress_ids(minus_one);
    wo.suppress_begin = tr_->suppress_begin_ids();
    std::mt19937_64 rng(1);
    auto r = decode_window(m, tr_->tokenizer(), t, *enc, prompt, wo, rng);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    ASSERT_FALSE(r->tokens.empty());
    EXPECT_NE(r->tokens[0], 32);
    for (int32_t id : r->tokens) {
        EXPECT_EQ(std::find(wo.suppress.begin(), wo.suppress.end(), id), wo.suppress.end()) << id;
    }
    EXPECT_GE(r->no_speech_prob, 0.0f);
    EXPECT_LE(r->no_speech_prob, 1.0f);
    // The same by hand: raw greedy over the filtered logits.
    auto st = m.start_decoder(*enc);
    ASSERT_TRUE(st.ok());
    std::vector<float> logits(static_cast<size_t>(m.config().vocab_size));
    ASSERT_TRUE(m.decode(prompt, *st, logits.data()).ok());
    suppress_tokens(logits, wo.suppress);
    suppress_tokens(logits, wo.suppress_begin);
    EXPECT_EQ(std::max_element(logits.begin(), logits.end()) - logits.begin(), r->tokens[0]);
}

TEST_P(AsrTiny, TimestampModeObeysTheRulesAndSeeksByTheLastTimestamp) {
    TranscribeOptions o = greedy();
    o.timestamps = true;
    const int64_t n_frames = 6001;
    auto r = tr_->transcribe_mel(mel(n_frames), n_frames, o);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const int32_t tb = tr_->special_tokens().timestamp_begin;
    int64_t last_seek = -1;
    for (const Segment& s : r->segments) {
        ASSERT_FALSE(s.tokens.empty());
        EXPECT_GE(s.seek, last_seek);
        last_seek = s.seek;
        EXPECT_GE(s.start, s.seek * 0.01 - 1e-9);
        EXPECT_LE(s.start, s.end);
        int32_t prev_ts = -1;
        for (int32_t id : s.tokens) {
            EXPECT_NE(id, 410);  // <|notimestamps|> never sampled
            if (id >= tb) {
                EXPECT_GE(id, prev_ts);
                prev_ts = id;
            }
        }
    }
    if (!r->segments.empty() && r->segments[0].seek == 0) {
        const int32_t first = r->segments[0].tokens[0];
        EXPECT_GE(first, tb);
        EXPECT_LE(first, tb + 50);  // max_initial_timestamp 1.0 s
    }
}

TEST_P(AsrTiny, DetectsLanguageFromTheSotLogits) {
    TranscribeOptions o = greedy();
    o.language.clear();
    const int64_t n_frames = 1001;
    auto r = tr_->transcribe_mel(mel(n_frames), n_frames, o);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    // By hand: features[:, :3000] zero-padded, logits after <|startoftranscript|>.
    const auto& m = tr_->model();
    std::vector<float> win(static_cast<size_t>(80 * 3000), 0.0f);
    const auto full = mel(n_frames);
    for (int64_t c = 0; c < 80; ++c) {
        std::copy_n(full.begin() + c * n_frames, n_frames, win.begin() + c * 3000);
    }
    auto enc = m.encode(win);
    ASSERT_TRUE(enc.ok());
    auto st = m.start_decoder(*enc);
    ASSERT_TRUE(st.ok());
    std::vector<float> logits(512);
    const int32_t sot = 401;
    ASSERT_TRUE(m.decode(std::span<const int32_t>(&sot, 1), *st, logits.data()).ok());
    const auto& t = tr_->special_tokens();
    const LanguageProbs lp = language_probs(logits, t.lang_ids);
    EXPECT_EQ(r->language, t.lang_codes[lp.best]);
    EXPECT_NEAR(r->language_probability, lp.probs[lp.best], 1e-6);
    auto probs = tr_->detect_language(win);
    ASSERT_TRUE(probs.ok());
    EXPECT_EQ(probs->front().first, r->language);
    EXPECT_GE(r->windows, 2);  // detection window + the (shorter) first window, separately
}

TEST_P(AsrTiny, SamplingIsSeededAndConcurrentCallsAgree) {
    TranscribeOptions o = greedy();
    o.temperatures = {0.7f};
    o.best_of = 2;
    o.seed = 11;
    const int64_t n_frames = 801;
    const auto m = mel(n_frames);
    auto a = tr_->transcribe_mel(m, n_frames, o);
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    std::vector<Result<Transcript>> outs(2, Status(ErrorCode::kInternal, "not run"));
    std::thread t1([&] { outs[0] = tr_->transcribe_mel(m, n_frames, o); });
    std::thread t2([&] { outs[1] = tr_->transcribe_mel(m, n_frames, o); });
    t1.join();
    t2.join();
    for (auto& r : outs) {
        ASSERT_TRUE(r.ok()) << r.status().to_string();
        EXPECT_EQ(r->text, a->text);
        ASSERT_EQ(r->segments.size(), a->segments.size());
        for (size_t i = 0; i < a->segments.size(); ++i) EXPECT_EQ(r->segments[i].tokens, a->segments[i].tokens);
    }
}

TEST_P(AsrTiny, RawSamplesGoThroughTheLogMel) {
    std::vector<float> pcm(32000);
    for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = 0.3f * std::sin(0.05f * static_cast<float>(i));
    auto r = tr_->transcribe(pcm, greedy());
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_DOUBLE_EQ(r->duration, 2.0);
    EXPECT_GE(r->windows, 1);  // random weights may emit timestamp pairs: shorter seeks
    EXPECT_GT(r->mel_seconds, 0.0);
}

TEST_P(AsrTiny, BadInputsAreClearErrors) {
    auto empty = tr_->transcribe({}, greedy());
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(empty.status().message().find("empty"), std::string::npos);
    auto wrong = tr_->transcribe_mel(mel(100), 99, greedy());
    EXPECT_FALSE(wrong.ok());
    TranscribeOptions o = greedy();
    o.language = "fr";
    auto lang = tr_->transcribe_mel(mel(100), 100, o);
    ASSERT_FALSE(lang.ok());
    EXPECT_NE(lang.status().message().find("'fr'"), std::string::npos);
    o = greedy();
    o.task = "dance";
    EXPECT_FALSE(tr_->transcribe_mel(mel(100), 100, o).ok());
    o = greedy();
    o.temperatures.clear();
    EXPECT_FALSE(tr_->transcribe_mel(mel(100), 100, o).ok());
    o = greedy();
    o.max_new_tokens = 100;  // 4 + 100 > 64 positions
    auto too_long = tr_->transcribe_mel(mel(100), 100, o);
    ASSERT_FALSE(too_long.ok());
    EXPECT_EQ(too_long.status().code(), ErrorCode::kOutOfRange);
    // Shorter than one frame of content: nothing to decode, no error.
    auto tiny = tr_->transcribe_mel(mel(1), 1, greedy());
    ASSERT_TRUE(tiny.ok());
    EXPECT_TRUE(tiny->segments.empty());
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, AsrTiny,
                         ::testing::Values("whisper_tiny80_f32", "ct2_whisper_tiny80/float16"),
                         [](const auto& p) {
                             std::string n = p.param;
                             for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                             return n;
                         });

TEST(AsrLoad, MissingTokenizerIsAClearError) {
    const fs::path dir = fs::temp_directory_path() / ("ag_asr_notok_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    for (const char* f : {"config.json", "generation_config.json", "model.safetensors"}) {
        if (!fs::exists(dir / f)) fs::create_symlink(fs::absolute("tests/golden/models/whisper_tiny80_f32") / f, dir / f);
    }
    auto t = Transcriber::load(dir.string());
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), ErrorCode::kNotFound);
    EXPECT_NE(t.status().message().find("tokenizer.json"), std::string::npos);
}

}  // namespace
}  // namespace ag::asr
