// Type-checked reads of optional JSON request fields. A null value counts as absent. The first
// error is kept (with the field name as `param`) and later reads become no-ops, so a parser can
// read every field and check error() once.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/openai/api_error.h"

namespace ag::server::openai {

class RequestFields {
public:
    /// `body` must be a JSON object and outlive this reader.
    explicit RequestFields(const nlohmann::json& body) : body_(body) {}

    void opt_bool(const char* key, std::optional<bool>& out);
    void opt_bool(const char* key, bool& out);
    /// Number in [lo, hi] (an open bound when lo_open / hi_open).
    void opt_float(const char* key, std::optional<float>& out, double lo, double hi,
                   bool lo_open = false);
    void opt_float(const char* key, float& out, double lo, double hi);
    /// Integer (an integral float such as 5.0 is accepted) in [lo, hi].
    void opt_int(const char* key, std::optional<int64_t>& out, int64_t lo, int64_t hi);
    void opt_string(const char* key, std::optional<std::string>& out);
    /// A string or a list of strings.
    void opt_string_or_list(const char* key, std::vector<std::string>& out);
    void opt_int_list(const char* key, std::vector<int32_t>& out, int64_t lo, int64_t hi);
    /// An object (returned as is) or nothing.
    const nlohmann::json* opt_object(const char* key);

    void fail(ApiError e);
    bool ok() const { return !error_.has_value(); }
    const std::optional<ApiError>& error() const { return error_; }

    /// Keys of the body not in `known`.
    std::vector<std::string> unknown_keys(const std::set<std::string>& known) const;

private:
    const nlohmann::json* find(const char* key) const;

    const nlohmann::json& body_;
    std::optional<ApiError> error_;
};

/// Logs request fields the server does not use (never an error, like vLLM).
void log_unknown_fields(const char* endpoint, const std::vector<std::string>& keys);

}  // namespace ag::server::openai
