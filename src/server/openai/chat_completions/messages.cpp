#include "server/openai/chat_completions/messages.h"

#include <fmt/format.h>

#include <algorithm>

namespace ag::server::openai {

namespace {

constexpr const char* kNoMedia = "input of this kind is not supported";

// image_url: {"url": "..."} as OpenAI sends it, or a bare string (accepted by vLLM too).
std::optional<ApiError> parse_image_part(const nlohmann::json& part, const std::string& where,
                                         std::vector<chat::ContentPart>& parts) {
    auto it = part.find("image_url");
    std::string url;
    if (it != part.end() && it->is_string()) {
        url = it->get<std::string>();
    } else if (it != part.end() && it->is_object() && it->contains("url") &&
               (*it)["url"].is_string()) {
        url = (*it)["url"].get<std::string>();
    } else {
        return bad_request(where + ".image_url must be an object with a string 'url'",
                           "messages");
    }
    chat::ContentPart p;
    p.type = chat::ContentPart::Type::kImage;
    p.text = std::move(url);
    parts.push_back(std::move(p));
    return std::nullopt;
}

// input_audio: {"data": BASE64, "format": "wav"|"mp3"|...} (OpenAI); audio_url: {"url": ...}
// or a bare string (vLLM). Either becomes an empty text part that the transcript fills
// (audio_input.h), recorded in `audio`.
std::optional<ApiError> parse_audio_part(const nlohmann::json& part, const std::string& type,
                                         const std::string& where, size_t i,
                                         std::vector<chat::ContentPart>& parts,
                                         std::vector<AudioPart>& audio) {
    AudioPart a{i, parts.size(), "", where};
    auto it = part.find(type);
    if (type == "input_audio") {
        if (it == part.end() || !it->is_object() || !it->contains("data") ||
            !(*it)["data"].is_string()) {
            return bad_request(where + ".input_audio must be an object with a base64 string "
                               "'data' and a 'format'", "messages");
        }
        std::string format = "wav";
        if (auto f = it->find("format"); f != it->end() && f->is_string()) {
            format = f->get<std::string>();
        }
        a.source = "data:audio/" + format + ";base64," + (*it)["data"].get<std::string>();
    } else if (it != part.end() && it->is_string()) {
        a.source = it->get<std::string>();
    } else if (it != part.end() && it->is_object() && it->contains("url") &&
               (*it)["url"].is_string()) {
        a.source = (*it)["url"].get<std::string>();
    } else {
        return bad_request(where + ".audio_url must be an object with a string 'url'",
                           "messages");
    }
    audio.push_back(std::move(a));
    parts.push_back({chat::ContentPart::Type::kText, ""});
    return std::nullopt;
}

std::optional<ApiError> parse_part(const nlohmann::json& part, size_t i, size_t j,
                                   std::vector<chat::ContentPart>& parts,
                                   std::vector<AudioPart>& audio) {
    const std::string where = fmt::format("messages[{}].content[{}]", i, j);
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
        return bad_request(where + " must be an object with a string 'type'", "messages");
    }
    const std::string type = part["type"].get<std::string>();
    if (type == "text") {
        auto it = part.find("text");
        if (it == part.end() || !it->is_string()) {
            return bad_request(where + ".text must be a string", "messages");
        }
        parts.push_back({chat::ContentPart::Type::kText, it->get<std::string>()});
        return std::nullopt;
    }
    if (type == "image_url") return parse_image_part(part, where, parts);
    if (type == "input_audio" || type == "audio_url") {
        return parse_audio_part(part, type, where, i, parts, audio);
    }
    if (type == "image" || type == "input_image" || type == "video_url") {
        return bad_request(fmt::format("{} ({} part in {}); images go in 'image_url' parts",
                                       kNoMedia, type, where),
                           "messages");
    }
    return bad_request(fmt::format("{}: unknown content part type '{}'", where, type),
                       "messages");
}

std::optional<ApiError> parse_content(const nlohmann::json& content, size_t i,
                                      chat::Message& m, std::vector<AudioPart>& audio) {
    if (content.is_null()) {
        m.content_is_string = true;
        return std::nullopt;
    }
    if (content.is_string()) {
        m.parts.push_back({chat::ContentPart::Type::kText, content.get<std::string>()});
        m.content_is_string = true;
        return std::nullopt;
    }
    if (!content.is_array()) {
        return bad_request(fmt::format("messages[{}].content must be a string or a list", i),
                           "messages");
    }
    for (size_t j = 0; j < content.size(); ++j) {
        if (auto e = parse_part(content[j], i, j, m.parts, audio)) return e;
    }
    m.content_is_string = false;
    return std::nullopt;
}

// An optional string field; null counts as absent (vLLM drops None values).
std::optional<ApiError> opt_string(const nlohmann::json& msg, const char* key, size_t i,
                                   std::optional<std::string>& out) {
    auto it = msg.find(key);
    if (it == msg.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) {
        return bad_request(fmt::format("messages[{}].{} must be a string", i, key), "messages");
    }
    out = it->get<std::string>();
    return std::nullopt;
}

std::optional<ApiError> check_tool_calls(const nlohmann::json& calls, size_t i) {
    if (!calls.is_array()) {
        return bad_request(fmt::format("messages[{}].tool_calls must be a list", i), "messages");
    }
    for (size_t j = 0; j < calls.size(); ++j) {
        const nlohmann::json& tc = calls[j];
        const auto fn = tc.is_object() ? tc.find("function") : tc.end();
        if (!tc.is_object() || fn == tc.end() || !fn->is_object() || !fn->contains("name") ||
            !(*fn)["name"].is_string()) {
            return bad_request(fmt::format("messages[{}].tool_calls[{}] must be an object with "
                                           "a 'function' holding a string 'name'", i, j),
                               "messages");
        }
    }
    return std::nullopt;
}

std::optional<ApiError> parse_message_fields(const nlohmann::json& msg, size_t i,
                                             chat::Message& m) {
    auto meta = msg.find("metadata");
    if (meta != msg.end() && meta->is_string()) m.metadata = meta->get<std::string>();
    if (auto e = opt_string(msg, "name", i, m.name)) return e;
    if (auto e = opt_string(msg, "tool_call_id", i, m.tool_call_id)) return e;
    if (auto e = opt_string(msg, "reasoning_content", i, m.reasoning_content)) return e;
    if (!m.reasoning_content) {  // the newer OpenAI-compatible name
        if (auto e = opt_string(msg, "reasoning", i, m.reasoning_content)) return e;
    }
    auto calls = msg.find("tool_calls");
    if (calls != msg.end() && !calls->is_null()) {
        if (auto e = check_tool_calls(*calls, i)) return e;
        m.tool_calls = nlohmann::ordered_json::parse(calls->dump());  // reordered by
                                                                       // read_template_inputs
    }
    return std::nullopt;
}

}  // namespace

