#include "server/openai/chat_completions/protocol.h"

namespace ag::server::openai {

namespace {

const std::set<std::string>& chat_keys() {
    static const std::set<std::string> keys = [] {
        std::set<std::string> k = common_keys();
        k.insert({"messages", "logprobs", "top_logprobs", "enable_thinking",
                  "chat_template_kwargs", "add_generation_prompt", "tools", "tool_choice",
                  "response_format"});
        return k;
    }();
    return keys;
}

void read_logprobs(RequestFields& f, ChatRequest& out) {
    f.opt_bool("logprobs", out.logprobs);
    std::optional<int64_t> top;
    f.opt_int("top_logprobs", top, 0, kMaxLogprobs);
    if (!f.ok() || !top) return;
    if (!out.logprobs && *top > 0) {
        return f.fail(bad_request("when using `top_logprobs`, `logprobs` must be set to true.",
                                  "top_logprobs"));
    }
    out.top_logprobs = static_cast<int32_t>(*top);
}

void read_thinking(RequestFields& f, const nlohmann::json& body, ChatRequest& out) {
    std::optional<bool> top;
    f.opt_bool("enable_thinking", top);
    const nlohmann::json* kwargs = f.opt_object("chat_template_kwargs");
    if (kwargs && f.ok()) {
        RequestFields kf(*kwargs);
        std::optional<bool> inner;
        kf.opt_bool("enable_thinking", inner);
        if (!kf.ok()) return f.fail(bad_request(
            "'chat_template_kwargs.enable_thinking' must be a boolean", "chat_template_kwargs"));
    }
    if (f.ok()) out.prompt.enable_thinking = read_enable_thinking(body);
    f.opt_bool("add_generation_prompt", out.prompt.add_generation_prompt);
}

// Tool calling and structured output need a parser / grammar this server does not have.
void reject_unsupported(RequestFields& f, const nlohmann::json& body) {
    auto tools = body.find("tools");
    auto choice = body.find("tool_choice");
    const bool choice_none = choice != body.end() && choice->is_string() && *choice == "none";
    if (tools != body.end() && tools->is_array() && !tools->empty() && !choice_none) {
        return f.fail(bad_request("tool calling is not supported by this server", "tools"));
    }
    auto rf = body.find("response_format");
    if (rf != body.end() && rf->is_object() && rf->contains("type") &&
        (*rf)["type"] != "text") {
        f.fail(bad_request("response_format other than 'text' is not supported",
                           "response_format"));
    }
}

}  // namespace

std::optional<ApiError> parse_chat_request(const nlohmann::json& body, const ServingContext& ctx,
                                           ChatRequest& out) {
    RequestFields f(body);
    read_common(f, ctx.model.vocab_size, out.common);
    read_logprobs(f, out);
    read_thinking(f, body, out);
    reject_unsupported(f, body);
    if (!f.ok()) return f.error();
    auto messages = body.find("messages");
    if (messages == body.end()) return bad_request("'messages' is required", "messages");
    if (auto e = parse_messages(*messages, out.messages, out.audio)) return e;
    log_unknown_fields("/v1/chat/completions", f.unknown_keys(chat_keys()));
    return std::nullopt;
}

}  // namespace ag::server::openai
