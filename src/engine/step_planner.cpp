// StepPlanner over sched::Scheduler (which owns the kv::BlockPool and prefix cache).
#include "engine/step_planner.h"

#include "sched/scheduler.h"

namespace ag::engine {

namespace {

class SchedPlanner final : public StepPlanner {
public:
    SchedPlanner(const EngineConfig& cfg, int64_t n_blocks)
        : sched_({cfg.max_num_seqs, cfg.max_num_batched_tokens, cfg.block_size,
                  static_cast<int32_t>(n_blocks), cfg.enable_prefix_caching}),
          n_blocks_(n_blocks) {}

    Status add(RequestId id, std::span<const int32_t> tokens, int32_t) override {
        sched_.add_request(id, tokens);
        return {};
    }
    void remove(RequestId id) override { sched_.remove_request(id); }

    std::vector<PlannedSeq> plan() override {
        sched::ScheduleOutput so = sched_.schedule();
        last_.clear();
        std::vector<PlannedSeq> out;
        for (auto& s : so.seqs) {
            last_.push_back(s);
            out.push_back({s.id, s.start, s.n_tokens, std::move(s.block_table), s.sample});
        }
        return out;
    }

    void commit(std::span<const PlannedSeq> planned, std::span<const int32_t> sampled) override {
        if (planned.size() == last_.size()) {
            sched_.update(last_, sampled);
            return;
        }
        std::vector<sched::ScheduledSeq> kept;  // plan order, the seqs the engine ran
        size_t j = 0;
        for (const sched::ScheduledSeq& s : last_) {
            if (j < planned.size() && planned[j].id == s.id) {
                kept.push_back(s);
                ++j;
            }
        }
        sched_.update(kept, sampled);
    }

    int64_t n_prefix_hit(std::span<const int32_t> tokens) const override {
        return sched_.n_prefix_hit(tokens);
    }

    int32_t n_cached_tokens(RequestId id) const override { return sched_.n_cached_tokens(id); }
    std::vector<int32_t> take_freed_blocks() override { return sched_.take_freed_blocks(); }

    PlannerStats stats() const override {
        const sched::SchedulerStats s = sched_.stats();
        PlannerStats p;
        p.n_running = s.n_running;
        p.n_waiting = s.n_waiting;
        p.kv_usage = s.kv_usage;
        p.n_blocks = n_blocks_;
        p.prefix_queries_tokens = s.prefix_queries_tokens;
        p.prefix_hits_tokens = s.prefix_hits_tokens;
        p.n_preemptions = s.n_preemptions;
        return p;
    }

private:
    sched::Scheduler sched_;
    int64_t n_blocks_;
    std::vector<sched::ScheduledSeq> last_;  // the plan being executed (ids, ranges)
};

}  // namespace

std::unique_ptr<StepPlanner> StepPlanner::create(const EngineConfig& cfg, int64_t n_blocks) {
    return std::make_unique<SchedPlanner>(cfg, n_blocks);
}

}  // namespace ag::engine
