#include "chat/chat_template.h"

#include <cstdint>
#include <utility>

#include "chat/jinja_template.h"
#include "chat/template_context.h"

namespace ag::chat {

namespace {

using PartType = ContentPart::Type;

// ---- Python string semantics used by the templates -------------------------------------

// Python's str.isspace(), which str.strip() uses.
bool is_py_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

// Decodes the UTF-8 sequence of `len` bytes at s[pos]; invalid input gives a non-space value.
uint32_t decode_utf8(std::string_view s, size_t pos, size_t len) {
    const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(s[i])); };
    if (len == 1) return byte(pos);
    uint32_t c = byte(pos) & (0x7fu >> len);
    for (size_t i = 1; i < len; ++i) c = (c << 6) | (byte(pos + i) & 0x3fu);
    return c;
}

size_t utf8_len(uint8_t lead) {
    if (lead < 0x80) return 1;
    if ((lead >> 5) == 0x6) return 2;
    if ((lead >> 4) == 0xe) return 3;
    if ((lead >> 3) == 0x1e) return 4;
    return 0;  // continuation or invalid byte
}

// Python's str.strip() with no argument (Unicode whitespace), on UTF-8 text.
std::string_view py_strip(std::string_view s) {
    size_t b = 0;
    while (b < s.size()) {
        const size_t n = utf8_len(static_cast<uint8_t>(s[b]));
        if (n == 0 || b + n > s.size() || !is_py_space(decode_utf8(s, b, n))) break;
        b += n;
    }
    size_t e = s.size();
    while (e > b) {
        size_t start = e - 1;
        while (start > b && (static_cast<uint8_t>(s[start]) & 0xc0) == 0x80) --start;
        const size_t n = utf8_len(static_cast<uint8_t>(s[start]));
        if (n != e - start || !is_py_space(decode_utf8(s, start, n))) break;
        e = start;
    }
    return s.substr(b, e - b);
}

std::string_view py_strip_right(std::string_view s) {
    const std::string_view core = py_strip(s);
    if (core.empty()) return {};
    return s.substr(0, static_cast<size_t>(core.data() - s.data()) + core.size());
}

std::string_view strip_newlines_left(std::string_view s) {
    while (!s.empty() && s.front() == '\n') s.remove_prefix(1);
    return s;
}

std::string_view strip_newlines_right(std::string_view s) {
    while (!s.empty() && s.back() == '\n') s.remove_suffix(1);
    return s;
}

size_t count_occurrences(std::string_view s, std::string_view needle) {
    size_t n = 0;
    for (size_t pos = s.find(needle); pos != std::string_view::npos;
         pos = s.find(needle, pos + needle.size())) {
        ++n;
    }
    return n;
}

// ---- message content as the template sees it -------------------------------------------

std::string_view placeholder(PartType t) {
    return t == PartType::kImage ? kImagePlaceholder : kVideoPlaceholder;
}

std::string where(size_t index) { return "messages[" + std::to_string(index) + "]"; }

// Content after the content-format step: a string, or (kParts only) the list of parts.
struct TemplateContent {
    bool is_list = false;
    std::string text;                               // !is_list
    const std::vector<ContentPart>* parts = nullptr;  // is_list
};

Result<TemplateContent> template_content(const Message& m, ContentFormat format, size_t index) {
    TemplateContent c;
    if (m.content_is_string) {
        if (m.parts.size() > 1 || (m.parts.size() == 1 && m.parts[0].type != PartType::kText)) {
            return Status(ErrorCode::kInvalidArgument,
                          where(index) + ": string content must be at most one text part");
        }
        if (!m.parts.empty()) c.text = m.parts[0].text;
        return c;
    }
    switch (format) {
        case ContentFormat::kString: {
            Result<std::string> flat = flatten_string_format(m.parts);
            if (!flat.ok()) {
                return Status(flat.status().code(), where(index) + ": " + flat.status().message());
            }
            c.text = std::move(flat).value();
            return c;
        }
        case ContentFormat::kParts:
            c.is_list = true;
            c.parts = &m.parts;
            return c;
    }
    return c;
}

// List content rendered in order, placeholders for media (GLM-4.5V's visible_text()).
std::string concat_parts(const std::vector<ContentPart>& parts) {
    std::string out;
    for (const ContentPart& p : parts) {
        if (p.type == PartType::kText) out += p.text;
        else out += placeholder(p.type);
    }
    return out;
}

