// Jinja lexer with transformers' environment settings: trim_blocks and lstrip_blocks on,
// keep_trailing_newline off, "\r\n" / "\r" normalised to "\n". Whitespace control (`{%-`,
// `-%}`, `{%+`, `+%}`, and the same for `{{ }}` and `{# #}`) and `{% raw %}` are resolved here,
// so the parser sees text tokens whose whitespace is already final.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ag::chat::jinja {

struct Token {
    enum class Type {
        kText,
        kVarBegin,
        kVarEnd,
        kBlockBegin,
        kBlockEnd,
        kName,
        kString,
        kInt,
        kFloat,
        kOp,
        kEof,
    };
    Type type = Type::kEof;
    std::string value;  // text, name, unescaped string, number literal, operator
    int32_t line = 0;
    int32_t column = 0;
};

/// Tokens of `source`; throws TemplateError (with line/column) on a lexical error.
std::vector<Token> tokenize(std::string_view source);

}  // namespace ag::chat::jinja
