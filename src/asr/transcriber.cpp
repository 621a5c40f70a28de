#include "asr/transcriber.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <mutex>
#include <set>

#include "asr/segmenter.h"
#include "asr/window_decoder.h"
#include "audio/audio.h"
#include "base/log.h"
#include "base/thread_pool.h"

namespace ag::asr {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// An integer array field of the first object that has one (null / missing / other: empty).
std::optional<std::vector<int32_t>> int_list(std::initializer_list<const nlohmann::json*> objs,
                                             std::initializer_list<const char*> keys) {
    for (const nlohmann::json* o : objs) {
        if (o == nullptr || !o->is_object()) continue;
        for (const char* k : keys) {
            auto it = o->find(k);
            if (it == o->end() || !it->is_array()) continue;
            std::vector<int32_t> v;
            for (const auto& x : *it) {
                if (x.is_number_integer()) v.push_back(x.get<int32_t>());
            }
            return v;
        }
    }
    return std::nullopt;
}

nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    if (!in) return {};
    auto j = nlohmann::json::parse(in, nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
}

}  // namespace

// Kernels run on the calling thread's ThreadPool, which takes one parallel_for at a time. A
// call whose pool another call of this Transcriber is using gets a private pool of the same
// size for its duration, so concurrent transcribe calls never share one.
class PoolLease {
public:
    PoolLease(std::mutex& mu, std::set<ThreadPool*>& busy) : mu_(mu), busy_(busy) {
        ThreadPool* cur = &ThreadPool::global();
        std::lock_guard<std::mutex> lock(mu_);
        if (busy_.insert(cur).second) {
            held_ = cur;
            return;
        }
        prev_ = cur;
        own_ = std::make_unique<ThreadPool>(cur->n_threads());
        ThreadPool::bind_current(own_.get());
    }
    ~PoolLease() {
        if (own_) ThreadPool::bind_current(prev_);
        std::lock_guard<std::mutex> lock(mu_);
        if (held_ != nullptr) busy_.erase(held_);
    }
    PoolLease(const PoolLease&) = delete;
    PoolLease& operator=(const PoolLease&) = delete;

private:
    std::mutex& mu_;
    std::set<ThreadPool*>& busy_;
    ThreadPool* held_ = nullptr;
    ThreadPool* prev_ = nullptr;
    std::unique_ptr<ThreadPool> own_;
};

struct Transcriber::Impl {
    mutable std::mutex pools_mu;
    mutable std::set<ThreadPool*> pools_busy;
    std::unique_ptr<model::SpeechModel> model;
    std::optional<tok::Tokenizer> tk;
    WhisperTokens t;
    std::vector<int32_t> checkpoint_suppress;  // the {-1} list
    std::vector<int32_t> suppress_begin;

    Result<Transcript> run(std::span<const float> mel, int64_t n_frames, double duration,
                           double mel_seconds, const TranscribeOptions& opt,
                           const std::function<void(const Segment&)>& on_segment) const;
    // [n_mels, window] from frames [seek, seek + size) of mel [n_mels, n_frames], zero-padded
    // (faster-whisper's pad_or_trim of the normalized features).
    std::vector<float> window(std::span<const float> mel, int64_t n_frames, int64_t seek,
                              int64_t size) const;
    // Language probabilities (sorted) of one window; `enc` receives the encoder output.
    Result<std::vector<std::pair<std::string, float>>> detect(std::span<const float> win,
                                                              std::vector<float>& enc,
                                                              double& enc_s, double& dec_s) const;
    Status check(const TranscribeOptions& opt) const;
    std::vector<int32_t> suppress_list(std::span<const int32_t> suppress_tokens) const;
};

Transcriber::Transcriber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transcriber::~Transcriber() = default;
const model::SpeechModel& Transcriber::model() const { return *impl_->model; }
const tok::Tokenizer& Transcriber::tokenizer() const { return *impl_->tk; }
bool Transcriber::multilingual() const { return impl_->t.multilingual(); }
const WhisperTokens& Transcriber::special_tokens() const { return impl_->t; }
const std::vector<int32_t>& Transcriber::suppress_begin_ids() const { return impl_->suppress_begin; }

std::vector<int32_t> Transcriber::suppress_ids(std::span<const int32_t> suppress_tokens) const {
    return impl_->suppress_list(suppress_tokens);
}

