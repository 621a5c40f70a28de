#include "chat/chat_template.h"

#include <fmt/format.h>

namespace ag::chat {

namespace {

std::string_view strip(std::string_view s) {
    const char* ws = " \t\n\r\f\v";
    const size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string_view placeholder(ContentPart::Type t) {
    return t == ContentPart::Type::kImage ? kImagePlaceholder : kVideoPlaceholder;
}

// Text of a message as the template sees it (string content, or parts concatenated in order).
std::string user_content(const Message& m, ContentFormat fmt) {
    if (m.content_is_string) return m.parts.empty() ? std::string() : m.parts[0].text;
    if (fmt == ContentFormat::kString) return flatten_string_format(m.parts);
    std::string out;
    for (const auto& p : m.parts) {
        if (p.type == ContentPart::Type::kText) out += p.text;
        else out += placeholder(p.type);
    }
    return out;
}

// Only the text parts (for system/assistant turns, which the templates print as strings).
std::string text_only(const Message& m) {
    std::string out;
    for (const auto& p : m.parts) {
        if (p.type == ContentPart::Type::kText) out += p.text;
    }
    return out;
}

std::string visible_text(const Message& m, ContentFormat fmt) {
    if (m.content_is_string || fmt == ContentFormat::kString) return user_content(m, fmt);
    return text_only(m);
}

Status check_roles(const std::vector<Message>& messages) {
    for (size_t i = 0; i < messages.size(); ++i) {
        const Message& m = messages[i];
        if (m.role != "system" && m.role != "user" && m.role != "assistant" &&
            m.role != "observation" && m.role != "tool") {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("messages[{}]: unsupported role '{}' (expected system, user, "
                                      "assistant, observation or tool)", i, m.role));
        }
        if (m.role != "user") {
            for (const auto& p : m.parts) {
                if (p.type != ContentPart::Type::kText) {
                    return Status(ErrorCode::kInvalidArgument,
                                  fmt::format("messages[{}]: images and videos are only supported "
                                              "in user messages", i));
                }
            }
        }
    }
    return {};
}

}  // namespace

std::string flatten_string_format(const std::vector<ContentPart>& parts) {
    std::vector<std::string> pieces;
    std::string text;
    bool any_text = false;
    for (const auto& p : parts) {
        if (p.type == ContentPart::Type::kText) {
            text += (any_text ? "\n" : "") + p.text;
            any_text = true;
        } else {
            pieces.emplace_back(placeholder(p.type));
        }
    }
    if (pieces.empty()) return text;
    std::string out;
    for (const auto& s : pieces) out += s + "\n";
    return out + text;
}

ChatTemplate ChatTemplate::detect(std::string_view src) {
    const bool glm45 = src.find("/nothink") != std::string_view::npos ||
                       src.find("enable_thinking") != std::string_view::npos;
    return ChatTemplate(glm45 ? TemplateStyle::kGlm45 : TemplateStyle::kGlm41v);
}

Result<std::string> ChatTemplate::render(const std::vector<Message>& messages,
                                         const RenderOptions& o) const {
    AG_RETURN_IF_ERROR(check_roles(messages));
    const bool glm45 = style_ == TemplateStyle::kGlm45;
    const bool no_think = glm45 && o.enable_thinking.has_value() && !*o.enable_thinking;
    int last_user = -1;
    for (size_t i = 0; i < messages.size(); ++i) {
        if (messages[i].role == "user") last_user = static_cast<int>(i);
    }
    std::string out = "[gMASK]<sop>";
    for (size_t i = 0; i < messages.size(); ++i) {
        const Message& m = messages[i];
        if (m.role == "system") {
            out += "<|system|>\n" + text_only(m);
        } else if (m.role == "user") {
            out += "<|user|>\n" + user_content(m, o.content_format);
            if (no_think && !visible_text(m, o.content_format).ends_with("/nothink")) out += "/nothink";
        } else if (m.role == "observation" || m.role == "tool") {
            out += "<|observation|>\n" + text_only(m);
        } else if (!glm45) {  // GLM-4.1V assistant turn
            out += "<|assistant|>" + m.metadata + "\n" + text_only(m);
        } else {  // GLM-4.5V assistant turn: think block, then the stripped answer
            std::string content = text_only(m);
            std::string reasoning;
            if (const size_t end = content.find("</think>"); end != std::string::npos) {
                std::string before = content.substr(0, end);
                if (const size_t b = before.rfind("<think>"); b != std::string::npos) {
                    before = before.substr(b + 7);
                }
                reasoning = std::string(strip(before));
                content = content.substr(content.rfind("</think>") + 8);
            }
            out += "<|assistant|>";
            if (static_cast<int>(i) > last_user && !reasoning.empty()) {
                out += "\n<think>" + reasoning + "</think>";
            } else {
                out += "\n<think></think>";
            }
            if (!strip(content).empty()) out += "\n" + std::string(strip(content));
        }
    }
    if (o.add_generation_prompt) {
        if (!glm45) out += "<|assistant|>\n";
        else out += no_think ? "<|assistant|>\n<think></think>" : "<|assistant|>";
    }
    return out;
}

}  // namespace ag::chat
