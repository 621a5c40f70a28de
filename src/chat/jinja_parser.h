// Jinja parser: tokens (jinja_lexer) -> statement tree (jinja_ast). Supports the statements
// HF chat templates use: if/elif/else, for (with else, an `if` filter and tuple targets),
// set (names, tuples, `ns.attr`, block set), macro, filter blocks, break/continue and HF's
// `{% generation %}`; everything else (extends, include, import, call blocks...) is a
// TemplateError naming the tag.
#pragma once

#include <string_view>

#include "chat/jinja_ast.h"

namespace ag::chat::jinja {

/// Throws TemplateError (with line/column) on a syntax error.
Body parse_template(std::string_view source);

}  // namespace ag::chat::jinja
