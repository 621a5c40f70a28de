// GET /v1/models: the one served model, in vLLM's ModelCard shape; GET /v1/models/{id}: that
// card alone (404 NotFoundError for another id), as the OpenAI API's models.retrieve.
#pragma once

#include "server/http/http_server.h"
#include "server/openai/serving_context.h"

namespace ag::server::openai {

http::HttpResponse handle_models(const ServingContext& ctx, const http::HttpRequest& req);
http::HttpResponse handle_model(const ServingContext& ctx, const http::HttpRequest& req);

}  // namespace ag::server::openai
