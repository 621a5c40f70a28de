#include "server/openai/common_params.h"

#include <fmt/format.h>

#include <limits>

namespace ag::server::openai {

const std::set<std::string>& common_keys() {
    static const std::set<std::string> keys = {
        "model", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k",
        "min_p", "frequency_penalty", "presence_penalty", "repetition_penalty", "seed", "stop",
        "stop_token_ids", "ignore_eos", "n", "stream", "stream_options", "skip_special_tokens",
        "include_reasoning", "return_reasoning", "user"};
    return keys;
}

namespace {

void read_sampling(RequestFields& f, int32_t vocab_size, SamplingParams& s) {
    constexpr double kInf = std::numeric_limits<double>::infinity();
    f.opt_float("temperature", s.temperature, 0.0, kInf);
    f.opt_float("top_p", s.top_p, 0.0, 1.0, /*lo_open=*/true);
    std::optional<int64_t> top_k;
    f.opt_int("top_k", top_k, -1, std::numeric_limits<int32_t>::max());
    if (top_k) s.top_k = static_cast<int32_t>(*top_k);
    f.opt_float("min_p", s.min_p, 0.0, 1.0);
    f.opt_float("frequency_penalty", s.frequency_penalty, -2.0, 2.0);
    f.opt_float("presence_penalty", s.presence_penalty, -2.0, 2.0);
    f.opt_float("repetition_penalty", s.repetition_penalty, 0.0, kInf, /*lo_open=*/true);
    std::optional<int64_t> seed;
    f.opt_int("seed", seed, std::numeric_limits<int64_t>::min(),
              std::numeric_limits<int64_t>::max());
    if (seed) s.seed = static_cast<uint64_t>(*seed);
    f.opt_bool("ignore_eos", s.ignore_eos);
    f.opt_int_list("stop_token_ids", s.stop_token_ids, 0, std::max(0, vocab_size - 1));
}

void read_limits(RequestFields& f, CommonParams& out) {
    constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
    std::optional<int64_t> max_tokens, max_completion_tokens, n;
    f.opt_int("max_tokens", max_tokens, 1, kMax);
    f.opt_int("max_completion_tokens", max_completion_tokens, 1, kMax);
    out.max_tokens = max_completion_tokens ? max_completion_tokens : max_tokens;
    f.opt_int("n", n, 1, kMaxN);
    if (n) out.n = static_cast<int32_t>(*n);
}

void read_stream(RequestFields& f, CommonParams& out) {
    f.opt_bool("stream", out.stream);
    const nlohmann::json* so = f.opt_object("stream_options");
    if (!so || !f.ok()) return;
    if (!out.stream) {
        return f.fail(bad_request("Stream options can only be defined when `stream=True`.",
                                  "stream_options"));
    }
    RequestFields sf(*so);
    sf.opt_bool("include_usage", out.include_usage);
    if (!sf.ok()) {
        ApiError e = *sf.error();
        e.param = "stream_options." + e.param;
        f.fail(e);
    }
}

}  // namespace

void read_common(RequestFields& f, int32_t vocab_size, CommonParams& out) {
    f.opt_string("model", out.model);
    read_sampling(f, vocab_size, out.sampling);
    read_limits(f, out);
    read_stream(f, out);
    f.opt_string_or_list("stop", out.stop);
    std::erase(out.stop, std::string());
    f.opt_bool("skip_special_tokens", out.skip_special_tokens);
    std::optional<bool> include, ret;
    f.opt_bool("include_reasoning", include);
    f.opt_bool("return_reasoning", ret);
    out.include_reasoning = include ? include : ret;
}

std::optional<ApiError> fit_max_tokens(int64_t n_prompt, int64_t max_model_len,
                                       std::optional<int64_t> requested, int32_t& out) {
    if (!requested) {
        if (n_prompt >= max_model_len) {
            return bad_request(fmt::format(
                "This model's maximum context length is {} tokens. However, your request has "
                "{} input tokens. Please reduce the length of the input messages.",
                max_model_len, n_prompt), "messages");
        }
        out = static_cast<int32_t>(max_model_len - n_prompt);
        return std::nullopt;
    }
    if (n_prompt + *requested > max_model_len) {
        return bad_request(fmt::format(
            "This model's maximum context length is {} tokens. However, you requested {} "
            "tokens ({} in the messages, {} in the completion). Please reduce the length of "
            "the messages or completion.",
            max_model_len, n_prompt + *requested, n_prompt, *requested), "max_tokens");
    }
    out = static_cast<int32_t>(*requested);
    return std::nullopt;
}

}  // namespace ag::server::openai
