#include "server/openai/api_error.h"

namespace ag::server::openai {

ApiError bad_request(std::string message, std::string param) {
    return {400, std::move(message), std::move(param)};
}
ApiError not_found(std::string message) { return {404, std::move(message), ""}; }
ApiError unavailable(std::string message) { return {503, std::move(message), ""}; }
ApiError internal_error(std::string message) { return {500, std::move(message), ""}; }

const char* error_type(int status) {
    switch (status) {
        case 400: return "BadRequestError";
        case 401: return "AuthenticationError";
        case 403: return "PermissionDeniedError";
        case 404: return "NotFoundError";
        case 405: return "MethodNotAllowedError";
        case 408: return "RequestTimeoutError";
        case 413: return "RequestEntityTooLargeError";
        case 422: return "UnprocessableEntityError";
        case 429: return "RateLimitError";
        case 503: return "ServiceUnavailableError";
        default: return status >= 500 ? "InternalServerError" : "BadRequestError";
    }
}

nlohmann::json error_json(const ApiError& e) {
    nlohmann::json err = {{"message", e.message},
                          {"type", error_type(e.status)},
                          {"param", nullptr},
                          {"code", e.status}};
    if (!e.param.empty()) err["param"] = e.param;
    return {{"error", err}};
}

std::string dump(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

http::HttpResponse json_response(const nlohmann::json& j, int status) {
    http::HttpResponse r;
    r.status = status;
    r.body = dump(j);
    return r;
}

http::HttpResponse error_response(const ApiError& e) {
    http::HttpResponse r = json_response(error_json(e), e.status);
    if (e.status == 503) r.headers.emplace_back("Retry-After", "1");
    return r;
}

}  // namespace ag::server::openai
