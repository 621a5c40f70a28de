// GLM chat templates rendered natively (no Jinja engine): the GLM-4.1V / AutoGLM template and
// the GLM-4.5V-style thinking template. Rules and decisions: docs/chat_template.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ag::chat {

struct ContentPart {
    enum class Type { kText, kImage, kVideo };
    Type type = Type::kText;
    std::string text;  // kText only
};

struct Message {
    std::string role;                // system | user | assistant | observation (tool = observation)
    std::vector<ContentPart> parts;
    bool content_is_string = true;   // content was a plain string (one kText part)
    std::string metadata;            // assistant metadata, may be empty
};

enum class ContentFormat {
    kParts,   // parts concatenated in order (transformers' rendering of list content)
    kString,  // vLLM --chat-template-content-format string: placeholders first, "\n"-joined
};

enum class TemplateStyle { kGlm41v, kGlm45 };

struct RenderOptions {
    bool add_generation_prompt = true;
    std::optional<bool> enable_thinking;
    ContentFormat content_format = ContentFormat::kParts;
};

inline constexpr std::string_view kImagePlaceholder = "<|begin_of_image|><|image|><|end_of_image|>";
inline constexpr std::string_view kVideoPlaceholder = "<|begin_of_video|><|video|><|end_of_video|>";

class ChatTemplate {
public:
    static ChatTemplate for_style(TemplateStyle style) { return ChatTemplate(style); }
    // GLM-4.5V-style when the source uses `/nothink` or `enable_thinking`; else GLM-4.1V.
    static ChatTemplate detect(std::string_view jinja_source);

    TemplateStyle style() const { return style_; }
    Result<std::string> render(const std::vector<Message>& messages,
                               const RenderOptions& options) const;

private:
    explicit ChatTemplate(TemplateStyle style) : style_(style) {}
    TemplateStyle style_;
};

// vLLM's "string" content format: every image/video placeholder first, then the text parts
// joined by "\n", all joined by "\n".
std::string flatten_string_format(const std::vector<ContentPart>& parts);

}  // namespace ag::chat
