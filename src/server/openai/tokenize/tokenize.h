// POST /tokenize and POST /detokenize in vLLM's shapes:
//   /tokenize   {model?, prompt} or {model?, messages, add_generation_prompt = true,
//               chat_template_kwargs?, enable_thinking?}, return_token_strs = false
//               → {count, max_model_len, tokens, token_strs}
//   /detokenize {model?, tokens} → {prompt}
// add_special_tokens is accepted and has no effect: GLM prompts carry no BOS/EOS (the chat
// template writes [gMASK]<sop> itself).
#pragma once

#include "server/http/http_server.h"
#include "server/openai/serving_context.h"

namespace ag::server::openai {

http::HttpResponse handle_tokenize(const ServingContext& ctx, const http::HttpRequest& req);
http::HttpResponse handle_detokenize(const ServingContext& ctx, const http::HttpRequest& req);

}  // namespace ag::server::openai
