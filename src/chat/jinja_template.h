// A compiled Jinja template with the semantics of transformers' chat-template environment
// (jinja2 ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, HF's tojson,
// raise_exception, strftime_now, namespace, dict). Supported subset: docs/chat_template.md.
// Templates come from user checkpoints: parse and render never crash and never run unbounded
// (RenderLimits); every failure is a Status naming the line and column.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "chat/jinja_value.h"

namespace ag::chat::jinja {

struct Stmt;

struct RenderLimits {
    size_t max_output_bytes = size_t{32} << 20;  // all text produced, macro/set output included
    int64_t max_steps = 20'000'000;              // statements + expression nodes evaluated
    int32_t max_call_depth = 64;                 // nested macro calls
};

/// Immutable after parse(); render() is thread-safe.
class Template {
public:
    /// kParseError "line L, column C: message" on a syntax error.
    static Result<Template> parse(std::string_view source);

    /// Renders with `context` (name -> value) on top of the globals. Errors: kInvalidArgument
    /// "line L, column C: message" (raise_exception, undefined access, type errors),
    /// kOutOfRange when a limit is hit.
    Result<std::string> render(const std::vector<std::pair<std::string, Value>>& context,
                               const RenderLimits& limits = {}) const;

private:
    std::shared_ptr<const std::vector<std::unique_ptr<Stmt>>> body_;
};

}  // namespace ag::chat::jinja
