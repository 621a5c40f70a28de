// The engine end to end on the transformers golden models: many concurrent greedy requests give
// exactly transformers' continuations (batching, chunked prefill and paged KV must not change a
// request's tokens), aborts free everything, and bad requests fail fast.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "ag/engine.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace ag {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct Collected {
    std::vector<int32_t> tokens;
    EngineOutput last;
};

Collected drain(OutputChannel& ch) {
    Collected c;
    EngineOutput out;
    while (ch.pop(out, 60s)) {
        c.tokens.insert(c.tokens.end(), out.tokens.begin(), out.tokens.end());
        if (out.finished) {
            c.last = std::move(out);
            return c;
        }
    }
    ADD_FAILURE() << "no final output within 60 s";
    return c;
}

std::shared_ptr<const model::Model> load(const std::string& name) {
    auto m = model::load_model("tests/golden/models/" + name);
    EXPECT_TRUE(m.ok()) << m.status().to_string();
    return std::shared_ptr<const model::Model>(std::move(m).value());
}

EngineRequest greedy(std::vector<int32_t> ids, int32_t max_tokens) {
    EngineRequest r;
    r.prompt_ids = std::move(ids);
    r.sampling.temperature = 0.0f;
    r.sampling.max_tokens = max_tokens;
    r.sampling.ignore_eos = true;
    return r;
}

void wait_idle(const EngineClient& e) {
    for (int i = 0; i < 2000; ++i) {
        const EngineStats s = e.stats();
        if (s.n_running == 0 && s.n_waiting == 0 && s.kv_usage == 0.0) return;
        std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "engine did not become idle";
}

class EngineGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineGolden, ConcurrentGreedyEqualsTransformers) {
    auto model = load(GetParam());
    std::ifstream in("tests/golden/models/" + GetParam() + "/golden.json");
    const json golden = json::parse(in);
    EngineConfig cfg;
    cfg.max_num_seqs = 4;             // fewer slots than requests: queueing
    cfg.max_num_batched_tokens = 7;   // tiny budget: prompts are prefilled in chunks
    cfg.block_size = 4;
    cfg.max_model_len = 128;
    auto engine = EngineClient::create(model, cfg);
    ASSERT_TRUE(engine.ok()) << engine.status().to_string();
    std::vector<std::pair<Submission, std::vector<int32_t>>> subs;
    for (int rep = 0; rep < 2; ++rep) {
        for (const auto& c : golden.at("cases")) {
            auto s = (*engine)->submit(greedy(c.at("ids").get<std::vector<int32_t>>(), 32));
            ASSERT_TRUE(s.ok()) << s.status().to_string();
            subs.emplace_back(*s, c.at("greedy").get<std::vector<int32_t>>());
        }
    }
    for (auto& [sub, expected] : subs) {
        Collected got = drain(*sub.channel);
        EXPECT_EQ(got.tokens, expected);
        EXPECT_EQ(got.last.finish_reason, FinishReason::kLength);
    }
    wait_idle(**engine);
    EXPECT_GT((*engine)->stats().generation_tokens_total, 0);
}

INSTANTIATE_TEST_SUITE_P(Models, EngineGolden,
                         ::testing::Values("glm4_f32", "glm4_bf16", "glm4v_f32"),
                         [](const auto& p) { return p.param; });

// One sequence alone: prefill, then one token per forward, in a model::KvCache of `kv` (blocks of
// 16, as the engine below).
std::vector<int32_t> greedy_alone(const model::Model& m, const std::vector<int32_t>& ids,
                                  int64_t n, KvDType kv) {
    const int64_t v = m.config().text.vocab_size;
    model::KvCache cache = m.new_cache(kv);
    std::vector<float> logits(static_cast<size_t>(v));
    std::vector<int32_t> out, cur = ids;
    int64_t pos0 = 0;
    for (int64_t i = 0; i < n; ++i) {
        const auto pos = model::text_positions(pos0, static_cast<int64_t>(cur.size()));
        EXPECT_TRUE(m.forward({cur, pos, false}, cache, logits.data()).ok());
        pos0 += static_cast<int64_t>(cur.size());
        out.push_back(static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin()));
        cur = {out.back()};
    }
    return out;
}

