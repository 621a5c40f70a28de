#include "server/output/choice_stream.h"

namespace ag::server::output {

const char* finish_reason_name(FinishReason r) {
    switch (r) {
        case FinishReason::kNone: return "stop";
        case FinishReason::kStop: return "stop";
        case FinishReason::kLength: return "length";
        case FinishReason::kAbort: return "abort";
        case FinishReason::kError: return "error";
    }
    return "stop";
}

ChoiceStream::ChoiceStream(const tok::Tokenizer& tokenizer, ChoiceOptions options)
    : options_(std::move(options)),
      detok_(tokenizer, options_.skip_special_tokens),
      stops_(options_.stop) {}

void ChoiceStream::finish(ChoiceDelta& d, std::string reason, nlohmann::json stop_reason) {
    finished_ = true;
    d.finished = true;
    d.finish_reason = std::move(reason);
    d.stop_reason = std::move(stop_reason);
}

void ChoiceStream::route(std::string text, ChoiceDelta& d) {
    if (!options_.split_reasoning) {
        d.content += text;
        return;
    }
    reasoning::ReasoningDelta r = parser_.push(text);
    if (finished_) {
        reasoning::ReasoningDelta tail = parser_.flush();
        r.reasoning += tail.reasoning;
        r.content += tail.content;
    }
    d.content += r.content;
    if (options_.include_reasoning) d.reasoning += r.reasoning;
}

void ChoiceStream::finish_from_engine(const EngineOutput& out, ChoiceDelta& d) {
    nlohmann::json stop_reason = nullptr;
    if (out.finish_reason == FinishReason::kStop && out.stop_token_id) {
        stop_reason = *out.stop_token_id;
    }
    finish(d, finish_reason_name(out.finish_reason), stop_reason);
    d.error = out.error;
}

ChoiceDelta ChoiceStream::on_output(const EngineOutput& out) {
    ChoiceDelta d;
    if (finished_) return d;
    if (out.n_prompt_tokens > 0) {
        n_prompt_ = out.n_prompt_tokens;
        n_cached_ = out.n_cached_tokens;
    }
    std::string text;
    for (size_t i = 0; i < out.tokens.size() && !finished_; ++i) {
        ++n_tokens_;
        ++d.n_tokens;
        if (options_.want_logprobs && i < out.logprobs.size()) {
            d.logprobs.push_back(out.logprobs[i]);
        }
        StopMatcher::Step st = stops_.push(detok_.push(out.tokens[i]));
        text += st.text;
        if (st.stop) {
            stopped_by_string_ = true;
            finish(d, "stop", *st.stop);
        }
    }
    if (!finished_ && out.finished) {
        StopMatcher::Step st = stops_.push(detok_.flush());
        text += st.text;
        if (st.stop) {
            stopped_by_string_ = true;
            finish(d, "stop", *st.stop);
        } else {
            text += stops_.flush();
            finish_from_engine(out, d);
        }
    }
    route(std::move(text), d);
    return d;
}

}  // namespace ag::server::output
