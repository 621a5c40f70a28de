// POST /v1/chat/completions request: fields, defaults and validation (vLLM's names and ranges).
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "server/openai/api_error.h"
#include "server/openai/chat_completions/messages.h"
#include "server/openai/common_params.h"
#include "server/openai/serving_context.h"

namespace ag::server::openai {

struct ChatRequest {
    CommonParams common;
    std::vector<chat::Message> messages;
    std::vector<AudioPart> audio;  ///< audio parts of `messages`, transcribed before rendering
    PromptOptions prompt;
    bool logprobs = false;
    int32_t top_logprobs = 0;
};

/// Reads every field of `body`; unknown fields are logged, never rejected.
std::optional<ApiError> parse_chat_request(const nlohmann::json& body, const ServingContext& ctx,
                                           ChatRequest& out);

}  // namespace ag::server::openai
