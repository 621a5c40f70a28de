// The variables a Jinja chat template sees, shaped the way vLLM hands a request to
// transformers' apply_chat_template: `messages` (role, content as a string or a list of
// {"type": "text"|"image"|"video"} parts, metadata, name, tool_calls with parsed arguments,
// tool_call_id, reasoning_content plus transformers' `thinking` alias), `tools`, `documents`,
// `add_generation_prompt`, `enable_thinking` and the chat_template_kwargs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "chat/chat_template.h"
#include "chat/jinja_value.h"

namespace ag::chat {

using TemplateContext = std::vector<std::pair<std::string, jinja::Value>>;

/// `continue_tag`, when non-empty, is appended to the text of the final message (transformers'
/// continue_final_message). Errors name the offending message.
Result<TemplateContext> make_template_context(const std::vector<Message>& messages,
                                              const RenderOptions& options,
                                              const std::string& continue_tag);

}  // namespace ag::chat
