// Continuous-batching scheduler over the block pool (vLLM v1's no-phases model): every step has
// one token budget; running requests go first in FCFS order (a decode is 1 token, an unfinished
// prefill takes a chunk of what is left), then waiting requests are admitted FCFS while the
// budget, max_num_seqs and free blocks allow, reusing cached prefix blocks. When a running
// request needs a block and none is free, the most recently admitted running request is
// preempted (blocks freed, recomputed later from its prompt + output so far).
// Pure bookkeeping over token and block ids: the runner turns ScheduleOutput into a forward.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <unordered_map>
#include <vector>

#include "kv/block_pool.h"

namespace ag::sched {

using RequestId = uint64_t;

struct SchedulerConfig {
    int32_t max_num_seqs = 16;
    int32_t max_num_batched_tokens = 2048;
    int32_t block_size = 16;
    int32_t n_blocks = 0;            // including the null block 0
    bool enable_prefix_caching = true;
};

struct ScheduledSeq {
    RequestId id = 0;
    int64_t start = 0;                 // first token index computed this step
    int64_t n_tokens = 0;
    std::vector<int32_t> block_table;  // covers start + n_tokens tokens
    bool sample = false;               // chunk reaches the last known token
};

struct ScheduleOutput {
    std::vector<ScheduledSeq> seqs;
    std::vector<RequestId> preempted;  // this step (their KV is gone; they wait again)
    int64_t n_scheduled_tokens = 0;
};

struct SchedulerStats {
    int32_t n_running = 0, n_waiting = 0;
    double kv_usage = 0.0;
    int64_t prefix_queries_tokens = 0, prefix_hits_tokens = 0, n_preemptions = 0;
};

class Scheduler {
public:
    explicit Scheduler(const SchedulerConfig& cfg);

    // `tokens`: the prompt. Later tokens arrive through update().
    void add_request(RequestId id, std::span<const int32_t> tokens);
    // Frees the request's blocks in any state; unknown ids are ignored.
    void remove_request(RequestId id);
    ScheduleOutput schedule();
    // After the forward of `scheduled`: its tokens are computed; `sampled` holds, in order, the
    // new token of every seq with sample=true (-1: the request finished, no token appended).
    void update(std::span<const ScheduledSeq> scheduled, std::span<const int32_t> sampled);

    int32_t n_cached_tokens(RequestId id) const;
    // Tokens of `tokens` (a prompt) that admission would take from the prefix cache right now
    // (full blocks, never the last token). Read-only: a later admission may find fewer if blocks
    // are reused in between.
    int64_t n_prefix_hit(std::span<const int32_t> tokens) const;
    SchedulerStats stats() const;
    const kv::BlockPool& pool() const { return pool_; }
    // Blocks freed since the last call (kv::BlockPool::take_freed).
    std::vector<int32_t> take_freed_blocks() { return pool_.take_freed(); }

private:
    struct Req {
        std::vector<int32_t> tokens;     // prompt + output
        int64_t n_computed = 0;
        std::vector<int32_t> blocks;
        std::vector<uint64_t> block_hashes;  // of the cached (full, computed) blocks
        int32_t n_cached_first = -1;     // prefix-cache hit at first admission
    };

    void find_prefix(std::span<const int32_t> tokens, std::vector<int32_t>& hits,
                     std::vector<uint64_t>& hashes) const;
    bool schedule_running(Req& r, RequestId id, int64_t& budget, ScheduleOutput& out);
    bool admit(RequestId id, int64_t& budget, ScheduleOutput& out);
    bool ensure_blocks(Req& r, int64_t n_tokens);
    void release(Req& r);
    void preempt_last(ScheduleOutput& out);
    void cache_full_blocks(Req& r);

    SchedulerConfig cfg_;
    kv::BlockPool pool_;
    std::unordered_map<RequestId, Req> reqs_;
    std::deque<RequestId> waiting_;
    std::vector<RequestId> running_;  // admission order
    int64_t prefix_queries_ = 0, prefix_hits_ = 0, n_preemptions_ = 0;
};

}  // namespace ag::sched