std::vector<int32_t> Transcriber::Impl::suppress_list(std::span<const int32_t> suppress_tokens) const {
    std::set<int32_t> s;
    for (int32_t id : suppress_tokens) {
        if (id >= 0) s.insert(id);
        if (id == -1) s.insert(checkpoint_suppress.begin(), checkpoint_suppress.end());
    }
    for (int32_t id : {t.transcribe, t.translate, t.sot, t.sot_prev, t.sot_lm, t.no_speech}) {
        if (id >= 0) s.insert(id);
    }
    return {s.begin(), s.end()};
}

Result<std::unique_ptr<Transcriber>> Transcriber::load(const std::string& dir,
                                                       const model::LoadOptions& opts) {
    auto m = model::load_speech_model(dir, opts);
    if (!m.ok()) return m.status();
    auto impl = std::make_unique<Impl>();
    impl->model = std::move(m).value();
    if (!std::filesystem::exists(dir + "/tokenizer.json")) {
        return Status(ErrorCode::kNotFound, dir + ": no tokenizer.json (a Whisper tokenizer is "
                                                  "needed next to the weights)");
    }
    auto tk = tok::Tokenizer::load(dir);
    if (!tk.ok()) return tk.status();
    impl->tk = std::move(tk).value();
    // CT2 dirs: generation_config() is config.json (suppress_ids, suppress_ids_begin, lang_ids);
    // HF dirs: generation_config.json, then config.json (suppress_tokens, begin_suppress_tokens).
    const nlohmann::json& gen = impl->model->generation_config();
    const nlohmann::json cfg = read_json(dir + "/config.json");
    const nlohmann::json* lang = gen.is_object() && gen.contains("lang_ids") ? &gen["lang_ids"] : nullptr;
    auto t = resolve_whisper_tokens(*impl->tk, impl->model->config().vocab_size,
                                    lang ? *lang : nlohmann::json());
    if (!t.ok()) return Status(t.status().code(), dir + ": " + t.status().message());
    impl->t = std::move(t).value();
    impl->checkpoint_suppress = int_list({&gen, &cfg}, {"suppress_ids", "suppress_tokens"})
                                    .value_or(std::vector<int32_t>());
    if (impl->checkpoint_suppress.empty()) impl->checkpoint_suppress = non_speech_tokens(*impl->tk);
    if (auto b = int_list({&gen, &cfg}, {"suppress_ids_begin", "begin_suppress_tokens"}); b && !b->empty()) {
        impl->suppress_begin = *b;
    } else {
        impl->suppress_begin = impl->tk->encode(" ");
        impl->suppress_begin.push_back(impl->t.eot);
    }
    return std::unique_ptr<Transcriber>(new Transcriber(std::move(impl)));
}

std::vector<float> Transcriber::Impl::window(std::span<const float> mel, int64_t n_frames,
                                             int64_t seek, int64_t size) const {
    const int64_t n_mels = model->config().n_mels, w = model->config().n_frames();
    std::vector<float> out(static_cast<size_t>(n_mels * w), 0.0f);
    size = std::min({size, w, n_frames - seek});
    for (int64_t c = 0; c < n_mels && size > 0; ++c) {
        const float* src = mel.data() + c * n_frames + seek;
        std::copy(src, src + size, out.data() + c * w);
    }
    return out;
}

Result<std::vector<std::pair<std::string, float>>> Transcriber::Impl::detect(
    std::span<const float> win, std::vector<float>& enc_out, double& enc_s, double& dec_s) const {
    if (!t.multilingual()) {
        return Status(ErrorCode::kInvalidArgument, "language detection needs a multilingual model");
    }
    auto t0 = Clock::now();
    auto enc = model->encode(win);
    if (!enc.ok()) return enc.status();
    enc_s += seconds_since(t0);
    t0 = Clock::now();
    auto st = model->start_decoder(*enc);
    if (!st.ok()) return st.status();
    std::vector<float> logits(static_cast<size_t>(model->config().vocab_size));
    AG_RETURN_IF_ERROR(model->decode(std::span<const int32_t>(&t.sot, 1), *st, logits.data()));
    dec_s += seconds_since(t0);
    const LanguageProbs lp = language_probs(logits, t.lang_ids);
    std::vector<std::pair<std::string, float>> out;
    for (size_t i = 0; i < t.lang_ids.size(); ++i) out.emplace_back(t.lang_codes[i], lp.probs[i]);
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    enc_out = std::move(enc).value();
    return out;
}

Result<std::vector<std::pair<std::string, float>>> Transcriber::detect_language(
    std::span<const float> window_mel) const {
    const auto& c = impl_->model->config();
    if (static_cast<int64_t>(window_mel.size()) != c.n_mels * c.n_frames()) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("detect_language: mel has {} values, expected {}x{}",
                                  window_mel.size(), c.n_mels, c.n_frames()));
    }
    double e = 0, d = 0;
    std::vector<float> enc;
    const PoolLease lease(impl_->pools_mu, impl_->pools_busy);
    return impl_->detect(window_mel, enc, e, d);
}

