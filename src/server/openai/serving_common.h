// Helpers every OpenAI endpoint uses: body parsing, the model-name check, admission (503),
// engine error mapping, ids, usage.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "server/http/http_server.h"
#include "server/openai/api_error.h"
#include "server/openai/common_params.h"
#include "server/openai/serving_context.h"
#include "server/output/choice_stream.h"
#include "server/output/generation.h"

namespace ag::server::openai {

/// Parses the body as a JSON object (400 otherwise). Never throws.
std::optional<ApiError> parse_body(const http::HttpRequest& req, nlohmann::json& out);

/// 404 "The model `x` does not exist." unless `model` is absent or the served name.
std::optional<ApiError> check_model(const ServingContext& ctx,
                                    const std::optional<std::string>& model);

/// 503 when the engine's waiting queue is already full: decided before any expensive work.
std::optional<ApiError> check_admission(const ServingContext& ctx);

/// Maps an engine submit() failure: kOutOfRange → 503, kInvalidArgument → 400, else 500.
ApiError submit_error(const Status& s);

/// Checks the prompt length against max_model_len (setting sampling.max_tokens), then submits
/// `common.n` engine requests.
std::optional<ApiError> start_generation(const ServingContext& ctx, CommonParams& common,
                                         std::vector<int32_t> prompt_ids, int32_t n_top_logprobs,
                                         output::Generation::Clock::time_point arrival,
                                         std::unique_ptr<output::Generation>& out,
                                         std::vector<EngineImage> images = {});

/// One ChoiceStream per choice, configured from the request and the server's reasoning mode.
std::vector<output::ChoiceStream> make_choices(const ServingContext& ctx,
                                               const CommonParams& common, bool logprobs,
                                               bool split_reasoning);

/// "chatcmpl-<32 hex>" style ids.
std::string random_id(const char* prefix);
int64_t unix_now();

/// {"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details":
/// {"cached_tokens"}} — cached_tokens is always present.
nlohmann::json usage_json(int64_t n_prompt, int64_t n_completion, int64_t n_cached);

}  // namespace ag::server::openai
