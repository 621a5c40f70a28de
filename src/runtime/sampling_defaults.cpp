#include "runtime/sampling_defaults.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

namespace ag::runtime {

namespace {

constexpr float kSamplingEps = 1e-5f;  // vLLM _SAMPLING_EPS: below this is greedy
constexpr float kMinTemperature = 1e-2f;  // vLLM _MAX_TEMP: (0, 0.01) is raised to 0.01
// transformers 4.x GenerationConfig default for top_k; vLLM reads generation_config through
// GenerationConfig.to_diff_dict(), which drops values equal to the defaults. For temperature,
// top_p and repetition_penalty the dropped defaults (1.0) equal vLLM's, so only top_k differs.
constexpr int32_t kHfDefaultTopK = 50;

std::optional<double> number(const nlohmann::json& g, const char* key) {
    if (!g.is_object()) return std::nullopt;
    auto it = g.find(key);
    if (it == g.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
}

std::optional<float> float_value(const nlohmann::json& g, const char* key) {
    auto v = number(g, key);
    if (!v) return std::nullopt;
    return static_cast<float>(*v);
}

// Integers outside int32 are clamped (they fail validation or mean "no limit" anyway).
std::optional<int32_t> int_value(const nlohmann::json& g, const char* key) {
    auto v = number(g, key);
    if (!v || std::isnan(*v)) return std::nullopt;
    const double c = std::clamp(std::trunc(*v), -2147483648.0, 2147483647.0);
    return static_cast<int32_t>(c);
}

// "<what>, got <value>." (floats in their shortest round-trip form, as Python prints them).
template <class T>
Status bad(const char* what, T got) {
    return Status(ErrorCode::kInvalidArgument, fmt::format("{}, got {}.", what, got));
}

// vLLM SamplingParams._verify_args, same order and wording (plus NaN everywhere).
Status validate(const ResolvedSampling& r) {
    if (!(r.presence_penalty >= -2.0f && r.presence_penalty <= 2.0f)) {
        return bad("presence_penalty must be in [-2, 2]", r.presence_penalty);
    }
    if (!(r.frequency_penalty >= -2.0f && r.frequency_penalty <= 2.0f)) {
        return bad("frequency_penalty must be in [-2, 2]", r.frequency_penalty);
    }
    if (!std::isfinite(r.repetition_penalty)) {
        return bad("repetition_penalty must be a finite number", r.repetition_penalty);
    }
    if (r.repetition_penalty <= 0.0f) {
        return bad("repetition_penalty must be greater than zero", r.repetition_penalty);
    }
    if (!std::isfinite(r.temperature)) {
        return bad("temperature must be a finite number", r.temperature);
    }
    if (r.temperature < 0.0f) return bad("temperature must be non-negative", r.temperature);
    if (!(r.top_p > 0.0f && r.top_p <= 1.0f)) return bad("top_p must be in (0, 1]", r.top_p);
    if (r.top_k < -1) {
        return bad("top_k must be 0 or -1 (disable), or at least 1", r.top_k);
    }
    if (!(r.min_p >= 0.0f && r.min_p <= 1.0f)) return bad("min_p must be in [0, 1]", r.min_p);
    if (r.max_tokens < 1) return bad("max_tokens must be at least 1", r.max_tokens);
    return Status::ok_status();
}

uint64_t random_seed() {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ static_cast<uint64_t>(rd());
}

}  // namespace

GenerationDefaults read_generation_defaults(const nlohmann::json& g) {
    GenerationDefaults d;
    d.temperature = float_value(g, "temperature");
    d.top_p = float_value(g, "top_p");
    d.top_k = int_value(g, "top_k");
    if (d.top_k == kHfDefaultTopK) d.top_k.reset();
    d.min_p = float_value(g, "min_p");
    d.repetition_penalty = float_value(g, "repetition_penalty");
    d.max_tokens = int_value(g, "max_new_tokens");
    return d;
}

Result<ResolvedSampling> resolve_sampling(const SamplingParams& req, const nlohmann::json& gen) {
    const GenerationDefaults d = read_generation_defaults(gen);
    ResolvedSampling r;
    r.temperature = req.temperature.value_or(d.temperature.value_or(1.0f));
    r.top_p = req.top_p.value_or(d.top_p.value_or(1.0f));
    r.top_k = req.top_k.value_or(d.top_k.value_or(0));
    r.min_p = req.min_p.value_or(d.min_p.value_or(0.0f));
    r.repetition_penalty = req.repetition_penalty.value_or(d.repetition_penalty.value_or(1.0f));
    r.frequency_penalty = req.frequency_penalty;
    r.presence_penalty = req.presence_penalty;
    r.max_tokens = req.max_tokens;
    AG_RETURN_IF_ERROR(validate(r));

    if (r.top_k < 0) r.top_k = 0;
    if (r.temperature > 0.0f && r.temperature < kMinTemperature) r.temperature = kMinTemperature;
    if (r.temperature < kSamplingEps) {
        // Greedy: vLLM resets the filters (they cannot change the argmax).
        r.top_p = 1.0f;
        r.top_k = 0;
        r.min_p = 0.0f;
    }
    r.seed = req.seed ? *req.seed : random_seed();
    return r;
}

}  // namespace ag::runtime