Result<Transcript> Transcriber::transcribe(std::span<const float> samples16k,
                                           const TranscribeOptions& opt,
                                           const std::function<void(const Segment&)>& on_segment) const {
    if (samples16k.empty()) return Status(ErrorCode::kInvalidArgument, "the audio is empty (0 samples)");
    const auto t0 = Clock::now();
    const audio::LogMel mel = audio::log_mel(samples16k, static_cast<int>(impl_->model->config().n_mels),
                                             audio::kWhisperHop);
    const double mel_s = seconds_since(t0);
    return impl_->run(mel.data, mel.n_frames, static_cast<double>(samples16k.size()) / audio::kWhisperSampleRate,
                      mel_s, opt, on_segment);
}

Result<Transcript> Transcriber::transcribe_mel(std::span<const float> mel, int64_t n_frames,
                                               const TranscribeOptions& opt,
                                               const std::function<void(const Segment&)>& on_segment) const {
    const int64_t n_mels = impl_->model->config().n_mels;
    if (n_frames <= 0 || static_cast<int64_t>(mel.size()) != n_mels * n_frames) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("mel has {} values, expected {} mel bins x {} frames (> 0)",
                                  mel.size(), n_mels, n_frames));
    }
    return impl_->run(mel, n_frames, static_cast<double>(n_frames - 1) * kTimePerFrame, 0.0, opt,
                      on_segment);
}

Status Transcriber::Impl::check(const TranscribeOptions& opt) const {
    if (opt.task != "transcribe" && opt.task != "translate") {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("task '{}': expected transcribe or translate", opt.task));
    }
    if (opt.temperatures.empty()) {
        return Status(ErrorCode::kInvalidArgument, "temperatures: at least one is needed (0 = greedy)");
    }
    for (float x : opt.temperatures) {
        if (!(x >= 0.0f) || !std::isfinite(x)) {
            return Status(ErrorCode::kInvalidArgument, fmt::format("temperature {} is not >= 0", x));
        }
    }
    if (opt.best_of < 1) return Status(ErrorCode::kInvalidArgument, "best_of must be >= 1");
    if (opt.max_new_tokens < 0) return Status(ErrorCode::kInvalidArgument, "max_new_tokens must be >= 0");
    if (!opt.language.empty() && t.multilingual() && t.language_id(opt.language) < 0) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("unknown language '{}' (this model knows {})", opt.language,
                                  fmt::join(t.lang_codes, ", ")));
    }
    return {};
}

