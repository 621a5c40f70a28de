#include "server/openai/completions/protocol.h"

#include <fmt/format.h>

namespace ag::server::openai {

namespace {

const std::set<std::string>& completion_keys() {
    static const std::set<std::string> keys = [] {
        std::set<std::string> k = common_keys();
        k.insert({"prompt", "logprobs", "echo", "suffix"});
        return k;
    }();
    return keys;
}

std::optional<ApiError> read_ids(const nlohmann::json& list, int32_t vocab_size,
                                 std::vector<int32_t>& out) {
    for (const auto& v : list) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= vocab_size) {
            return bad_request(fmt::format("'prompt' token ids must be integers in [0, {})",
                                           vocab_size), "prompt");
        }
        out.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
    return std::nullopt;
}

std::optional<ApiError> read_prompt(const nlohmann::json& body, int32_t vocab_size,
                                    CompletionRequest& out) {
    auto it = body.find("prompt");
    if (it == body.end() || it->is_null()) return bad_request("'prompt' is required", "prompt");
    const nlohmann::json* p = &*it;
    // A batch of exactly one prompt is the prompt itself.
    if (p->is_array() && p->size() == 1 && ((*p)[0].is_string() || (*p)[0].is_array())) {
        p = &(*p)[0];
    }
    if (p->is_string()) {
        out.prompt_text = p->get<std::string>();
        return std::nullopt;
    }
    if (p->is_array() && !p->empty() && (*p)[0].is_number()) {
        return read_ids(*p, vocab_size, out.prompt_ids);
    }
    if (p->is_array() && !p->empty()) {
        return bad_request("batched prompts are not supported; send one prompt per request",
                           "prompt");
    }
    return bad_request("'prompt' must be a string or a list of token ids", "prompt");
}

void reject_unsupported(RequestFields& f) {
    std::optional<bool> echo;
    std::optional<std::string> suffix;
    f.opt_bool("echo", echo);
    f.opt_string("suffix", suffix);
    if (echo && *echo) f.fail(bad_request("'echo' is not supported", "echo"));
    if (suffix) f.fail(bad_request("'suffix' is not supported", "suffix"));
}

}  // namespace

std::optional<ApiError> parse_completion_request(const nlohmann::json& body,
                                                 const ServingContext& ctx,
                                                 CompletionRequest& out) {
    RequestFields f(body);
    read_common(f, ctx.model.vocab_size, out.common);
    std::optional<int64_t> lp;
    f.opt_int("logprobs", lp, 0, kMaxLogprobs);
    if (lp) out.logprobs = static_cast<int32_t>(*lp);
    reject_unsupported(f);
    if (!f.ok()) return f.error();
    if (auto e = read_prompt(body, ctx.model.vocab_size, out)) return e;
    log_unknown_fields("/v1/completions", f.unknown_keys(completion_keys()));
    return std::nullopt;
}

}  // namespace ag::server::openai
