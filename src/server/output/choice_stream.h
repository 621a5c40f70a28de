// Turns one choice's engine outputs into text deltas: incremental detokenization, stop strings
// (held back, never emitted), the optional glm45 reasoning split, logprobs and the finish
// reason. One per choice; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ag/engine.h"
#include "server/output/stop_matcher.h"
#include "server/reasoning/glm45_parser.h"
#include "tokenizer/incremental_detokenizer.h"
#include "tokenizer/tokenizer.h"

namespace ag::server::output {

struct ChoiceOptions {
    bool skip_special_tokens = true;
    std::vector<std::string> stop;
    bool split_reasoning = false;    ///< --reasoning-parser glm45
    bool include_reasoning = true;   ///< false: reasoning text is dropped
    bool want_logprobs = false;
};

struct ChoiceDelta {
    std::string content;
    std::string reasoning;
    std::vector<TokenLogprob> logprobs;  ///< the tokens consumed by this step
    int32_t n_tokens = 0;                ///< tokens consumed by this step
    bool finished = false;
    std::string finish_reason;           ///< "stop" | "length" | "abort" | "error"
    nlohmann::json stop_reason;          ///< null, the stop token id, or the stop string
    std::string error;                   ///< with finish_reason "error"

    bool empty() const {
        return content.empty() && reasoning.empty() && logprobs.empty() && !finished;
    }
};

class ChoiceStream {
public:
    ChoiceStream(const tok::Tokenizer& tokenizer, ChoiceOptions options);

    ChoiceDelta on_output(const EngineOutput& out);

    bool finished() const { return finished_; }
    /// The output ended on a stop string: the engine request must be aborted.
    bool stopped_by_string() const { return stopped_by_string_; }
    int32_t n_completion_tokens() const { return n_tokens_; }
    int32_t n_prompt_tokens() const { return n_prompt_; }
    int32_t n_cached_tokens() const { return n_cached_; }

private:
    void finish(ChoiceDelta& d, std::string reason, nlohmann::json stop_reason);
    void route(std::string text, ChoiceDelta& d);
    void finish_from_engine(const EngineOutput& out, ChoiceDelta& d);

    ChoiceOptions options_;
    tok::IncrementalDetokenizer detok_;
    StopMatcher stops_;
    reasoning::Glm45Parser parser_;
    bool finished_ = false;
    bool stopped_by_string_ = false;
    int32_t n_tokens_ = 0;
    int32_t n_prompt_ = 0;
    int32_t n_cached_ = 0;
};

const char* finish_reason_name(FinishReason r);

}  // namespace ag::server::output
