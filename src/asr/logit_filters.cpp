#include "asr/logit_filters.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ag::asr {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void disable_range(std::span<float> logits, int64_t from, int64_t to) {  // [from, to)
    from = std::max<int64_t>(from, 0);
    to = std::min<int64_t>(to, static_cast<int64_t>(logits.size()));
    for (int64_t i = from; i < to; ++i) logits[static_cast<size_t>(i)] = kNegInf;
}

float max_of(std::span<const float> x) {
    float m = kNegInf;
    for (float v : x) m = std::max(m, v);
    return m;
}

float logsumexp(std::span<const float> x) {
    const float m = max_of(x);
    if (!std::isfinite(m)) return m;
    double s = 0;
    for (float v : x) s += std::exp(static_cast<double>(v - m));
    return m + static_cast<float>(std::log(s));
}

}  // namespace

void suppress_tokens(std::span<float> logits, std::span<const int32_t> ids) {
    for (int32_t id : ids) {
        if (id >= 0 && static_cast<size_t>(id) < logits.size()) logits[static_cast<size_t>(id)] = kNegInf;
    }
}

void apply_timestamp_rules(std::span<float> logits, std::span<const int32_t> sampled,
                           const TimestampRules& r) {
    const int64_t n = static_cast<int64_t>(logits.size());
    const int64_t ts_end = std::min<int64_t>(r.timestamp_end, n - 1);
    suppress_tokens(logits, std::span<const int32_t>(&r.no_timestamps, 1));
    if (sampled.empty()) {
        disable_range(logits, 0, r.timestamp_begin);
        disable_range(logits, int64_t(r.max_initial_timestamp_id) + 1, ts_end + 1);
        return;  // only timestamps remain: the probability-mass rule cannot change anything
    }
    const int32_t last = sampled.back();
    bool check_mass = true;
    if (last >= r.timestamp_begin) {
        const int32_t penultimate = sampled.size() >= 2 ? sampled[sampled.size() - 2] : last;
        if (penultimate >= r.timestamp_begin) {  // a closed pair: text (or EOT) next
            disable_range(logits, r.timestamp_begin, ts_end + 1);
            check_mass = false;
        } else {  // an open timestamp: a timestamp (closing it) or EOT
            disable_range(logits, 0, r.eot);
        }
    }
    for (auto it = sampled.rbegin(); it != sampled.rend(); ++it) {
        if (*it >= r.timestamp_begin) {
            disable_range(logits, r.timestamp_begin, *it);
            break;
        }
    }
    if (!check_mass) return;
    std::vector<float> lp(logits.begin(), logits.end());
    log_softmax(lp);
    const std::span<const float> all(lp);
    const float text_max = max_of(all.subspan(0, static_cast<size_t>(r.timestamp_begin)));
    const float ts_mass = logsumexp(all.subspan(static_cast<size_t>(r.timestamp_begin),
                                                static_cast<size_t>(ts_end - r.timestamp_begin + 1)));
    if (ts_mass > text_max) disable_range(logits, 0, r.timestamp_begin);
}

void log_softmax(std::span<float> x) {
    const float m = max_of(x);
    if (!std::isfinite(m)) return;
    double s = 0;
    for (float v : x) s += std::exp(static_cast<double>(v - m));
    const float lse = m + static_cast<float>(std::log(s));
    for (float& v : x) v -= lse;
}

LanguageProbs language_probs(std::span<const float> logits, std::span<const int32_t> lang_ids) {
    LanguageProbs out;
    out.probs.resize(lang_ids.size());
    float m = kNegInf;
    for (size_t i = 0; i < lang_ids.size(); ++i) {
        const int32_t id = lang_ids[i];
        out.probs[i] = id >= 0 && static_cast<size_t>(id) < logits.size() ? logits[static_cast<size_t>(id)] : kNegInf;
        if (out.probs[i] > m) {
            m = out.probs[i];
            out.best = i;
        }
    }
    if (!std::isfinite(m)) return out;
    double s = 0;
    for (float v : out.probs) s += std::exp(static_cast<double>(v - m));
    for (float& v : out.probs) v = static_cast<float>(std::exp(static_cast<double>(v - m)) / s);
    return out;
}

}  // namespace ag::asr
