// GLM chat templates rendered natively (no Jinja engine): the GLM-4.1V / AutoGLM template and
// the GLM-4.5V-style thinking template. Rules, decisions and fixtures: docs/chat_template.md.
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
    std::string text;  // kText: the text; kImage: the image_url's url (the server loads it,
                       // the template only places the placeholder)
};

struct Message {
    std::string role;  // system | user | assistant | observation ("tool" = observation)
    std::vector<ContentPart> parts;
    bool content_is_string = true;  // content was a plain string (at most one kText part)
    std::string metadata;           // assistant metadata, may be empty (GLM-4.1V style only)
};

enum class ContentFormat {
    kParts,   // list content rendered part by part, nothing in between (transformers)
    kString,  // vLLM --chat-template-content-format string: list content flattened first
};

enum class TemplateStyle { kGlm41v, kGlm45 };

struct RenderOptions {
    bool add_generation_prompt = true;
    std::optional<bool> enable_thinking;  // unset = the template variable is undefined
    ContentFormat content_format = ContentFormat::kParts;
};

inline constexpr std::string_view kImagePlaceholder = "<|begin_of_image|><|image|><|end_of_image|>";
inline constexpr std::string_view kVideoPlaceholder = "<|begin_of_video|><|video|><|end_of_video|>";

/// A GLM chat template. Immutable and cheap to copy; render() is thread-safe.
class ChatTemplate {
public:
    static ChatTemplate for_style(TemplateStyle style) { return ChatTemplate(style); }
    /// GLM-4.5V style when the Jinja source mentions `/nothink` or `enable_thinking`, else
    /// GLM-4.1V style (also for an empty source).
    static ChatTemplate detect(std::string_view jinja_source);

    TemplateStyle style() const { return style_; }

    /// The prompt text for `messages`. Errors (kInvalidArgument / kUnsupported) name the
    /// offending message: unknown role, image/video parts where the template cannot express
    /// them, tool results in the GLM-4.5V style, malformed string content.
    Result<std::string> render(const std::vector<Message>& messages,
                               const RenderOptions& options) const;

private:
    explicit ChatTemplate(TemplateStyle style) : style_(style) {}
    TemplateStyle style_;
};

/// vLLM's "string" content format for one list content: text parts joined by "\n"; then one
/// placeholder per image/video that the text does not already contain, grouped by modality in
/// order of first appearance, put in front, all joined by "\n". Error when the text holds more
/// placeholders of a kind than there are items (vLLM raises the same).
Result<std::string> flatten_string_format(const std::vector<ContentPart>& parts);

}  // namespace ag::chat
