#include "sched/scheduler.h"

#include <algorithm>

#include "base/check.h"

namespace ag::sched {

Scheduler::Scheduler(const SchedulerConfig& cfg) : cfg_(cfg), pool_(cfg.n_blocks) {}

void Scheduler::add_request(RequestId id, std::span<const int32_t> tokens) {
    AG_CHECK(!reqs_.count(id), "request {} added twice", id);
    Req r;
    r.tokens.assign(tokens.begin(), tokens.end());
    reqs_.emplace(id, std::move(r));
    waiting_.push_back(id);
}

void Scheduler::release(Req& r) {
    // Reverse order: the tail of a sequence is reused first, shared prefixes last (LRU queue).
    for (auto it = r.blocks.rbegin(); it != r.blocks.rend(); ++it) pool_.unref(*it);
    r.blocks.clear();
    r.block_hashes.clear();
    r.n_computed = 0;
}

void Scheduler::remove_request(RequestId id) {
    auto it = reqs_.find(id);
    if (it == reqs_.end()) return;
    release(it->second);
    reqs_.erase(it);
    waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), id), waiting_.end());
    running_.erase(std::remove(running_.begin(), running_.end(), id), running_.end());
}

bool Scheduler::ensure_blocks(Req& r, int64_t n_tokens) {
    const auto need = static_cast<size_t>((n_tokens + cfg_.block_size - 1) / cfg_.block_size);
    if (need <= r.blocks.size()) return true;
    if (need - r.blocks.size() > static_cast<size_t>(pool_.n_free())) return false;
    while (r.blocks.size() < need) r.blocks.push_back(*pool_.allocate());
    return true;
}

void Scheduler::preempt_last(ScheduleOutput& out) {
    const RequestId victim = running_.back();
    running_.pop_back();
    Req& v = reqs_.at(victim);
    release(v);
    waiting_.push_front(victim);
    out.preempted.push_back(victim);
    // A victim already scheduled in this step is dropped from it.
    auto& seqs = out.seqs;
    for (auto it = seqs.begin(); it != seqs.end(); ++it) {
        if (it->id == victim) {
            out.n_scheduled_tokens -= it->n_tokens;
            seqs.erase(it);
            break;
        }
    }
    ++n_preemptions_;
}

bool Scheduler::schedule_running(Req& r, RequestId id, int64_t& budget, ScheduleOutput& out) {
    const int64_t n = std::min<int64_t>(budget, static_cast<int64_t>(r.tokens.size()) - r.n_computed);
    if (n <= 0) return true;
    while (!ensure_blocks(r, r.n_computed + n)) {
        if (running_.back() == id) {  // nothing left to take from: wait for blocks
            preempt_last(out);
            return false;
        }
        preempt_last(out);
    }
    budget -= n;
    out.n_scheduled_tokens += n;
    out.seqs.push_back({id, r.n_computed, n, r.blocks,
                        r.n_computed + n == static_cast<int64_t>(r.tokens.size())});
    return true;
}

void Scheduler::find_prefix(std::span<const int32_t> tokens, std::vector<int32_t>& hits,
                            std::vector<uint64_t>& hashes) const {
    // Full blocks only, and never the last token (its logits are needed).
    if (!cfg_.enable_prefix_caching) return;
    const int64_t bs = cfg_.block_size;
    const auto n_known = static_cast<int64_t>(tokens.size());
    uint64_t parent = 0;
    for (int64_t b = 0; (b + 1) * bs <= n_known - 1; ++b) {
        const kv::BlockKey key = kv::make_block_key(
            parent, tokens.subspan(static_cast<size_t>(b * bs), static_cast<size_t>(bs)));
        auto hit = pool_.lookup(key);
        if (!hit) break;
        hits.push_back(*hit);
        hashes.push_back(key.hash);
        parent = key.hash;
    }
}

int64_t Scheduler::n_prefix_hit(std::span<const int32_t> tokens) const {
    std::vector<int32_t> hits;
    std::vector<uint64_t> hashes;
    find_prefix(tokens, hits, hashes);
    return static_cast<int64_t>(hits.size()) * cfg_.block_size;
}

