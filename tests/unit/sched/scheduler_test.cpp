// Scheduler without a model: budgets, chunked prefill, admission limits, prefix reuse (shared
// system prompt, the Open-AutoGLM divergence pattern), preemption by recompute, aborts, and a
// randomised simulation checking invariants every step.
#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <random>
#include <set>

#include "sched/scheduler.h"

namespace ag::sched {
namespace {

std::vector<int32_t> seq(int32_t from, int32_t n) {
    std::vector<int32_t> v(static_cast<size_t>(n));
    std::iota(v.begin(), v.end(), from);
    return v;
}

// Runs one step with a fake model that samples token 7 for every request that samples;
// requests in `finish` end on their next sample.
ScheduleOutput step(Scheduler& s, const std::set<RequestId>& finish = {}) {
    ScheduleOutput out = s.schedule();
    std::vector<int32_t> sampled;
    for (const auto& q : out.seqs) {
        if (q.sample) sampled.push_back(finish.count(q.id) ? -1 : 7);
    }
    s.update(out.seqs, sampled);
    for (const auto& q : out.seqs) {
        if (q.sample && finish.count(q.id)) s.remove_request(q.id);
    }
    return out;
}

TEST(Scheduler, ChunkedPrefillUnderTheBudget) {
    Scheduler s({4, 8, 4, 64, true});
    s.add_request(1, seq(0, 20));
    std::vector<int64_t> chunks;
    for (int i = 0; i < 3; ++i) {
        auto out = step(s);
        ASSERT_EQ(out.seqs.size(), 1u);
        EXPECT_LE(out.n_scheduled_tokens, 8);
        chunks.push_back(out.seqs[0].n_tokens);
        EXPECT_EQ(out.seqs[0].sample, i == 2);
    }
    EXPECT_EQ(chunks, (std::vector<int64_t>{8, 8, 4}));
    auto dec = step(s);  // decode: one token
    EXPECT_EQ(dec.seqs[0].n_tokens, 1);
    EXPECT_EQ(dec.seqs[0].start, 20);
}

TEST(Scheduler, MaxNumSeqsAndRunningFirst) {
    Scheduler s({2, 100, 4, 64, true});
    for (RequestId id = 1; id <= 3; ++id) s.add_request(id, seq(static_cast<int32_t>(id) * 100, 5));
    auto out = step(s);
    EXPECT_EQ(out.seqs.size(), 2u);
    EXPECT_EQ(s.stats().n_waiting, 1);
    step(s, {1});  // request 1 finishes: a slot opens
    out = step(s);
    ASSERT_EQ(out.seqs.size(), 2u);
    EXPECT_EQ(out.seqs[0].id, 2u);  // running first
    EXPECT_EQ(out.seqs[1].id, 3u);
}

TEST(Scheduler, SharedSystemPromptHitsFullBlocks) {
    Scheduler s({4, 100, 4, 64, true});
    auto sys = seq(1000, 10);  // 2 full blocks + 2
    auto a = sys, b = sys;
    a.push_back(1);
    b.push_back(2);
    s.add_request(1, a);
    step(s);
    s.add_request(2, b);
    auto out = step(s);
    ASSERT_EQ(out.seqs.back().id, 2u);
    EXPECT_EQ(out.seqs.back().start, 8);  // two cached blocks
    EXPECT_EQ(s.n_cached_tokens(2), 8);
    EXPECT_EQ(s.stats().prefix_hits_tokens, 8);
}

TEST(Scheduler, PrefixHitQueryMatchesAdmissionAndChangesNothing) {
    Scheduler s({4, 100, 4, 64, true});
    auto a = seq(1000, 13);  // 3 full blocks + 1
    EXPECT_EQ(s.n_prefix_hit(a), 0);
    s.add_request(1, a);
    step(s);
    EXPECT_EQ(s.n_prefix_hit(a), 12);       // never the last token's block
    EXPECT_EQ(s.n_prefix_hit(seq(1000, 12)), 8);  // 12 tokens: the last one is recomputed
    auto b = seq(1000, 6);
    b.push_back(5);
    EXPECT_EQ(s.n_prefix_hit(b), 4);        // diverges inside the second block
    const double usage = s.stats().kv_usage;
    const int64_t queries = s.stats().prefix_queries_tokens;
    s.add_request(2, a);
    EXPECT_EQ(s.stats().kv_usage, usage);   // the queries took no block and counted nothing
    auto out = step(s);
    EXPECT_EQ(out.seqs.back().start, 12);   // admission found what the query said
    EXPECT_EQ(s.stats().prefix_queries_tokens, queries + 13);
    Scheduler off({4, 100, 4, 64, false});
    off.add_request(1, a);
    step(off);
    EXPECT_EQ(off.n_prefix_hit(a), 0);
}

TEST(Scheduler, AgentPatternReusesUpToTheDivergence) {
    // Step k+1's prompt equals step k's up to token 13, then differs (the old screenshot was
    // dropped): blocks fully before the divergence are reused, nothing after it.
    Scheduler s({4, 100, 4, 64, true});
    auto p1 = seq(0, 30);
    s.add_request(1, p1);
    step(s, {1});
    step(s, {1});
    auto p2 = seq(0, 13);
    for (int32_t t : seq(500, 20)) p2.push_back(t);
    s.add_request(2, p2);
    auto out = step(s);
    EXPECT_EQ(out.seqs[0].start, 12);
    // Never the whole prompt: the last token is always computed.
    s.add_request(3, seq(0, 16));
    out = step(s);
    EXPECT_EQ(out.seqs.back().start, 12);
}

TEST(Scheduler, PrefixCachingOff) {
    Scheduler s({4, 100, 4, 64, false});
    s.add_request(1, seq(0, 9));
    step(s);
    s.add_request(2, seq(0, 9));
    EXPECT_EQ(step(s).seqs.back().start, 0);
}

TEST(Scheduler, PreemptsNewestWhenBlocksRunOutAndRecomputes) {
    // 5 usable blocks of 2 tokens: two requests of 4 prompt tokens fill 4 blocks; decoding
    // needs more, so the newest is preempted and later resumes from prompt + its output.
    Scheduler s({4, 100, 2, 6, false});
    s.add_request(1, seq(0, 4));
    s.add_request(2, seq(10, 4));
    step(s);
    int preempted_at = -1;
    for (int i = 0; i < 6 && preempted_at < 0; ++i) {
        auto out = step(s);
        if (!out.preempted.empty()) {
            EXPECT_EQ(out.preempted[0], 2u);
            preempted_at = i;
        }
    }
    ASSERT_GE(preempted_at, 0);
    EXPECT_EQ(s.stats().n_preemptions, 1);
    EXPECT_EQ(s.stats().n_waiting, 1);
    step(s, {1});  // request 1 ends: 2 resumes and recomputes everything it had
    auto out = step(s);
    ASSERT_EQ(out.seqs.size(), 1u);
    EXPECT_EQ(out.seqs[0].id, 2u);
    EXPECT_EQ(out.seqs[0].start, 0);
    EXPECT_GT(out.seqs[0].n_tokens, 4);  // prompt + generated tokens
}

TEST(Scheduler, RemoveFreesBlocksInEveryState) {
    Scheduler s({1, 4, 4, 16, true});
    s.add_request(1, seq(0, 10));  // prefilling in chunks of 4
    s.add_request(2, seq(50, 3));  // waiting (max_num_seqs 1)
    step(s);
    EXPECT_GT(s.stats().kv_usage, 0.0);
    s.remove_request(2);
    s.remove_request(1);
    s.remove_request(99);
    EXPECT_DOUBLE_EQ(s.stats().kv_usage, 0.0);
    EXPECT_EQ(s.stats().n_running + s.stats().n_waiting, 0);
    EXPECT_TRUE(s.schedule().seqs.empty());
}

TEST(Scheduler, RandomisedSimulationKeepsInvariants) {
    std::mt19937 rng(5);
    Scheduler s({6, 24, 4, 40, true});
    std::map<RequestId, int> remaining;  // tokens still to generate
    RequestId next = 1;
    for (int stepno = 0; stepno < 3000; ++stepno) {
        if (rng() % 3 == 0 && next < 400) {
            std::vector<int32_t> p(static_cast<size_t>(1 + rng() % 40));
            for (auto& t : p) t = static_cast<int32_t>(rng() % 6);  // lots of shared prefixes
            s.add_request(next, p);
            remaining[next++] = 1 + static_cast<int>(rng() % 12);
        }
        if (rng() % 20 == 0 && !remaining.empty()) {  // abort someone
            auto it = std::next(remaining.begin(), static_cast<long>(rng() % remaining.size()));
            s.remove_request(it->first);
            remaining.erase(it);
        }
        ScheduleOutput out = s.schedule();
        EXPECT_LE(out.n_scheduled_tokens, 24);
        std::map<int32_t, int> uses;  // block -> scheduled sequences whose table holds it
        std::set<int32_t> written;    // blocks this step's tokens are written to
        std::vector<int32_t> sampled;
        std::set<RequestId> done;
        for (const auto& q : out.seqs) {
            EXPECT_GE(static_cast<int64_t>(q.block_table.size()) * 4, q.start + q.n_tokens);
            std::set<int32_t> mine(q.block_table.begin(), q.block_table.end());
            EXPECT_EQ(mine.size(), q.block_table.size()) << "a block twice in one table";
            for (int32_t b : q.block_table) {
                EXPECT_GT(b, 0);
                EXPECT_GT(s.pool().ref_count(b), 0);
                ++uses[b];
            }
            // A block being written belongs to this sequence alone (shared prefix blocks are
            // full, computed and read-only).
            for (int64_t i = q.start / 4; i <= (q.start + q.n_tokens - 1) / 4; ++i) {
                const int32_t b = q.block_table[static_cast<size_t>(i)];
                EXPECT_TRUE(written.insert(b).second) << "block " << b << " written twice";
                EXPECT_EQ(s.pool().ref_count(b), 1) << "shared block " << b << " written";
            }
            if (q.sample) {
                const bool fin = --remaining[q.id] <= 0;
                sampled.push_back(fin ? -1 : static_cast<int32_t>(rng() % 6));
                if (fin) done.insert(q.id);
            }
        }
        for (int32_t b : written) EXPECT_EQ(uses[b], 1) << "block " << b;
        for (const auto& [b, n] : uses) EXPECT_GE(s.pool().ref_count(b), n) << "block " << b;
        int32_t n_held = 0;  // every usable block is either referenced or free, never both
        for (int32_t b = 1; b < s.pool().n_blocks(); ++b) n_held += s.pool().ref_count(b) > 0;
        EXPECT_EQ(n_held + s.pool().n_free(), s.pool().n_blocks() - 1);
        s.update(out.seqs, sampled);
        for (RequestId id : done) {
            s.remove_request(id);
            remaining.erase(id);
        }
    }
    for (auto& [id, n] : remaining) s.remove_request(id);
    EXPECT_DOUBLE_EQ(s.stats().kv_usage, 0.0);
    EXPECT_GT(s.stats().prefix_hits_tokens, 0);
    EXPECT_EQ(s.pool().n_free(), 39);
}

}  // namespace
}  // namespace ag::sched