Result<Transcript> Transcriber::Impl::run(std::span<const float> mel, int64_t n_frames,
                                          double duration, double mel_seconds,
                                          const TranscribeOptions& opt,
                                          const std::function<void(const Segment&)>& on_segment) const {
    AG_RETURN_IF_ERROR(check(opt));
    const PoolLease lease(pools_mu, pools_busy);
    const model::WhisperConfig& c = model->config();
    const int64_t w = c.n_frames();
    // faster-whisper: the features' last frame (from the 160 padding samples) is not content.
    const int64_t content_frames = n_frames - 1;
    Transcript out;
    out.duration = duration;
    out.mel_seconds = mel_seconds;
    std::vector<float> first_enc;  // the detection window's encoder output, reused if equal
    std::string language = opt.language;
    if (language.empty()) {
        if (!t.multilingual()) {
            language = "en";
            out.language_probability = 1;
        } else {
            // faster-whisper detects on features[:, :3000] (the last frame included).
            auto probs = detect(window(mel, n_frames, 0, w), first_enc, out.encoder_seconds,
                                out.decoder_seconds);
            if (!probs.ok()) return probs.status();
            ++out.windows;
            language = probs->front().first;
            out.language_probability = probs->front().second;
            if (content_frames < w) first_enc.clear();  // the first window differs (fewer frames)
        }
    } else {
        if (!t.multilingual() && language != "en") {
            log::warn("the model is English-only; language '{}' replaced by 'en'", language);
            language = "en";
        }
        out.language_probability = 1;
    }
    out.language = language;
    const int32_t lang_id = t.multilingual() ? t.language_id(language) : -1;
    const int32_t task_id = t.multilingual() ? (opt.task == "translate" ? t.translate : t.transcribe) : -1;

    WindowOptions wo;
    wo.temperatures = opt.temperatures;
    wo.best_of = opt.best_of;
    wo.compression_ratio_threshold = opt.compression_ratio_threshold;
    wo.logprob_threshold = opt.logprob_threshold;
    wo.no_speech_threshold = opt.no_speech_threshold;
    wo.timestamps = opt.timestamps;
    wo.cancel = opt.cancel;
    // faster-whisper: an empty suppress_tokens list suppresses nothing (not even the specials).
    if (!opt.suppress_tokens.empty()) wo.suppress = suppress_list(opt.suppress_tokens);
    if (opt.suppress_blank) wo.suppress_begin = suppress_begin;
    wo.rules = {t.eot, t.no_timestamps, t.timestamp_begin, t.timestamp_end,
                t.timestamp_begin + static_cast<int32_t>(std::lround(opt.max_initial_timestamp / kTimePrecision))};

    std::vector<int32_t> all_tokens;
    if (!opt.initial_prompt.empty()) {
        all_tokens = tk->encode(" " + std::string(strip(opt.initial_prompt)));
    }
    size_t prompt_reset_since = 0;
    std::mt19937_64 rng(opt.seed);
    int64_t seek = 0, idx = 0;
    while (seek < content_frames) {
        if (opt.cancel != nullptr && opt.cancel->load()) {
            return Status(ErrorCode::kInternal, "transcription cancelled");
        }
        const double time_offset = static_cast<double>(seek) * kTimePerFrame;
        const int64_t segment_size = std::min(w, content_frames - seek);
        auto t0 = Clock::now();
        std::vector<float> enc;
        if (seek == 0 && !first_enc.empty()) {
            enc = std::move(first_enc);
        } else {
            auto e = model->encode(window(mel, n_frames, seek, segment_size));
            if (!e.ok()) return e.status();
            enc = std::move(e).value();
            ++out.windows;
        }
        out.encoder_seconds += seconds_since(t0);
        const std::span<const int32_t> previous(all_tokens.data() + prompt_reset_since,
                                                all_tokens.size() - prompt_reset_since);
        const std::vector<int32_t> prompt =
            build_prompt(t, previous, lang_id, task_id, opt.timestamps, c.max_target_positions);
        wo.max_length = opt.max_new_tokens > 0
                            ? static_cast<int64_t>(prompt.size()) + opt.max_new_tokens
                            : c.max_target_positions;
        t0 = Clock::now();
        auto r = decode_window(*model, *tk, t, enc, prompt, wo, rng);
        if (!r.ok()) return r.status();
        out.decoder_seconds += seconds_since(t0);
        out.decoded_tokens += r->decoded_tokens;
        if (!std::isnan(opt.no_speech_threshold)) {
            bool skip = r->no_speech_prob > opt.no_speech_threshold;
            // a confident transcript is kept despite the no-speech probability
            if (!std::isnan(opt.logprob_threshold) && r->avg_logprob > opt.logprob_threshold) skip = false;
            if (skip) {
                seek += segment_size;
                continue;
            }
        }
        const int64_t previous_seek = seek;
        WindowSplit split = split_by_timestamps(r->tokens, t.timestamp_begin, time_offset, segment_size, seek);
        // NOTE: "<|0.00|> text <|0.00|><|0.00|>" would not move the seek (faster-whisper
        // would decode the same window again); consume the window instead.
        seek = split.next_seek > previous_seek ? split.next_seek : previous_seek + segment_size;
        for (SplitPiece& p : split.pieces) {
            std::vector<int32_t> text_ids;
            for (int32_t id : p.tokens) {
                if (id < t.eot) text_ids.push_back(id);
            }
            std::string text = tk->decode(text_ids);
            if (p.start == p.end || strip(text).empty()) continue;
            all_tokens.insert(all_tokens.end(), p.tokens.begin(), p.tokens.end());
            Segment s;
            s.id = ++idx;
            s.seek = previous_seek;
            s.start = p.start;
            s.end = p.end;
            s.text = std::move(text);
            s.tokens = std::move(p.tokens);
            s.temperature = r->temperature;
            s.avg_logprob = r->avg_logprob;
            s.compression_ratio = r->compression_ratio;
            s.no_speech_prob = r->no_speech_prob;
            if (on_segment) on_segment(s);
            out.segments.push_back(std::move(s));
        }
        if (!opt.condition_on_previous_text || r->temperature > opt.prompt_reset_on_temperature) {
            prompt_reset_since = all_tokens.size();
        }
    }
    for (const Segment& s : out.segments) out.text += s.text;
    const size_t lead = out.text.find_first_not_of(" \t\n");
    out.text = lead == std::string::npos ? std::string() : out.text.substr(lead);
    return out;
}

}  // namespace ag::asr
