#include "runtime/sampling_defaults.h"

#include <fmt/format.h>

#include <cmath>
#include <random>

namespace ag::runtime {

namespace {

template <class T>
std::optional<T> gen_value(const nlohmann::json& g, const char* key) {
    if (!g.is_object()) return std::nullopt;
    auto it = g.find(key);
    if (it == g.end() || !it->is_number()) return std::nullopt;
    return it->get<T>();
}

Status bad(const char* name, const std::string& rule, double got) {
    return Status(ErrorCode::kInvalidArgument, fmt::format("{} must be {}, got {}.", name, rule, got));
}

}  // namespace

Result<ResolvedSampling> resolve_sampling(const SamplingParams& req, const nlohmann::json& gen) {
    ResolvedSampling r;
    r.temperature = req.temperature.value_or(gen_value<float>(gen, "temperature").value_or(1.0f));
    r.top_p = req.top_p.value_or(gen_value<float>(gen, "top_p").value_or(1.0f));
    r.top_k = req.top_k.value_or(gen_value<int32_t>(gen, "top_k").value_or(0));
    r.min_p = req.min_p.value_or(gen_value<float>(gen, "min_p").value_or(0.0f));
    r.repetition_penalty =
        req.repetition_penalty.value_or(gen_value<float>(gen, "repetition_penalty").value_or(1.0f));
    r.frequency_penalty = req.frequency_penalty;
    r.presence_penalty = req.presence_penalty;
    r.max_tokens = req.max_tokens;
    if (req.seed) {
        r.seed = *req.seed;
    } else {
        std::random_device rd;
        r.seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    }
    // Checks in vLLM's order and wording style (SamplingParams._verify_args).
    if (!(r.temperature >= 0.0f) || !std::isfinite(r.temperature)) {
        return bad("temperature", "non-negative", r.temperature);
    }
    if (!(r.top_p > 0.0f && r.top_p <= 1.0f)) return bad("top_p", "in (0, 1]", r.top_p);
    if (r.top_k < -1) return bad("top_k", "-1 (disable), 0 (disable) or at least 1", r.top_k);
    if (r.top_k < 0) r.top_k = 0;
    if (!(r.min_p >= 0.0f && r.min_p <= 1.0f)) return bad("min_p", "in [0, 1]", r.min_p);
    if (!(r.frequency_penalty >= -2.0f && r.frequency_penalty <= 2.0f)) {
        return bad("frequency_penalty", "in [-2, 2]", r.frequency_penalty);
    }
    if (!(r.presence_penalty >= -2.0f && r.presence_penalty <= 2.0f)) {
        return bad("presence_penalty", "in [-2, 2]", r.presence_penalty);
    }
    if (!(r.repetition_penalty > 0.0f) || !std::isfinite(r.repetition_penalty)) {
        return bad("repetition_penalty", "greater than zero", r.repetition_penalty);
    }
    if (r.max_tokens < 1) return bad("max_tokens", "at least 1", r.max_tokens);
    return r;
}

}  // namespace ag::runtime
