// POST /v1/completions: raw prompt (text or token ids) in, text out; JSON or SSE like vLLM.
#pragma once

#include "server/http/http_server.h"
#include "server/openai/serving_context.h"

namespace ag::server::openai {

http::HttpResponse handle_completions(const ServingContext& ctx, const http::HttpRequest& req);

}  // namespace ag::server::openai
