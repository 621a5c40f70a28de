#include "server/output/stop_matcher.h"

#include <algorithm>

#include "server/reasoning/glm45_parser.h"

namespace ag::server::output {

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
    std::erase(stops_, std::string());
}

StopMatcher::Step StopMatcher::push(std::string_view text) {
    Step step;
    if (stops_.empty()) {
        step.text.assign(text);
        return step;
    }
    std::string buf = std::move(held_);
    buf.append(text);
    held_.clear();
    // The earliest match wins; at equal positions the longest stop string.
    size_t best = std::string::npos;
    const std::string* best_stop = nullptr;
    for (const auto& s : stops_) {
        const size_t pos = buf.find(s);
        if (pos == std::string::npos) continue;
        if (pos < best || (pos == best && s.size() > best_stop->size())) {
            best = pos;
            best_stop = &s;
        }
    }
    if (best_stop) {
        step.text = buf.substr(0, best);
        step.stop = *best_stop;
        return step;
    }
    size_t keep = 0;
    for (const auto& s : stops_) keep = std::max(keep, reasoning::partial_suffix(buf, s));
    held_ = buf.substr(buf.size() - keep);
    buf.resize(buf.size() - keep);
    step.text = std::move(buf);
    return step;
}

std::string StopMatcher::flush() {
    std::string out = std::move(held_);
    held_.clear();
    return out;
}

}  // namespace ag::server::output