bool Scheduler::admit(RequestId id, int64_t& budget, ScheduleOutput& out) {
    Req& r = reqs_.at(id);
    const auto n_known = static_cast<int64_t>(r.tokens.size());
    const int64_t bs = cfg_.block_size;
    std::vector<int32_t> hits;
    std::vector<uint64_t> hit_hashes;
    find_prefix(r.tokens, hits, hit_hashes);
    const int64_t n_cached = static_cast<int64_t>(hits.size()) * bs;
    const int64_t n = std::min(budget, n_known - n_cached);
    if (n <= 0) return false;
    // Blocks needed beyond the hits; hits that sit in the free queue stop being free.
    const int64_t need_new = (n_cached + n + bs - 1) / bs - static_cast<int64_t>(hits.size());
    int64_t hits_free = 0;
    for (int32_t b : hits) hits_free += pool_.ref_count(b) == 0 ? 1 : 0;
    if (need_new > pool_.n_free() - hits_free) return false;
    for (int32_t b : hits) pool_.ref(b);
    r.blocks = hits;
    r.block_hashes = hit_hashes;
    r.n_computed = n_cached;
    ensure_blocks(r, n_cached + n);
    if (r.n_cached_first < 0) r.n_cached_first = static_cast<int32_t>(n_cached);
    prefix_queries_ += n_known;
    prefix_hits_ += n_cached;
    budget -= n;
    out.n_scheduled_tokens += n;
    out.seqs.push_back({id, n_cached, n, r.blocks, n_cached + n == n_known});
    return true;
}

ScheduleOutput Scheduler::schedule() {
    ScheduleOutput out;
    int64_t budget = cfg_.max_num_batched_tokens;
    for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
        const RequestId id = running_[i];
        if (!schedule_running(reqs_.at(id), id, budget, out)) break;
    }
    // No admissions in a step that had to preempt: blocks are short.
    while (out.preempted.empty() && !waiting_.empty() && budget > 0 &&
           static_cast<int32_t>(running_.size()) < cfg_.max_num_seqs) {
        const RequestId id = waiting_.front();
        if (!admit(id, budget, out)) break;
        waiting_.pop_front();
        running_.push_back(id);
    }
    return out;
}

void Scheduler::cache_full_blocks(Req& r) {
    if (!cfg_.enable_prefix_caching) return;
    const int64_t bs = cfg_.block_size;
    while (static_cast<int64_t>(r.block_hashes.size() + 1) * bs <= r.n_computed) {
        const size_t b = r.block_hashes.size();
        const uint64_t parent = b == 0 ? 0 : r.block_hashes[b - 1];
        kv::BlockKey key = kv::make_block_key(
            parent, std::span(r.tokens).subspan(b * static_cast<size_t>(bs), static_cast<size_t>(bs)));
        r.block_hashes.push_back(key.hash);
        pool_.cache(r.blocks[b], std::move(key));
    }
}

void Scheduler::update(std::span<const ScheduledSeq> scheduled, std::span<const int32_t> sampled) {
    size_t k = 0;
    for (const ScheduledSeq& s : scheduled) {
        auto it = reqs_.find(s.id);
        const int32_t tok = s.sample ? sampled[k++] : -1;
        if (it == reqs_.end()) continue;
        Req& r = it->second;
        r.n_computed = s.start + s.n_tokens;
        cache_full_blocks(r);
        if (tok >= 0) r.tokens.push_back(tok);
    }
}

int32_t Scheduler::n_cached_tokens(RequestId id) const {
    auto it = reqs_.find(id);
    return it == reqs_.end() ? 0 : std::max(0, it->second.n_cached_first);
}

SchedulerStats Scheduler::stats() const {
    SchedulerStats s;
    s.n_running = static_cast<int32_t>(running_.size());
    s.n_waiting = static_cast<int32_t>(waiting_.size());
    s.kv_usage = pool_.usage();
    s.prefix_queries_tokens = prefix_queries_;
    s.prefix_hits_tokens = prefix_hits_;
    s.n_preemptions = n_preemptions_;
    return s;
}

}  // namespace ag::sched