// Every compressed KV dtype: the engine's tokens equal the request decoded alone with the same
// dtype, while a 7-token budget (chunked prefill), batching, preemption (a pool of 10 blocks for
// 4 concurrent requests) and prefix-cache hits (every prompt again once the first round is done)
// change what is computed together. For int4 this covers open blocks: sealing, reading the
// query's own block, and dropping the rows of freed blocks before they are reused.
TEST(Engine, EveryKvDtypeIsChunkBatchPrefixAndPreemptionInvariant) {
    auto model = load("glm4_f32");
    std::ifstream in("tests/golden/models/glm4_f32/golden.json");
    const json golden = json::parse(in);
    const model::TextConfig& t = model->config().text;
    for (KvDType dt : {KvDType::kBF16, KvDType::kInt8, KvDType::kInt4}) {
        std::vector<std::vector<int32_t>> prompts, expected;
        for (const auto& c : golden.at("cases")) {
            prompts.push_back(c.at("ids").get<std::vector<int32_t>>());
            expected.push_back(greedy_alone(*model, prompts.back(), 40, dt));
        }
        for (const bool small_pool : {true, false}) {
            EngineConfig cfg;
            cfg.max_num_seqs = 4;
            cfg.max_num_batched_tokens = 7;
            cfg.block_size = 16;
            cfg.max_model_len = 128;
            cfg.kv_cache_dtype = dt;
            // int4: rows for 2 · 4 sequences + 7 / 16 batched tokens = 9 open blocks, up front.
            const double open_bytes =
                dt == KvDType::kInt4 ? 9 * model::KvStorage::open_block_bytes(t.n_layer, t.n_head_kv, t.head_dim, 16, dt) : 0.0;
            if (small_pool) {
                const double block_bytes =
                    16 * model::KvStorage::bytes_per_token(t.n_layer, t.n_head_kv, t.head_dim, 16, dt);
                cfg.kv_cache_memory_gib = (10.5 * block_bytes + open_bytes) / (1ull << 30);
            }
            auto engine = EngineClient::create(model, cfg);
            ASSERT_TRUE(engine.ok()) << engine.status().to_string();
            for (int round = 0; round < 2; ++round) {
                std::vector<Submission> subs;
                for (const auto& ids : prompts) {
                    auto s = (*engine)->submit(greedy(ids, 40));
                    ASSERT_TRUE(s.ok()) << s.status().to_string();
                    subs.push_back(*s);
                }
                for (size_t i = 0; i < subs.size(); ++i) {
                    EXPECT_EQ(drain(*subs[i].channel).tokens, expected[i])
                        << kv_dtype_name(dt) << " prompt " << i << " round " << round;
                }
            }
            wait_idle(**engine);
            const EngineStats st = (*engine)->stats();
            // The open rows never outgrew what was set aside (batching, chunks and preemption
            // included), and --kv-cache-memory held them and 10 blocks.
            EXPECT_EQ(st.kv_open_rows_bytes, static_cast<int64_t>(open_bytes)) << kv_dtype_name(dt);
            if (small_pool) {
                EXPECT_EQ(st.n_blocks, 10) << kv_dtype_name(dt);
                EXPECT_GT(st.n_preemptions, 0) << kv_dtype_name(dt);
            } else {
                EXPECT_GT(st.prefix_hits_tokens, 0) << kv_dtype_name(dt);
            }
        }
    }
}

TEST(Engine, AbortFreesBlocksAndReportsAbort) {
    auto model = load("glm4_f32");
    EngineConfig cfg;
    cfg.max_model_len = 512;
    auto engine = EngineClient::create(model, cfg);
    ASSERT_TRUE(engine.ok());
    auto s = (*engine)->submit(greedy({1, 2, 3, 4, 5}, 400));
    ASSERT_TRUE(s.ok());
    EngineOutput first;
    ASSERT_TRUE(s->channel->pop(first, 30s));  // decoding now
    (*engine)->abort(s->id);
    Collected rest = drain(*s->channel);
    EXPECT_EQ(rest.last.finish_reason, FinishReason::kAbort);
    wait_idle(**engine);
    EXPECT_EQ((*engine)->stats().requests_aborted_total, 1);
    (*engine)->abort(s->id);  // idempotent
}

TEST(Engine, StopsOnEosAndValidatesRequests) {
    auto model = load("glm4_f32");
    EngineConfig cfg;
    cfg.max_model_len = 64;
    cfg.max_num_queued_reqs = 2;
    auto engine = EngineClient::create(model, cfg);
    ASSERT_TRUE(engine.ok());
    EngineRequest too_long = greedy(std::vector<int32_t>(60, 1), 10);
    auto r = (*engine)->submit(too_long);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("maximum context length is 64"), std::string::npos);
    EXPECT_FALSE((*engine)->submit(greedy({}, 4)).ok());
    EXPECT_FALSE((*engine)->submit(greedy({100000}, 4)).ok());
    EngineRequest bad = greedy({1}, 4);
    bad.sampling.top_p = 2.0f;
    EXPECT_FALSE((*engine)->submit(bad).ok());

    // A stop id: the first greedy token of a golden case stops the request at once.
    std::ifstream in("tests/golden/models/glm4_f32/golden.json");
    const json c = json::parse(in).at("cases").at(2);
    EngineRequest stop = greedy(c.at("ids").get<std::vector<int32_t>>(), 8);
    stop.sampling.ignore_eos = false;
    stop.sampling.stop_token_ids = {c.at("greedy")[1].get<int32_t>()};
    auto sub = (*engine)->submit(stop);
    ASSERT_TRUE(sub.ok());
    Collected got = drain(*sub->channel);
    EXPECT_EQ(got.last.finish_reason, FinishReason::kStop);
    EXPECT_EQ(got.last.stop_token_id, c.at("greedy")[1].get<int32_t>());
    EXPECT_EQ(got.tokens, (std::vector<int32_t>{c.at("greedy")[0].get<int32_t>()}));
}

}  // namespace
}  // namespace ag
