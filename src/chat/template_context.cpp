#include "chat/template_context.h"

namespace ag::chat {

namespace {

using jinja::Value;
using Items = std::vector<std::pair<std::string, Value>>;

std::string where(size_t i) { return "messages[" + std::to_string(i) + "]"; }

Value part_value(const ContentPart& p) {
    switch (p.type) {
        case ContentPart::Type::kText: return Value::dict({{"type", Value("text")}, {"text", Value(p.text)}});
        case ContentPart::Type::kImage: return Value::dict({{"type", Value("image")}});
        case ContentPart::Type::kVideo: return Value::dict({{"type", Value("video")}});
    }
    return Value::none();
}

Result<Value> content_value(const Message& m, ContentFormat format, size_t index,
                            const std::string& tag) {
    if (m.content_is_string) {
        if (m.parts.size() > 1 || (m.parts.size() == 1 && m.parts[0].type != ContentPart::Type::kText)) {
            return Status(ErrorCode::kInvalidArgument,
                          where(index) + ": string content must be at most one text part");
        }
        return Value((m.parts.empty() ? std::string() : m.parts[0].text) + tag);
    }
    if (format == ContentFormat::kString) {
        Result<std::string> flat = flatten_string_format(m.parts);
        if (!flat.ok()) {
            return Status(flat.status().code(), where(index) + ": " + flat.status().message());
        }
        return Value(*flat + tag);
    }
    std::vector<Value> parts;
    size_t last_text = m.parts.size();
    for (size_t j = 0; j < m.parts.size(); ++j) {
        if (m.parts[j].type == ContentPart::Type::kText) last_text = j;
    }
    if (!tag.empty() && last_text == m.parts.size()) {
        return Status(ErrorCode::kInvalidArgument,
                      "continue_final_message: the final message has no text to continue");
    }
    for (size_t j = 0; j < m.parts.size(); ++j) {
        ContentPart p = m.parts[j];
        if (j == last_text) p.text += tag;
        parts.push_back(part_value(p));
    }
    return Value::list(std::move(parts));
}

// vLLM's _postprocess_messages: assistant tool-call arguments become JSON values; missing or
// empty arguments become {}.
Result<Value> tool_calls_value(const nlohmann::ordered_json& calls, size_t index, bool assistant) {
    if (!calls.is_array() || !assistant) return Value::from_json(calls);
    nlohmann::ordered_json out = calls;
    for (size_t j = 0; j < out.size(); ++j) {
        auto& tc = out[j];
        if (!tc.is_object() || !tc.contains("function") || !tc["function"].is_object()) continue;
        auto& fn = tc["function"];
        auto it = fn.find("arguments");
        const bool empty = it == fn.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty()) ||
                           (it->is_object() && it->empty()) || (it->is_array() && it->empty()) ||
                           (it->is_boolean() && !it->get<bool>()) ||
                           (it->is_number() && it->get<double>() == 0);
        if (empty) {
            fn["arguments"] = nlohmann::ordered_json::object();
        } else if (it->is_string()) {
            auto parsed = nlohmann::ordered_json::parse(it->get<std::string>(), nullptr, false);
            if (parsed.is_discarded()) {
                return Status(ErrorCode::kInvalidArgument,
                              where(index) + ".tool_calls[" + std::to_string(j) +
                                  "].function.arguments is not valid JSON");
            }
            *it = std::move(parsed);
        }
    }
    return Value::from_json(out);
}

Result<Value> message_value(const Message& m, const RenderOptions& o, size_t index,
                            const std::string& tag) {
    Result<Value> content = content_value(m, o.content_format, index, tag);
    if (!content.ok()) return content.status();
    Items items;
    if (m.reasoning_content) items.emplace_back("thinking", Value(*m.reasoning_content));
    items.emplace_back("role", Value(m.role));
    items.emplace_back("content", std::move(content).value());
    if (!m.metadata.empty()) items.emplace_back("metadata", Value(m.metadata));
    if (m.name) items.emplace_back("name", Value(*m.name));
    if (!m.tool_calls.is_null()) {
        Result<Value> calls = tool_calls_value(m.tool_calls, index, m.role == "assistant");
        if (!calls.ok()) return calls.status();
        items.emplace_back("tool_calls", std::move(calls).value());
    }
    if (m.tool_call_id) items.emplace_back("tool_call_id", Value(*m.tool_call_id));
    if (m.reasoning_content) items.emplace_back("reasoning_content", Value(*m.reasoning_content));
    return Value::dict(std::move(items));
}

}  // namespace

Result<TemplateContext> make_template_context(const std::vector<Message>& messages,
                                              const RenderOptions& options,
                                              const std::string& continue_tag) {
    std::vector<Value> msgs;
    for (size_t i = 0; i < messages.size(); ++i) {
        const bool last = i + 1 == messages.size();
        Result<Value> v = message_value(messages[i], options, i, last ? continue_tag : "");
        if (!v.ok()) return v.status();
        msgs.push_back(std::move(v).value());
    }
    TemplateContext ctx;
    ctx.emplace_back("messages", Value::list(std::move(msgs)));
    ctx.emplace_back("tools", options.tools.is_null() ? Value::none() : Value::from_json(options.tools));
    ctx.emplace_back("documents", Value::none());
    ctx.emplace_back("add_generation_prompt", Value(options.add_generation_prompt));
    if (options.template_kwargs.is_object()) {
        for (const auto& [k, v] : options.template_kwargs.items()) {
            ctx.emplace_back(k, Value::from_json(v));
        }
    }
    if (options.enable_thinking) ctx.emplace_back("enable_thinking", Value(*options.enable_thinking));
    return ctx;
}

}  // namespace ag::chat
