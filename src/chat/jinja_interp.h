// Tree-walking evaluator for jinja_ast: scopes (jinja2's: for loops and macros open one, if
// blocks do not), the loop object, macros, break/continue, expression semantics (Python
// operators and truthiness) and the RenderLimits checks.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_template.h"

namespace ag::chat::jinja {

/// Thrown (instead of TemplateError) when a RenderLimits bound is hit.
class LimitError : public TemplateError {
public:
    using TemplateError::TemplateError;
};

/// Renders `body`; throws TemplateError / LimitError.
std::string render_body(const Body& body,
                        const std::vector<std::pair<std::string, Value>>& context,
                        const RenderLimits& limits);

}  // namespace ag::chat::jinja
