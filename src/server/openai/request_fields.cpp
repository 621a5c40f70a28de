#include "server/openai/request_fields.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "base/log.h"

namespace ag::server::openai {

namespace {

bool as_integer(const nlohmann::json& v, int64_t& out) {
    if (v.is_number_integer()) {
        if (v.is_number_unsigned() &&
            v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            return false;
        }
        out = v.get<int64_t>();
        return true;
    }
    if (!v.is_number_float()) return false;
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e18) return false;
    out = static_cast<int64_t>(d);
    return true;
}

}  // namespace

const nlohmann::json* RequestFields::find(const char* key) const {
    if (error_) return nullptr;
    auto it = body_.find(key);
    if (it == body_.end() || it->is_null()) return nullptr;
    return &*it;
}

void RequestFields::fail(ApiError e) {
    if (!error_) error_ = std::move(e);
}

void RequestFields::opt_bool(const char* key, std::optional<bool>& out) {
    const nlohmann::json* v = find(key);
    if (!v) return;
    if (!v->is_boolean()) return fail(bad_request(fmt::format("'{}' must be a boolean", key), key));
    out = v->get<bool>();
}

void RequestFields::opt_bool(const char* key, bool& out) {
    std::optional<bool> v;
    opt_bool(key, v);
    if (v) out = *v;
}

void RequestFields::opt_float(const char* key, std::optional<float>& out, double lo, double hi,
                              bool lo_open) {
    const nlohmann::json* v = find(key);
    if (!v) return;
    if (!v->is_number()) return fail(bad_request(fmt::format("'{}' must be a number", key), key));
    const double d = v->get<double>();
    const bool below = lo_open ? !(d > lo) : !(d >= lo);
    if (below || !(d <= hi)) {
        const char* open = lo_open ? "(" : "[";
        return fail(bad_request(
            fmt::format("'{}' must be in {}{}, {}], got {}", key, open, lo, hi, d), key));
    }
    out = static_cast<float>(d);
}

void RequestFields::opt_float(const char* key, float& out, double lo, double hi) {
    std::optional<float> v;
    opt_float(key, v, lo, hi);
    if (v) out = *v;
}

void RequestFields::opt_int(const char* key, std::optional<int64_t>& out, int64_t lo,
                            int64_t hi) {
    const nlohmann::json* v = find(key);
    if (!v) return;
    int64_t i = 0;
    if (!as_integer(*v, i)) {
        return fail(bad_request(fmt::format("'{}' must be an integer", key), key));
    }
    if (i < lo || i > hi) {
        return fail(
            bad_request(fmt::format("'{}' must be in [{}, {}], got {}", key, lo, hi, i), key));
    }
    out = i;
}

void RequestFields::opt_string(const char* key, std::optional<std::string>& out) {
    const nlohmann::json* v = find(key);
    if (!v) return;
    if (!v->is_string()) return fail(bad_request(fmt::format("'{}' must be a string", key), key));
    out = v->get<std::string>();
}

void RequestFields::opt_string_or_list(const char* key, std::vector<std::string>& out) {
    const nlohmann::json* v = find(key);
    if (!v) return;
    const std::string msg = fmt::format("'{}' must be a string or a list of strings", key);
    if (v->is_string()) {
        out.push_back(v->get<std::string>());
        return;
    }
    if (!v->is_array()) return fail(bad_request(msg, key));
    for (const auto& s : *v) {
        if (!s.is_string()) return fail(bad_request(msg, key));
        out.push_back(s.get<std::string>());
    }
}

void RequestFields::opt_int_list(const char* key, std::vector<int32_t>& out, int64_t lo,
                                 int64_t hi) {
    const nlohmann::json* v = find(key);
    if (!v) return;
    if (!v->is_array()) {
        return fail(bad_request(fmt::format("'{}' must be a list of integers", key), key));
    }
    for (const auto& e : *v) {
        int64_t i = 0;
        if (!as_integer(e, i)) {
            return fail(bad_request(fmt::format("'{}' must be a list of integers", key), key));
        }
        if (i < lo || i > hi) {
            return fail(bad_request(
                fmt::format("'{}' entries must be in [{}, {}], got {}", key, lo, hi, i), key));
        }
        out.push_back(static_cast<int32_t>(i));
    }
}

const nlohmann::json* RequestFields::opt_object(const char* key) {
    const nlohmann::json* v = find(key);
    if (!v) return nullptr;
    if (!v->is_object()) {
        fail(bad_request(fmt::format("'{}' must be an object", key), key));
        return nullptr;
    }
    return v;
}

std::vector<std::string> RequestFields::unknown_keys(const std::set<std::string>& known) const {
    std::vector<std::string> out;
    for (auto it = body_.begin(); it != body_.end(); ++it) {
        if (!known.count(it.key())) out.push_back(it.key());
    }
    return out;
}

void log_unknown_fields(const char* endpoint, const std::vector<std::string>& keys) {
    if (keys.empty()) return;
    std::string list;
    for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
    log::info("{}: fields present in the request but ignored: {}", endpoint, list);
}

}  // namespace ag::server::openai
