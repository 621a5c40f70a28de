// Chat templates: the checkpoint's own Jinja template rendered by our Jinja engine
// (jinja_template.h) with the messages shaped as vLLM hands them to transformers'
// apply_chat_template; when a checkpoint has no template, the native GLM-4.1V rules.
// Rules, decisions and fixtures: docs/chat_template.md.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace ag::chat {

struct ContentPart {
    enum class Type { kText, kImage, kVideo };
    Type type = Type::kText;
    std::string text;  // kText: the text; kImage: the image_url's url (the server loads it,
                       // the template only places the placeholder)
};

struct Message {
    std::string role;  // passed to a Jinja template as is; native styles: system | user |
                       // assistant | observation ("tool" = observation)
    std::vector<ContentPart> parts;
    bool content_is_string = true;  // content was a plain string (at most one kText part);
                                    // with no parts: JSON null content, rendered as ""
    std::string metadata;           // GLM-4 assistant metadata; passed when non-empty
    std::optional<std::string> name;
    std::optional<std::string> tool_call_id;
    std::optional<std::string> reasoning_content;
    /// Assistant tool calls in OpenAI shape ([{id, type, function: {name, arguments}}]), null
    /// when absent. A string `arguments` is parsed to JSON before templating, as vLLM does.
    nlohmann::ordered_json tool_calls;
};

enum class ContentFormat {
    kParts,   // list content rendered part by part, nothing in between (transformers)
    kString,  // vLLM --chat-template-content-format string: list content flattened first
};

enum class TemplateStyle { kJinja, kGlm41v, kGlm45 };

struct RenderOptions {
    bool add_generation_prompt = true;
    std::optional<bool> enable_thinking;  // unset = the template variable is undefined
    ContentFormat content_format = ContentFormat::kParts;
    nlohmann::ordered_json tools;            // request `tools` (array), null = none (Jinja only)
    nlohmann::ordered_json template_kwargs;  // chat_template_kwargs (object); Jinja only
    bool continue_final_message = false;     // transformers' semantics; Jinja only
};

inline constexpr std::string_view kImagePlaceholder = "<|begin_of_image|><|image|><|end_of_image|>";
inline constexpr std::string_view kVideoPlaceholder = "<|begin_of_video|><|video|><|end_of_video|>";

namespace jinja {
class Template;
}

/// A chat template. Immutable and cheap to copy; render() is thread-safe.
class ChatTemplate {
public:
    /// A native GLM style (kGlm41v / kGlm45), no Jinja involved.
    static ChatTemplate for_style(TemplateStyle style) { return ChatTemplate(style); }
    /// The checkpoint's Jinja template; an empty source gives the native GLM-4.1V style.
    /// kParseError (line, column) when the source is not a valid template.
    static Result<ChatTemplate> from_source(std::string_view jinja_source);

    TemplateStyle style() const { return style_; }

    /// The prompt text for `messages`. Jinja: errors of the template (raise_exception,
    /// undefined access...) are kInvalidArgument naming the template line; native styles:
    /// errors name the offending message (unknown role, media where the template cannot
    /// express them, tool results in the GLM-4.5V style, malformed string content).
    Result<std::string> render(const std::vector<Message>& messages,
                               const RenderOptions& options) const;

private:
    explicit ChatTemplate(TemplateStyle style) : style_(style) {}
    TemplateStyle style_;
    std::shared_ptr<const jinja::Template> jinja_;
};

/// vLLM's "string" content format for one list content: text parts joined by "\n"; then one
/// placeholder per image/video that the text does not already contain, grouped by modality in
/// order of first appearance, put in front, all joined by "\n". Error when the text holds more
/// placeholders of a kind than there are items (vLLM raises the same).
Result<std::string> flatten_string_format(const std::vector<ContentPart>& parts);

}  // namespace ag::chat
