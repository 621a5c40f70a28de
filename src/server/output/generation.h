// One OpenAI request's engine side: n submissions (choice i gets seed + i), draining their
// output channels, timing for the metrics, and aborting every unfinished submission when the
// client leaves, a stop string ends a choice, or this object is destroyed. Used from one
// thread (the connection's).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "ag/engine.h"
#include "server/metrics/metrics.h"
#include "server/output/choice_stream.h"

namespace ag::server::output {

class Generation {
public:
    using Clock = std::chrono::steady_clock;

    /// log_requests: one INFO line per finished or aborted choice (tokens, cache hits, times).
    Generation(EngineClient& engine, metrics::Metrics* metrics, Clock::time_point arrival,
               bool log_requests = false);
    ~Generation();
    Generation(const Generation&) = delete;
    Generation& operator=(const Generation&) = delete;

    /// Submits `n` copies of `request` (seeds seed + i). On failure the ones already
    /// submitted are aborted and the engine's status returned.
    [[nodiscard]] Status submit(const EngineRequest& request, int32_t n);

    /// Called with each choice's delta; returns false when the client is gone.
    using DeltaSink = std::function<bool(int32_t index, ChoiceDelta& delta)>;
    /// Runs every choice to its end. `alive` is polled while waiting; false from it or from
    /// `sink` aborts everything and returns false.
    bool run(std::vector<ChoiceStream>& choices, const std::function<bool()>& alive,
             const DeltaSink& sink);

    void abort_all();

private:
    bool next(int32_t& index, EngineOutput& out, std::chrono::milliseconds timeout);
    void observe(int32_t index, const EngineOutput& out, const ChoiceStream& choice);

    struct Slot {
        Submission sub;
        bool done = false;
        std::optional<Clock::time_point> first_token, last_token;
        int64_t n_generated = 0;
        int32_t n_prompt = 0, n_cached = 0;
    };
    void log_end(const Slot& s, const char* how, Clock::time_point now) const;
    EngineClient& engine_;
    metrics::Metrics* metrics_;
    Clock::time_point arrival_;
    bool log_requests_;
    std::vector<Slot> slots_;
    size_t next_slot_ = 0;
};

}  // namespace ag::server::output
