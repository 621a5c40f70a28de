// StepPlanner over a minimal FCFS scheduler with a free-list block allocator (no prefix cache).
// TODO(#3): replace with sched::Scheduler + kv::KvCacheManager.
#include "engine/step_planner.h"

#include <algorithm>
#include <deque>
#include <unordered_map>

namespace ag::engine {

namespace {

class SimplePlanner final : public StepPlanner {
public:
    SimplePlanner(const EngineConfig& cfg, int64_t n_blocks) : cfg_(cfg), n_blocks_(n_blocks) {
        for (int64_t b = n_blocks - 1; b >= 0; --b) free_.push_back(static_cast<int32_t>(b));
    }

    Status add(RequestId id, std::span<const int32_t> tokens, int32_t max_tokens) override {
        Req r;
        r.n_known = static_cast<int64_t>(tokens.size());
        r.max_tokens = max_tokens;
        reqs_[id] = r;
        waiting_.push_back(id);
        return {};
    }

    void remove(RequestId id) override {
        auto it = reqs_.find(id);
        if (it == reqs_.end()) return;
        for (int32_t b : it->second.blocks) free_.push_back(b);
        reqs_.erase(it);
        waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), id), waiting_.end());
        running_.erase(std::remove(running_.begin(), running_.end(), id), running_.end());
    }

    std::vector<PlannedSeq> plan() override {
        std::vector<PlannedSeq> out;
        int64_t budget = cfg_.max_num_batched_tokens;
        auto schedule = [&](RequestId id) {
            Req& r = reqs_.at(id);
            const int64_t n = std::min(budget, r.n_known - r.n_computed);
            if (n <= 0) return false;
            if (!grow(r, r.n_computed + n)) return false;
            budget -= n;
            out.push_back({id, r.n_computed, n, r.blocks, r.n_computed + n == r.n_known});
            return true;
        };
        for (RequestId id : running_) {
            if (budget <= 0) break;
            schedule(id);
        }
        while (!waiting_.empty() && budget > 0 &&
               static_cast<int32_t>(running_.size()) < cfg_.max_num_seqs) {
            const RequestId id = waiting_.front();
            if (!schedule(id)) break;
            waiting_.pop_front();
            running_.push_back(id);
        }
        return out;
    }

    void commit(std::span<const PlannedSeq> planned, std::span<const int32_t> sampled) override {
        size_t k = 0;
        for (const PlannedSeq& p : planned) {
            Req& r = reqs_.at(p.id);
            r.n_computed = p.start + p.n_tokens;
            if (p.sample && sampled[k++] >= 0) ++r.n_known;
        }
    }

    int32_t n_cached_tokens(RequestId) const override { return 0; }

    PlannerStats stats() const override {
        PlannerStats s;
        s.n_running = static_cast<int32_t>(running_.size());
        s.n_waiting = static_cast<int32_t>(waiting_.size());
        s.n_blocks = n_blocks_;
        s.kv_usage = 1.0 - static_cast<double>(free_.size()) / static_cast<double>(n_blocks_);
        return s;
    }

private:
    struct Req {
        int64_t n_known = 0, n_computed = 0;
        int32_t max_tokens = 0;
        std::vector<int32_t> blocks;
    };

    bool grow(Req& r, int64_t n_tokens) {
        const auto need = static_cast<size_t>((n_tokens + cfg_.block_size - 1) / cfg_.block_size);
        if (need > r.blocks.size() && need - r.blocks.size() > free_.size()) return false;
        while (r.blocks.size() < need) {
            r.blocks.push_back(free_.back());
            free_.pop_back();
        }
        return true;
    }

    EngineConfig cfg_;
    int64_t n_blocks_;
    std::vector<int32_t> free_;
    std::unordered_map<RequestId, Req> reqs_;
    std::deque<RequestId> waiting_;
    std::vector<RequestId> running_;
};

}  // namespace

std::unique_ptr<StepPlanner> StepPlanner::create(const EngineConfig& cfg, int64_t n_blocks) {
    return std::make_unique<SimplePlanner>(cfg, n_blocks);
}

}  // namespace ag::engine