// Text of content that the template prints as a plain string (see docs: list content there
// is joined text; media cannot be expressed).
Result<std::string> string_only(const TemplateContent& c, const Message& m, size_t index,
                                std::string_view template_name) {
    if (!c.is_list) return c.text;
    std::string out;
    for (const ContentPart& p : *c.parts) {
        if (p.type != PartType::kText) {
            return Status(ErrorCode::kInvalidArgument,
                          where(index) + ": image/video parts are not supported in a '" + m.role +
                              "' message by the " + std::string(template_name) + " template");
        }
        out += p.text;
    }
    return out;
}

std::string visible_text(const TemplateContent& c) {
    return c.is_list ? concat_parts(*c.parts) : c.text;
}

bool is_observation(const std::string& role) { return role == "observation" || role == "tool"; }

Status check_role(const Message& m, size_t index) {
    if (m.role == "system" || m.role == "user" || m.role == "assistant" || is_observation(m.role)) {
        return {};
    }
    return Status(ErrorCode::kInvalidArgument,
                  where(index) + ": unsupported role '" + m.role +
                      "' (expected system, user, assistant, observation or tool)");
}

// ---- GLM-4.1V (spec glm4v.md §4.3) ------------------------------------------------------

constexpr std::string_view kGlm41vName = "GLM-4.1V";

Result<std::string> render_glm41v(const std::vector<Message>& messages, const RenderOptions& o) {
    std::string out = "[gMASK]<sop>";
    for (size_t i = 0; i < messages.size(); ++i) {
        const Message& m = messages[i];
        AG_RETURN_IF_ERROR(check_role(m, i));
        Result<TemplateContent> c = template_content(m, o.content_format, i);
        if (!c.ok()) return c.status();
        if (m.role == "user") {
            out += "<|user|>\n" + visible_text(*c);
            continue;
        }
        Result<std::string> text = string_only(*c, m, i, kGlm41vName);
        if (!text.ok()) return text.status();
        if (m.role == "system") out += "<|system|>\n" + *text;
        else if (m.role == "assistant") out += "<|assistant|>" + m.metadata + "\n" + *text;
        else out += "<|observation|>\n" + *text;
    }
    if (o.add_generation_prompt) out += "<|assistant|>\n";
    return out;
}

// ---- GLM-4.5V style (public GLM-V template, thinking subset) ----------------------------

// `<|assistant|>` turn: the reasoning is kept only for turns after the last user message;
// earlier turns get an empty think block. `keep_reasoning`: index > last user index.
std::string glm45_assistant(std::string_view content, bool keep_reasoning) {
    std::string_view reasoning;
    constexpr std::string_view kOpen = "<think>";
    constexpr std::string_view kClose = "</think>";
    if (const size_t first_close = content.find(kClose); first_close != std::string_view::npos) {
        // content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n')
        std::string_view before = strip_newlines_right(content.substr(0, first_close));
        if (const size_t open = before.rfind(kOpen); open != std::string_view::npos) {
            before = before.substr(open + kOpen.size());
        }
        reasoning = strip_newlines_left(before);
        // content.split('</think>')[-1].lstrip('\n')
        content = strip_newlines_left(content.substr(content.rfind(kClose) + kClose.size()));
    }
    std::string out = "<|assistant|>\n<think>";
    if (keep_reasoning && !reasoning.empty()) out += py_strip(reasoning);
    out += "</think>";
    if (const std::string_view answer = py_strip(content); !answer.empty()) {
        out += "\n";
        out += answer;
    }
    return out;
}

