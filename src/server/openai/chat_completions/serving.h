// POST /v1/chat/completions: validate, render the chat template, tokenize, submit n engine
// requests, then answer as one JSON body or as vLLM-framed SSE chunks.
#pragma once

#include "server/http/http_server.h"
#include "server/openai/serving_context.h"

namespace ag::server::openai {

http::HttpResponse handle_chat_completions(const ServingContext& ctx,
                                           const http::HttpRequest& req);

}  // namespace ag::server::openai
