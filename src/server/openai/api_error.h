// OpenAI-shaped errors: {"error": {"message", "type", "param", "code"}} with vLLM's type names
// (BadRequestError, NotFoundError, ...) and the HTTP status as `code`.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/http/http_server.h"

namespace ag::server::openai {

struct ApiError {
    int status = 400;
    std::string message;
    std::string param;  ///< the offending request field; "" → null
};

ApiError bad_request(std::string message, std::string param = "");
ApiError not_found(std::string message);
ApiError unavailable(std::string message);  ///< 503 with Retry-After
ApiError internal_error(std::string message);

/// "BadRequestError", "NotFoundError", ... for an HTTP status.
const char* error_type(int status);
nlohmann::json error_json(const ApiError& e);
http::HttpResponse error_response(const ApiError& e);

/// JSON text for the wire: compact, invalid UTF-8 replaced (never throws).
std::string dump(const nlohmann::json& j);
http::HttpResponse json_response(const nlohmann::json& j, int status = 200);

}  // namespace ag::server::openai
