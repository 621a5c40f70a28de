// `messages` (strings or content-part arrays) → chat::Message list → prompt text through the
// model's chat template, honouring --chat-template-content-format:
//   string: a part list becomes one string, placeholders first, text parts joined with "\n"
//           (vLLM's flattening, what AutoGLM's reference deployment uses);
//   openai: parts are handed to the template as a list (concatenated with nothing between);
//   auto:   like openai (the GLM templates iterate over content parts).
// `image_url` parts become kImage parts carrying their url (loaded by openai/media.h);
// `input_audio` / `audio_url` parts become empty text parts listed in `audio`, which the
// transcript fills before rendering (audio/audio_input.h); other media part types are
// rejected with 400. Messages reach the template as vLLM passes them:
// role as sent (any role; `developer` becomes `system`), content, name, tool_calls (arguments
// parsed to JSON by the chat layer), tool_call_id, reasoning_content, GLM-4 `metadata`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "server/openai/api_error.h"
#include "server/openai/audio/audio_input.h"
#include "server/openai/serving_context.h"

namespace ag::server::openai {

std::optional<ApiError> parse_messages(const nlohmann::json& messages,
                                       std::vector<chat::Message>& out,
                                       std::vector<AudioPart>& audio);

struct PromptOptions {
    bool add_generation_prompt = true;
    std::optional<bool> enable_thinking;
    nlohmann::ordered_json tools;            // request `tools`, null when absent
    nlohmann::ordered_json template_kwargs;  // chat_template_kwargs, null when absent
    bool continue_final_message = false;
};

std::optional<ApiError> render_prompt(const ServingContext& ctx,
                                      const std::vector<chat::Message>& messages,
                                      const PromptOptions& options, std::string& out);

/// enable_thinking from the top level and from chat_template_kwargs (the latter wins).
std::optional<bool> read_enable_thinking(const nlohmann::json& body);

/// The template inputs whose key order matters (`tools`, `chat_template_kwargs`, each
/// message's `tool_calls`), re-read from the raw body in document order (nlohmann::json sorts
/// keys), and `continue_final_message`. `body` is the already parsed request. Only reparses
/// when one of those fields is present.
std::optional<ApiError> read_template_inputs(const std::string& raw_body,
                                             const nlohmann::json& body,
                                             std::vector<chat::Message>& messages,
                                             PromptOptions& out);

}  // namespace ag::server::openai
