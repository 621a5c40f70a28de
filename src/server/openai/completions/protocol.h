// POST /v1/completions request: one prompt (a string or a list of token ids; a list holding
// exactly one of those is accepted too), the shared sampling fields and legacy integer logprobs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/openai/api_error.h"
#include "server/openai/common_params.h"
#include "server/openai/serving_context.h"

namespace ag::server::openai {

struct CompletionRequest {
    CommonParams common;
    std::optional<std::string> prompt_text;
    std::vector<int32_t> prompt_ids;  ///< when the prompt was given as token ids
    std::optional<int32_t> logprobs;  ///< number of top logprobs, 0..20
};

std::optional<ApiError> parse_completion_request(const nlohmann::json& body,
                                                 const ServingContext& ctx,
                                                 CompletionRequest& out);

}  // namespace ag::server::openai
