#include "tokenizer/unicode_regex.h"

#include <cstdint>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace ag::tok {

struct UnicodeRegex::Code {
    pcre2_code* code = nullptr;
    bool jit = false;
    ~Code() { pcre2_code_free(code); }
};

namespace {

constexpr std::string_view kSpaceClass =
    "\\x{9}-\\x{d}\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}"
    "\\x{205f}\\x{3000}";

// Replaces \s and \S with explicit White_Space classes (inside and outside brackets).
std::string rewrite_spaces(std::string_view p) {
    std::string out;
    bool in_class = false;
    for (size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\' && i + 1 < p.size()) {
            const char n = p[i + 1];
            if (n == 's' || n == 'S') {
                if (in_class && n == 's') {
                    out += kSpaceClass;
                } else if (!in_class) {
                    out += n == 's' ? "[" : "[^";
                    out += kSpaceClass;
                    out += "]";
                } else {
                    out += "\\S";  // \S inside a class: rare; keep PCRE2's meaning
                }
            } else {
                out += c;
                out += n;
            }
            ++i;
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = true;
            out += c;
            if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
            if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // literal ']' first in class
            continue;
        }
        if (c == ']' && in_class) in_class = false;
        out += c;
    }
    return out;
}

// Per-thread match resources: a JIT stack big enough for long pre-tokens.
struct MatchResources {
    pcre2_match_context* context = nullptr;
    pcre2_jit_stack* jit_stack = nullptr;
    MatchResources() {
        context = pcre2_match_context_create(nullptr);
        jit_stack = pcre2_jit_stack_create(64 * 1024, 16 * 1024 * 1024, nullptr);
        if (context != nullptr && jit_stack != nullptr) {
            pcre2_jit_stack_assign(context, nullptr, jit_stack);
        }
    }
    ~MatchResources() {
        pcre2_jit_stack_free(jit_stack);
        pcre2_match_context_free(context);
    }
    MatchResources(const MatchResources&) = delete;
    MatchResources& operator=(const MatchResources&) = delete;
};

MatchResources& match_resources() {
    thread_local MatchResources resources;
    return resources;
}

struct MatchData {
    pcre2_match_data* data;
    explicit MatchData(const pcre2_code* code)
        : data(pcre2_match_data_create_from_pattern(code, nullptr)) {}
    ~MatchData() { pcre2_match_data_free(data); }
    MatchData(const MatchData&) = delete;
    MatchData& operator=(const MatchData&) = delete;
};

// One match attempt at `start`; falls back to the interpreter if the JIT runs out of stack.
int match_at(const pcre2_code* code, std::string_view text, size_t start, uint32_t options,
             pcre2_match_data* md) {
    auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    options |= PCRE2_NO_UTF_CHECK;
    int rc = pcre2_match(code, subject, text.size(), start, options, md, match_resources().context);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_MATCHLIMIT ||
        rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT) {
        rc = pcre2_match(code, subject, text.size(), start, options | PCRE2_NO_JIT, md, nullptr);
    }
    return rc;
}

}  // namespace

Result<UnicodeRegex> UnicodeRegex::compile(std::string_view pattern) {
    const std::string rewritten = rewrite_spaces(pattern);
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(),
                      PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
    if (code == nullptr) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(error, buf, sizeof(buf));
        return Status(ErrorCode::kParseError, "cannot compile regex '" + std::string(pattern) +
                                                  "' at offset " + std::to_string(offset) + ": " +
                                                  reinterpret_cast<const char*>(buf));
    }
    auto c = std::make_shared<Code>();
    c->code = code;
    c->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    UnicodeRegex re;
    re.code_ = std::move(c);
    return re;
}

void UnicodeRegex::find_all(std::string_view text,
                            std::vector<std::pair<size_t, size_t>>& out) const {
    MatchData md(code_->code);
    size_t pos = 0;
    while (pos <= text.size()) {
        const int rc = match_at(code_->code, text, pos, 0, md.data);
        if (rc < 0) return;  // no match (or an unrecoverable matcher error: treat as none)
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.data);
        const size_t start = ov[0];
        const size_t end = ov[1];
        out.emplace_back(start, end);
        if (end > start) {
            pos = end;
        } else {
            if (end >= text.size()) return;
            pos = end + 1;  // step over one code point after an empty match
            while (pos < text.size() && (static_cast<uint8_t>(text[pos]) & 0xC0) == 0x80) ++pos;
        }
    }
}

bool UnicodeRegex::search(std::string_view text) const {
    MatchData md(code_->code);
    return match_at(code_->code, text, 0, 0, md.data) >= 0;
}

}  // namespace ag::tok
