#include "asr/window_decoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "asr/segmenter.h"

namespace ag::asr {

namespace {

struct Hypothesis {
    std::vector<int32_t> tokens;
    double sum_logprob = 0;  // EOT included
    // CTranslate2's ranking score: sum / length (length_penalty 1); -inf for an empty one.
    double score() const {
        return tokens.empty() ? -std::numeric_limits<double>::infinity()
                              : sum_logprob / static_cast<double>(tokens.size());
    }
};

int32_t argmax(std::span<const float> x) {
    size_t best = 0;
    for (size_t i = 1; i < x.size(); ++i) {
        if (x[i] > x[best]) best = i;
    }
    return static_cast<int32_t>(best);
}

// Draws from softmax(logprobs / T).
int32_t sample(std::span<const float> logprobs, float temperature, std::mt19937_64& rng) {
    const float m = *std::max_element(logprobs.begin(), logprobs.end());
    std::vector<double> w(logprobs.size());
    double total = 0;
    for (size_t i = 0; i < w.size(); ++i) {
        w[i] = std::isfinite(logprobs[i]) ? std::exp(static_cast<double>(logprobs[i] - m) / temperature) : 0.0;
        total += w[i];
    }
    double u = std::uniform_real_distribution<double>(0.0, total)(rng);
    for (size_t i = 0; i < w.size(); ++i) {
        if (w[i] <= 0) continue;
        if (u < w[i]) return static_cast<int32_t>(i);
        u -= w[i];
    }
    return argmax(logprobs);
}

// One hypothesis from a decoder that has consumed the prompt; `logits` are the prompt's last.
Status run_hypothesis(const model::SpeechModel& model, model::SpeechDecoderState st,
                      std::vector<float> logits, const WhisperTokens& t, const WindowOptions& opt,
                      int64_t max_steps, float temperature, std::mt19937_64& rng, Hypothesis& h,
                      int64_t& steps) {
    for (int64_t step = 0; step < max_steps; ++step) {
        if (opt.cancel != nullptr && opt.cancel->load(std::memory_order_relaxed)) {
            return Status(ErrorCode::kInternal, "transcription cancelled");
        }
        suppress_tokens(logits, opt.suppress);
        if (step == 0) suppress_tokens(logits, opt.suppress_begin);
        if (opt.timestamps) apply_timestamp_rules(logits, h.tokens, opt.rules);
        log_softmax(logits);
        const int32_t tok = temperature > 0 ? sample(logits, temperature, rng) : argmax(logits);
        h.sum_logprob += logits[static_cast<size_t>(tok)];
        ++steps;
        if (tok == t.eot) break;
        h.tokens.push_back(tok);
        if (step + 1 == max_steps) break;
        AG_RETURN_IF_ERROR(model.decode(std::span<const int32_t>(&tok, 1), st, logits.data()));
    }
    return {};
}

}  // namespace

int64_t max_decode_steps(int64_t max_length, int64_t prompt_length) {
    return std::min(max_length / 2, max_length - (prompt_length - 1));
}

Result<WindowResult> decode_window(const model::SpeechModel& model, const tok::Tokenizer& tk,
                                   const WhisperTokens& t, std::span<const float> encoder_out,
                                   std::span<const int32_t> prompt, const WindowOptions& opt,
                                   std::mt19937_64& rng) {
    const auto sot_it = std::find(prompt.begin(), prompt.end(), t.sot);
    if (sot_it == prompt.end()) {
        return Status(ErrorCode::kInvalidArgument, "the prompt has no <|startoftranscript|>");
    }
    const int64_t max_steps = max_decode_steps(opt.max_length, static_cast<int64_t>(prompt.size()));
    if (max_steps <= 0 || opt.max_length > model.config().max_target_positions) {
        return Status(ErrorCode::kOutOfRange,
                      fmt::format("prompt of {} tokens and a decoding length of {} exceed the "
                                  "decoder's {} positions", prompt.size(), opt.max_length,
                                  model.config().max_target_positions));
    }
    auto st0 = model.start_decoder(encoder_out);
    if (!st0.ok()) return st0.status();
    model::SpeechDecoderState st = std::move(st0).value();
    const size_t vocab = static_cast<size_t>(model.config().vocab_size);
    std::vector<float> logits(vocab);
    // The SOT position's raw logits give the no-speech probability; the prompt's last logits
    // start the decoding.
    const size_t n_head = static_cast<size_t>(sot_it - prompt.begin()) + 1;
    AG_RETURN_IF_ERROR(model.decode(prompt.first(n_head), st, logits.data()));
    WindowResult out;
    if (t.no_speech >= 0 && static_cast<size_t>(t.no_speech) < vocab) {
        std::vector<float> lp = logits;
        log_softmax(lp);
        out.no_speech_prob = std::exp(lp[static_cast<size_t>(t.no_speech)]);
    }
    if (n_head < prompt.size()) {
        AG_RETURN_IF_ERROR(model.decode(prompt.subspan(n_head), st, logits.data()));
    }
    struct Attempt {
        WindowResult r;
        bool below_cr = false;
    };
    std::vector<Attempt> attempts;
    for (const float temperature : opt.temperatures) {
        const int n_hyp = temperature > 0 ? std::max(opt.best_of, 1) : 1;
        Hypothesis best;
        bool have = false;
        for (int k = 0; k < n_hyp; ++k) {
            Hypothesis h;
            AG_RETURN_IF_ERROR(run_hypothesis(model, st, logits, t, opt, max_steps, temperature,
                                              rng, h, out.decoded_tokens));
            if (!have || h.score() > best.score()) best = std::move(h);
            have = true;
        }
        WindowResult r;
        r.tokens = std::move(best.tokens);
        r.avg_logprob = r.tokens.empty()
                            ? std::numeric_limits<float>::quiet_NaN()
                            : static_cast<float>(best.sum_logprob / static_cast<double>(r.tokens.size() + 1));
        r.temperature = temperature;
        std::vector<int32_t> text_ids;
        for (int32_t id : r.tokens) {
            if (id < t.eot) text_ids.push_back(id);
        }
        r.compression_ratio = compression_ratio(strip(tk.decode(text_ids)));
        r.no_speech_prob = out.no_speech_prob;
        bool fallback = false;
        Attempt a{r, false};
        if (opt.compression_ratio_threshold > 0) {
            if (r.compression_ratio > opt.compression_ratio_threshold) {
                fallback = true;  // too repetitive
            } else {
                a.below_cr = true;
            }
        }
        const bool low_logprob = !std::isnan(opt.logprob_threshold) && r.avg_logprob < opt.logprob_threshold;
        if (low_logprob) fallback = true;
        if (!std::isnan(opt.no_speech_threshold) && r.no_speech_prob > opt.no_speech_threshold &&
            low_logprob) {
            fallback = false;  // silence: decided by the caller
        }
        attempts.push_back(std::move(a));
        if (!fallback) {
            const int64_t n = out.decoded_tokens;
            out = attempts.back().r;
            out.decoded_tokens = n;
            return out;
        }
    }
    // Every temperature failed: the best average logprob among those under the compression
    // threshold (else among all), reported with the last temperature tried.
    const bool any_below = std::any_of(attempts.begin(), attempts.end(), [](const Attempt& a) { return a.below_cr; });
    const Attempt* pick = nullptr;
    for (const Attempt& a : attempts) {
        if (any_below && !a.below_cr) continue;
        // Python's max(key=...) keeps the first maximum; NaN never compares greater.
        if (pick == nullptr || a.r.avg_logprob > pick->r.avg_logprob) pick = &a;
    }
    const int64_t n = out.decoded_tokens;
    out = pick->r;
    out.decoded_tokens = n;
    out.temperature = opt.temperatures.back();
    return out;
}

}  // namespace ag::asr
