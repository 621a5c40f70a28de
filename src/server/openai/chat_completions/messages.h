// `messages` (strings or content-part arrays) → chat::Message list → prompt text through the
// model's chat template, honouring --chat-template-content-format:
//   string: a part list becomes one string, placeholders first, text parts joined with "\n"
//           (vLLM's flattening, what AutoGLM's reference deployment uses);
//   openai: parts are handed to the template as a list (concatenated with nothing between);
//   auto:   like openai (the GLM templates iterate over content parts).
// `image_url` parts become kImage parts carrying their url (loaded by openai/media.h); other
// media part types are rejected with 400.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "server/openai/api_error.h"
#include "server/openai/serving_context.h"

namespace ag::server::openai {

std::optional<ApiError> parse_messages(const nlohmann::json& messages,
                                       std::vector<chat::Message>& out);

struct PromptOptions {
    bool add_generation_prompt = true;
    std::optional<bool> enable_thinking;
};

std::optional<ApiError> render_prompt(const ServingContext& ctx,
                                      const std::vector<chat::Message>& messages,
                                      const PromptOptions& options, std::string& out);

/// enable_thinking from the top level and from chat_template_kwargs (the latter wins).
std::optional<bool> read_enable_thinking(const nlohmann::json& body);

}  // namespace ag::server::openai
