#include "chat/jinja_template.h"

#include "chat/jinja_interp.h"
#include "chat/jinja_parser.h"

namespace ag::chat::jinja {

namespace {

std::string where(const TemplateError& e) {
    if (e.line() == 0) return e.what();
    return "line " + std::to_string(e.line()) + ", column " + std::to_string(e.column()) + ": " +
           e.what();
}

}  // namespace

Result<Template> Template::parse(std::string_view source) {
    try {
        Template t;
        t.body_ = std::make_shared<const Body>(parse_template(source));
        return t;
    } catch (const TemplateError& e) {
        return Status(ErrorCode::kParseError, "chat template syntax error at " + where(e));
    } catch (const std::exception& e) {
        return Status(ErrorCode::kParseError, std::string("chat template: ") + e.what());
    }
}

Result<std::string> Template::render(const std::vector<std::pair<std::string, Value>>& context,
                                     const RenderLimits& limits) const {
    if (!body_) return Status(ErrorCode::kInternal, "template not parsed");
    try {
        return render_body(*body_, context, limits);
    } catch (const LimitError& e) {
        return Status(ErrorCode::kOutOfRange, "chat template stopped at " + where(e));
    } catch (const TemplateError& e) {
        return Status(ErrorCode::kInvalidArgument, "chat template error at " + where(e));
    } catch (const std::bad_alloc&) {
        return Status(ErrorCode::kOutOfRange, "chat template ran out of memory");
    } catch (const std::exception& e) {
        return Status(ErrorCode::kInvalidArgument, std::string("chat template: ") + e.what());
    }
}

}  // namespace ag::chat::jinja
