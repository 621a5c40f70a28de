#include "server/openai/chat_completions/messages.h"

#include <fmt/format.h>

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

std::optional<ApiError> parse_part(const nlohmann::json& part, size_t i, size_t j,
                                   std::vector<chat::ContentPart>& parts) {
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
    if (type == "image" || type == "input_image" || type == "video_url" ||
        type == "input_audio" || type == "audio_url") {
        return bad_request(fmt::format("{} ({} part in {}); images go in 'image_url' parts",
                                       kNoMedia, type, where),
                           "messages");
    }
    return bad_request(fmt::format("{}: unknown content part type '{}'", where, type),
                       "messages");
}

std::optional<ApiError> parse_content(const nlohmann::json& content, size_t i,
                                      chat::Message& m) {
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
        if (auto e = parse_part(content[j], i, j, m.parts)) return e;
    }
    m.content_is_string = false;
    return std::nullopt;
}

}  // namespace

std::optional<ApiError> parse_messages(const nlohmann::json& messages,
                                       std::vector<chat::Message>& out) {
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
        if (auto e = parse_content(content == msg.end() ? nlohmann::json() : *content, i, m)) {
            return e;
        }
        auto meta = msg.find("metadata");
        if (meta != msg.end() && meta->is_string()) m.metadata = meta->get<std::string>();
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

}  // namespace ag::server::openai