std::optional<ApiError> parse_messages(const nlohmann::json& messages,
                                       std::vector<chat::Message>& out,
                                       std::vector<AudioPart>& audio) {
    if (!messages.is_array() || messages.empty()) {
        return bad_request("'messages' must be a non-empty list", "messages");
    }
    for (size_t i = 0; i < messages.size(); ++i) {
        const nlohmann::json& msg = messages[i];
        if (!msg.is_object() || !msg.contains("role") || !msg["role"].is_string()) {
            return bad_request(fmt::format("messages[{}] must be an object with a string 'role'",
                                           i), "messages");
        }
        chat::Message m;
        m.role = msg["role"].get<std::string>();
        if (m.role == "developer") m.role = "system";
        auto content = msg.find("content");
        if (auto e = parse_content(content == msg.end() ? nlohmann::json() : *content, i, m,
                                   audio)) {
            return e;
        }
        if (auto e = parse_message_fields(msg, i, m)) return e;
        out.push_back(std::move(m));
    }
    return std::nullopt;
}

std::optional<ApiError> render_prompt(const ServingContext& ctx,
                                      const std::vector<chat::Message>& messages,
                                      const PromptOptions& options, std::string& out) {
    if (!ctx.chat_template) {
        return bad_request("this model has no chat template; use /v1/completions");
    }
    chat::RenderOptions ro;
    ro.add_generation_prompt = options.add_generation_prompt;
    ro.content_format = ctx.content_format == ContentFormat::kString
                            ? chat::ContentFormat::kString
                            : chat::ContentFormat::kParts;
    if (options.enable_thinking) ro.enable_thinking = *options.enable_thinking;
    ro.tools = options.tools;
    ro.template_kwargs = options.template_kwargs;
    ro.continue_final_message = options.continue_final_message;
    Result<std::string> r = ctx.chat_template->render(messages, ro);
    if (!r.ok()) return bad_request("cannot apply the chat template: " + r.status().message(),
                                    "messages");
    out = std::move(r).value();
    return std::nullopt;
}

std::optional<bool> read_enable_thinking(const nlohmann::json& body) {
    std::optional<bool> v;
    auto top = body.find("enable_thinking");
    if (top != body.end() && top->is_boolean()) v = top->get<bool>();
    auto kw = body.find("chat_template_kwargs");
    if (kw != body.end() && kw->is_object()) {
        auto it = kw->find("enable_thinking");
        if (it != kw->end() && it->is_boolean()) v = it->get<bool>();
    }
    return v;
}

std::optional<ApiError> read_template_inputs(const std::string& raw_body,
                                             const nlohmann::json& body,
                                             std::vector<chat::Message>& messages,
                                             PromptOptions& out) {
    if (auto it = body.find("continue_final_message"); it != body.end() && !it->is_null()) {
        if (!it->is_boolean()) {
            return bad_request("'continue_final_message' must be a boolean",
                               "continue_final_message");
        }
        out.continue_final_message = it->get<bool>();
        if (out.continue_final_message && out.add_generation_prompt) {
            return bad_request("Cannot set both `continue_final_message` and "
                               "`add_generation_prompt` to True.",
                               "continue_final_message");
        }
    }
    const bool has_calls = std::any_of(messages.begin(), messages.end(), [](const auto& m) {
        return !m.tool_calls.is_null();
    });
    const bool has_tools = body.contains("tools") && !body["tools"].is_null();
    const bool has_kwargs = body.contains("chat_template_kwargs") &&
                            body["chat_template_kwargs"].is_object();
    if (!has_calls && !has_tools && !has_kwargs) return std::nullopt;
    const auto ordered = nlohmann::ordered_json::parse(raw_body, nullptr, false);
    if (!ordered.is_object()) return bad_request("the request body is not a JSON object");
    if (has_tools) {
        const auto& tools = ordered["tools"];
        if (!tools.is_array()) return bad_request("'tools' must be a list", "tools");
        out.tools = tools;
    }
    if (has_kwargs) out.template_kwargs = ordered["chat_template_kwargs"];
    const auto& msgs = ordered["messages"];
    for (size_t i = 0; i < messages.size() && msgs.is_array() && i < msgs.size(); ++i) {
        if (messages[i].tool_calls.is_null() || !msgs[i].is_object()) continue;
        messages[i].tool_calls = msgs[i]["tool_calls"];
    }
    return std::nullopt;
}

}  // namespace ag::server::openai
