#include "server/reasoning/glm45_parser.h"

#include <algorithm>

namespace ag::server::reasoning {

namespace {
constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";
}  // namespace

size_t partial_suffix(std::string_view text, std::string_view tag) {
    for (size_t n = std::min(text.size(), tag.size() - 1); n > 0; --n) {
        if (text.substr(text.size() - n) == tag.substr(0, n)) return n;
    }
    return 0;
}

std::string& Glm45Parser::sink(ReasoningDelta& d) const {
    return state_ == State::kThinking ? d.reasoning : d.content;
}

ReasoningDelta Glm45Parser::push(std::string_view text) {
    ReasoningDelta d;
    std::string buf = std::move(held_);
    buf.append(text);
    held_.clear();
    std::string_view rest = buf;
    while (!rest.empty()) {
        if (state_ == State::kAfter) {
            d.content.append(rest);
            break;
        }
        const std::string_view tag = state_ == State::kBefore ? kOpen : kClose;
        const size_t pos = rest.find(tag);
        if (pos != std::string_view::npos) {
            sink(d).append(rest.substr(0, pos));
            state_ = state_ == State::kBefore ? State::kThinking : State::kAfter;
            rest.remove_prefix(pos + tag.size());
            continue;
        }
        const size_t keep = partial_suffix(rest, tag);
        sink(d).append(rest.substr(0, rest.size() - keep));
        held_.assign(rest.substr(rest.size() - keep));
        break;
    }
    return d;
}

ReasoningDelta Glm45Parser::flush() {
    ReasoningDelta d;
    sink(d) = std::move(held_);
    held_.clear();
    return d;
}

}  // namespace ag::server::reasoning
