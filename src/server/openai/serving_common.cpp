#include "server/openai/serving_common.h"

#include <chrono>
#include <random>

#include <fmt/format.h>

#include "runtime/sampling_defaults.h"

namespace ag::server::openai {

std::optional<ApiError> parse_body(const http::HttpRequest& req, nlohmann::json& out) {
    out = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (out.is_discarded()) return bad_request("the request body is not valid JSON");
    if (!out.is_object()) return bad_request("the request body must be a JSON object");
    return std::nullopt;
}

std::optional<ApiError> check_model(const ServingContext& ctx,
                                    const std::optional<std::string>& model) {
    if (!model || *model == ctx.model.served_name) return std::nullopt;
    ApiError e = not_found(fmt::format("The model `{}` does not exist.", *model));
    e.param = "model";
    return e;
}

std::optional<ApiError> check_admission(const ServingContext& ctx) {
    const EngineStats s = ctx.engine->stats();
    const int32_t limit = ctx.engine->config().max_num_queued_reqs;
    if (limit > 0 && s.n_waiting >= limit) {
        return unavailable(fmt::format(
            "The server is busy: {} requests are waiting (limit {}). Retry later.", s.n_waiting,
            limit));
    }
    return std::nullopt;
}

ApiError submit_error(const Status& s) {
    switch (s.code()) {
        case ErrorCode::kOutOfRange: return unavailable(s.message());
        case ErrorCode::kInvalidArgument: return bad_request(s.message());
        default: return internal_error(s.message());
    }
}

std::optional<ApiError> start_generation(const ServingContext& ctx, CommonParams& common,
                                         std::vector<int32_t> prompt_ids, int32_t n_top_logprobs,
                                         output::Generation::Clock::time_point arrival,
                                         std::unique_ptr<output::Generation>& out,
                                         std::vector<EngineImage> images) {
    if (prompt_ids.empty()) return bad_request("the prompt is empty");
    int32_t max_tokens = 0;
    if (auto e = fit_max_tokens(static_cast<int64_t>(prompt_ids.size()),
                                ctx.model.max_model_len, common.max_tokens, max_tokens)) {
        return e;
    }
    EngineRequest request;
    request.prompt_ids = std::move(prompt_ids);
    request.images = std::move(images);
    request.sampling = common.sampling;
    request.sampling.max_tokens = max_tokens;
    request.n_top_logprobs = n_top_logprobs;
    // The engine's own checks, run here so that a bad combination is a 400 before submit.
    auto resolved = runtime::resolve_sampling(request.sampling, ctx.model.generation_config);
    if (!resolved.ok()) return bad_request(resolved.status().message());
    auto gen = std::make_unique<output::Generation>(*ctx.engine, ctx.metrics, arrival,
                                                    ctx.log_requests);
    const Status s = gen->submit(request, common.n);
    if (!s.ok()) return submit_error(s);
    out = std::move(gen);
    return std::nullopt;
}

std::vector<output::ChoiceStream> make_choices(const ServingContext& ctx,
                                               const CommonParams& common, bool logprobs,
                                               bool split_reasoning) {
    output::ChoiceOptions o;
    o.skip_special_tokens = common.skip_special_tokens;
    o.stop = common.stop;
    o.split_reasoning = split_reasoning;
    o.include_reasoning = common.include_reasoning.value_or(true);
    o.want_logprobs = logprobs;
    std::vector<output::ChoiceStream> choices;
    choices.reserve(static_cast<size_t>(common.n));
    for (int32_t i = 0; i < common.n; ++i) choices.emplace_back(*ctx.tokenizer, o);
    return choices;
}

std::string random_id(const char* prefix) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return fmt::format("{}{:016x}{:016x}", prefix, rng(), rng());
}

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

nlohmann::json usage_json(int64_t n_prompt, int64_t n_completion, int64_t n_cached) {
    return {{"prompt_tokens", n_prompt},
            {"completion_tokens", n_completion},
            {"total_tokens", n_prompt + n_completion},
            {"prompt_tokens_details", {{"cached_tokens", n_cached}}}};
}

}  // namespace ag::server::openai