Result<std::string> render_glm45(const std::vector<Message>& messages, const RenderOptions& o) {
    const bool no_think = o.enable_thinking.has_value() && !*o.enable_thinking;
    size_t n_before_last_user = 0;  // index of the last user message + 1 (0: none)
    for (size_t i = 0; i < messages.size(); ++i) {
        if (messages[i].role == "user") n_before_last_user = i + 1;
    }
    std::string out = "[gMASK]<sop>";
    for (size_t i = 0; i < messages.size(); ++i) {
        const Message& m = messages[i];
        AG_RETURN_IF_ERROR(check_role(m, i));
        if (is_observation(m.role)) {
            return Status(ErrorCode::kUnsupported,
                          where(i) + ": tool results ('" + m.role +
                              "' messages) are not supported by the GLM-4.5V-style renderer");
        }
        Result<TemplateContent> c = template_content(m, o.content_format, i);
        if (!c.ok()) return c.status();
        const std::string text = visible_text(*c);
        if (m.role == "system") {
            out += "<|system|>\n" + text;
        } else if (m.role == "user") {
            out += "<|user|>\n" + text;
            if (no_think && !text.ends_with("/nothink")) out += "/nothink";
        } else {
            out += glm45_assistant(text, i >= n_before_last_user);
        }
    }
    if (o.add_generation_prompt) {
        out += "<|assistant|>\n";
        if (no_think) out += "<think></think>\n";
    }
    return out;
}

}  // namespace

Result<std::string> flatten_string_format(const std::vector<ContentPart>& parts) {
    std::string text;
    bool first_text = true;
    // Placeholder kinds in order of first appearance, with their item counts.
    std::vector<std::pair<PartType, size_t>> counts;
    for (const ContentPart& p : parts) {
        if (p.type == PartType::kText) {
            if (!first_text) text += "\n";
            text += p.text;
            first_text = false;
            continue;
        }
        auto it = counts.begin();
        while (it != counts.end() && it->first != p.type) ++it;
        if (it == counts.end()) counts.emplace_back(p.type, 1);
        else ++it->second;
    }
    if (counts.empty()) return text;
    std::string out;
    for (const auto& [type, n_items] : counts) {
        const size_t n_in_text = count_occurrences(text, placeholder(type));
        if (n_in_text > n_items) {
            return Status(ErrorCode::kInvalidArgument,
                          "the text holds more '" + std::string(placeholder(type)) +
                              "' placeholders than there are " +
                              (type == PartType::kImage ? "images" : "videos"));
        }
        for (size_t k = n_in_text; k < n_items; ++k) {
            out += placeholder(type);
            out += "\n";
        }
    }
    return out + text;
}

Result<ChatTemplate> ChatTemplate::from_source(std::string_view jinja_source) {
    if (jinja_source.empty()) return ChatTemplate(TemplateStyle::kGlm41v);
    Result<jinja::Template> t = jinja::Template::parse(jinja_source);
    if (!t.ok()) return t.status();
    ChatTemplate out(TemplateStyle::kJinja);
    out.jinja_ = std::make_shared<const jinja::Template>(std::move(t).value());
    return out;
}

namespace {

// transformers' continue_final_message: render with a tag after the final message's text,
// then cut the prompt at the tag.
constexpr std::string_view kContinueTag = "CONTINUE_FINAL_MESSAGE_TAG ";

Result<std::string> cut_at_continue_tag(std::string rendered) {
    const std::string_view stripped = kContinueTag.substr(0, kContinueTag.size() - 1);
    const size_t at = rendered.rfind(stripped);
    if (at == std::string::npos) {
        return Status(ErrorCode::kInvalidArgument,
                      "continue_final_message: the final message does not appear in the "
                      "rendered prompt (the template changes or drops it)");
    }
    if (rendered.compare(at, kContinueTag.size(), kContinueTag) == 0) {
        rendered.resize(at);
        return rendered;
    }
    rendered.resize(at);
    return std::string(py_strip_right(rendered));
}

}  // namespace

Result<std::string> ChatTemplate::render(const std::vector<Message>& messages,
                                         const RenderOptions& options) const {
    switch (style_) {
        case TemplateStyle::kJinja: {
            const bool cont = options.continue_final_message;
            if (cont && messages.empty()) {
                return Status(ErrorCode::kInvalidArgument,
                              "continue_final_message is set but the conversation is empty");
            }
            Result<TemplateContext> ctx =
                make_template_context(messages, options, cont ? std::string(kContinueTag) : "");
            if (!ctx.ok()) return ctx.status();
            Result<std::string> out = jinja_->render(*ctx);
            if (!out.ok() || !cont) return out;
            return cut_at_continue_tag(std::move(out).value());
        }
        case TemplateStyle::kGlm41v: return render_glm41v(messages, options);
        case TemplateStyle::kGlm45: return render_glm45(messages, options);
    }
    return Status(ErrorCode::kInternal, "unknown template style");
}

}  // namespace ag::chat
