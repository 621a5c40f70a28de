// Stop strings over streamed text: text that could still be the start of a stop string is held
// back, so a stop string is never emitted, also when it is split across tokens. Not
// thread-safe: one per choice.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ag::server::output {

class StopMatcher {
public:
    explicit StopMatcher(std::vector<std::string> stops);

    struct Step {
        std::string text;                 ///< safe to emit now
        std::optional<std::string> stop;  ///< the stop string found; the output ends here
    };
    Step push(std::string_view text);
    /// Releases held-back text at the end of the output (no stop string completed).
    std::string flush();
    bool empty() const { return stops_.empty(); }

private:
    std::vector<std::string> stops_;
    std::string held_;
};

}  // namespace ag::server::output
