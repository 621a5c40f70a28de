// vLLM's `glm45` reasoning parser, streaming-aware: text between `<think>` and `</think>` is
// reasoning, everything else is content; the tags themselves are dropped; with no `<think>` in
// the output everything is content. Tags split across pushes are held back until resolved.
// The same parser serves streaming and non-streaming requests, so both give the same split
// (unlike vLLM's non-streaming path, a `<think>` without `</think>` — a generation cut off by
// max_tokens — yields reasoning, not content). Not thread-safe: one per choice.
#pragma once

#include <string>
#include <string_view>

namespace ag::server::reasoning {

struct ReasoningDelta {
    std::string reasoning;
    std::string content;
};

class Glm45Parser {
public:
    ReasoningDelta push(std::string_view text);
    /// Releases held-back text (an unfinished tag prefix) at the end of the output.
    ReasoningDelta flush();

private:
    enum class State { kBefore, kThinking, kAfter };
    std::string& sink(ReasoningDelta& d) const;

    State state_ = State::kBefore;
    std::string held_;
};

/// Length of the longest suffix of `text` that is a proper prefix of `tag`.
size_t partial_suffix(std::string_view text, std::string_view tag);

}  // namespace ag::server::reasoning
