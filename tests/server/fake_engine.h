// A deterministic EngineClient for server tests: each request emits tokens from a script
// (optionally shifted by the seed), one per step, with configurable delays, a bounded queue
// (submit → kOutOfRange when full) and a record of aborts.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "ag/engine.h"

namespace ag::server::testing {

struct FakeEngineOptions {
    std::vector<int32_t> script;              ///< tokens emitted in order
    std::optional<int32_t> eos;               ///< sent as the stop token after the script
    std::chrono::milliseconds prefill_delay{0};
    std::chrono::milliseconds step_delay{0};
    int32_t capacity = 1000;                  ///< running + waiting; beyond → kOutOfRange
    int32_t n_cached_tokens = 0;
    bool seed_shifts_script = true;           ///< token i = script[(seed + i) % size]
    bool prompt_shifts_script = false;        ///< also shift by the sum of the prompt ids
    int32_t max_running = 1 << 30;            ///< beyond: waiting (reported in stats)
};

class FakeEngine final : public EngineClient {
public:
    explicit FakeEngine(FakeEngineOptions options);
    ~FakeEngine() override;

    Result<Submission> submit(EngineRequest request) override;
    void abort(RequestId id) override;
    EngineStats stats() const override;
    const EngineConfig& config() const override { return config_; }

    std::set<RequestId> aborted() const;
    std::vector<EngineRequest> requests() const;
    int32_t n_active() const { return n_active_.load(); }
    void set_capacity(int32_t c) { options_.capacity = c; }

private:
    void run(RequestId id, EngineRequest request, std::shared_ptr<OutputChannel> channel);
    bool is_aborted(RequestId id) const;

    FakeEngineOptions options_;
    EngineConfig config_;
    mutable std::mutex mu_;
    std::set<RequestId> aborted_;
    std::vector<EngineRequest> requests_;
    std::vector<std::thread> threads_;
    std::atomic<RequestId> next_id_{1};
    std::atomic<int32_t> n_active_{0};
    std::atomic<int64_t> n_generated_{0};
};

}  // namespace ag::server::testing
