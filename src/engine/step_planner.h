// The engine's view of scheduling: which requests compute which tokens this step. Implemented
// over sched::Scheduler + kv::KvCacheManager (step_planner.cpp), so the engine loop never sees
// their types and the scheduler never sees tensors.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ag/engine.h"

namespace ag::engine {

struct PlannedSeq {
    RequestId id = 0;
    int64_t start = 0;                 // index of the first token computed this step
    int64_t n_tokens = 0;
    std::vector<int32_t> block_table;  // physical KV blocks covering start + n_tokens tokens
    bool sample = false;               // the chunk ends at the last known token: sample after it
};

struct PlannerStats {
    int32_t n_running = 0, n_waiting = 0;
    double kv_usage = 0.0;
    int64_t n_blocks = 0;
    int64_t prefix_queries_tokens = 0, prefix_hits_tokens = 0, n_preemptions = 0;
};

class StepPlanner {
public:
    virtual ~StepPlanner() = default;
    static std::unique_ptr<StepPlanner> create(const EngineConfig& config, int64_t n_blocks);

    // Queues a request whose known tokens are `tokens` (the prompt).
    [[nodiscard]] virtual Status add(RequestId id, std::span<const int32_t> tokens,
                                     int32_t max_tokens) = 0;
    // Frees the request's blocks in any state. Unknown ids are ignored.
    virtual void remove(RequestId id) = 0;
    virtual std::vector<PlannedSeq> plan() = 0;
    // After the forward: the tokens of every seq in `planned` (the last plan, possibly with some
    // seqs left out) are computed; `sampled` has the new token of each of them that sampled (in
    // order), -1 for a request that finished on it.
    virtual void commit(std::span<const PlannedSeq> planned, std::span<const int32_t> sampled) = 0;
    // Tokens of a prompt (cache keys, as given to add()) the prefix cache holds right now.
    virtual int64_t n_prefix_hit(std::span<const int32_t> tokens) const = 0;
    // Prompt tokens of `id` served from the prefix cache when it was (last) admitted.
    virtual int32_t n_cached_tokens(RequestId id) const = 0;
    virtual PlannerStats stats() const = 0;
    // KV blocks freed since the last call (the engine tells its KvStorage).
    virtual std::vector<int32_t> take_freed_blocks() = 0;
};

}  // namespace ag::engine
