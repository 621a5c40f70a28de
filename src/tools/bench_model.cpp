#include "tools/bench_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <vector>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif
#include <unistd.h>

#include "base/thread_pool.h"
#include "io/checkpoint.h"
#include "io/gguf.h"
#include "kernels/cpu/cpu.h"

namespace ag::tools {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

MeanStd mean_std(const std::vector<double>& v) {
    MeanStd r;
    if (v.empty()) return r;
    double s = 0.0;
    for (double x : v) s += x;
    r.mean = s / static_cast<double>(v.size());
    if (v.size() > 1) {
        double q = 0.0;
        for (double x : v) q += (x - r.mean) * (x - r.mean);
        r.stddev = std::sqrt(q / static_cast<double>(v.size() - 1));
    }
    return r;
}

std::vector<int32_t> random_tokens(std::mt19937_64& rng, int64_t vocab, int64_t n) {
    std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(vocab - 1));
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& x : t) x = pick(rng);
    return t;
}

// pp: one forward over n tokens in a fresh cache (logits of the last token only, as llama-bench).
Result<double> time_prompt(const model::Model& m, const std::vector<int32_t>& tokens,
                           std::vector<float>& logits, KvDType kv_dtype) {
    model::KvCache cache = m.new_cache(kv_dtype);
    const auto n = static_cast<int64_t>(tokens.size());
    cache.reserve_more(n);  // allocate before the clock starts
    const std::vector<int32_t> pos = model::text_positions(0, n);
    const auto t0 = Clock::now();
    AG_RETURN_IF_ERROR(m.forward({tokens, pos, false}, cache, logits.data()));
    return seconds_since(t0);
}

// tg: `tokens.size()` single-token forwards from a cache that already holds `depth` tokens. Decode
// cost does not depend on what the cached keys and values are, so they are random values written
// straight into the cache (untimed; no O(depth²) prefill to wait for).
Result<double> time_gen(const model::Model& m, int64_t depth, const std::vector<int32_t>& tokens,
                        std::vector<float>& logits, KvDType kv_dtype) {
    model::KvCache cache = m.new_cache(kv_dtype);
    const auto n = static_cast<int64_t>(tokens.size());
    cache.reserve_more(depth + n);
    if (depth > 0) {
        const model::TextConfig& t = m.config().text;
        std::mt19937 rng(1);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        std::vector<float> k(static_cast<size_t>(t.n_head_kv * t.head_dim)), v(k.size());
        for (int64_t j = 0; j < depth; ++j) {  // the cache's block table is the identity
            for (int64_t l = 0; l < t.n_layer; ++l) {
                for (auto& x : k) x = nd(rng);
                for (auto& x : v) x = nd(rng);
                cache.storage().write(l, j, k.data(), v.data());
            }
            cache.storage().finish_step();  // (int4: drops the rows of a block just sealed)
        }
        cache.commit(depth);
    }
    const std::vector<int32_t> pos = model::text_positions(depth, n);
    std::vector<int32_t> p1(3);
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t a = 0; a < 3; ++a) p1[static_cast<size_t>(a)] = pos[static_cast<size_t>(a * n + i)];
        AG_RETURN_IF_ERROR(m.forward({std::span<const int32_t>(&tokens[static_cast<size_t>(i)], 1), p1, false},
                                     cache, logits.data()));
    }
    return seconds_since(t0);
}

// Batched tg: `steps` forwards, each over one new token of each of `b` sequences (fresh storage,
// each sequence with its own contiguous blocks). tokens: [b, steps].
Result<double> time_batch_gen(const model::Model& m, const std::vector<int32_t>& tokens, int64_t b,
                              int64_t steps, std::vector<float>& logits, KvDType kv_dtype) {
    const model::TextConfig& t = m.config().text;
    constexpr int64_t kBlock = 16;  // the server's default block size
    const int64_t blocks_per_seq = (steps + kBlock - 1) / kBlock;
    model::KvStorage kv(t.n_layer, t.n_head_kv, t.head_dim, kBlock, b * blocks_per_seq, kv_dtype);
    std::vector<std::vector<int32_t>> tables(static_cast<size_t>(b));
    for (int64_t s = 0; s < b; ++s) {
        for (int64_t j = 0; j < blocks_per_seq; ++j)
            tables[static_cast<size_t>(s)].push_back(static_cast<int32_t>(s * blocks_per_seq + j));
    }
    std::vector<std::vector<int32_t>> pos(static_cast<size_t>(b), std::vector<int32_t>(3));
    std::vector<model::SeqInput> seqs(static_cast<size_t>(b));
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < steps; ++i) {
        for (int64_t s = 0; s < b; ++s) {
            auto& p = pos[static_cast<size_t>(s)];
            std::fill(p.begin(), p.end(), static_cast<int32_t>(i));
            const auto& table = tables[static_cast<size_t>(s)];
            seqs[static_cast<size_t>(s)] = model::SeqInput{
                std::span<const int32_t>(&tokens[static_cast<size_t>(s * steps + i)], 1), p, i,
                std::span<const int32_t>(table.data(), static_cast<size_t>(i / kBlock + 1)),
                model::LogitsMode::kLast};
        }
        AG_RETURN_IF_ERROR(m.forward_batch(seqs, kv, logits.data()));
    }
    return seconds_since(t0);
}

// Sum of all 64-bit words in [p, p + n) (n a multiple of 8 words, p 64-byte aligned), with the
// widest loads the build allows; the result only keeps the compiler from dropping the loads.
uint64_t stream_sum(const uint64_t* p, size_t n) {
#if defined(__AVX512F__)
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm512_add_epi64(a0, _mm512_load_si512(p + i));
        a1 = _mm512_add_epi64(a1, _mm512_load_si512(p + i + 8));
        a2 = _mm512_add_epi64(a2, _mm512_load_si512(p + i + 16));
        a3 = _mm512_add_epi64(a3, _mm512_load_si512(p + i + 24));
    }
    for (; i < n; i += 8) a0 = _mm512_add_epi64(a0, _mm512_load_si512(p + i));
    a0 = _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3));
    alignas(64) uint64_t lanes[8];  // (not _mm512_reduce_add_epi64: GCC 12 -Wuninitialized bug)
    _mm512_store_si512(lanes, a0);
    uint64_t sum = 0;
    for (uint64_t v : lanes) sum += v;
    return sum;
#elif defined(__AVX2__)
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
    }
    for (; i < n; i += 4)
        a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    alignas(32) uint64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), a0);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
#else
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i < n; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
    }
    return s0 + s1 + s2 + s3;
#endif
}

size_t last_level_cache_bytes() {
    long best = 0;
#ifdef _SC_LEVEL3_CACHE_SIZE
    best = std::max(best, sysconf(_SC_LEVEL3_CACHE_SIZE));
#endif
#ifdef _SC_LEVEL2_CACHE_SIZE
    best = std::max(best, sysconf(_SC_LEVEL2_CACHE_SIZE));
#endif
    return best > 0 ? static_cast<size_t>(best) : size_t{32} << 20;
}

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_vision_tensor(const std::string& name) {
    return name.find("visual") != std::string::npos || name.find("vision") != std::string::npos ||
           name.rfind("v.", 0) == 0 || name.rfind("mm.", 0) == 0;
}

bool is_token_embedding(const std::string& name) {
    return ends_with(name, "embed_tokens.weight") || name == "token_embd.weight";
}

}  // namespace

Result<BenchModelResult> run_bench_model(const model::Model& m, const BenchModelOptions& o) {
    if (o.prompt_len < 0 || o.gen_len < 0 || (o.prompt_len == 0 && o.gen_len == 0))
        return Status(ErrorCode::kInvalidArgument, "bench model: prompt and gen lengths must be >= 0, not both 0");
    if (o.repetitions < 1) return Status(ErrorCode::kInvalidArgument, "bench model: --repetitions must be >= 1");
    if (o.batch < 1) return Status(ErrorCode::kInvalidArgument, "bench model: --batch must be >= 1");
    if (o.depth < 0) return Status(ErrorCode::kInvalidArgument, "bench model: --depth must be >= 0");
    if (!kv_dtype_supports(o.kv_dtype, m.config().text.head_dim)) {
        return Status(ErrorCode::kInvalidArgument, "bench model: the KV dtype cannot hold this model's heads");
    }
    const model::TextConfig& t = m.config().text;
    std::mt19937_64 rng(o.seed);
    std::vector<float> logits(static_cast<size_t>(std::max(1, o.batch) * t.vocab_size));
    BenchModelResult r;

    if (o.prompt_len > 0) {
        const auto tokens = random_tokens(rng, t.vocab_size, o.prompt_len);
        auto warm = time_prompt(m, tokens, logits, o.kv_dtype);
        if (!warm.ok()) return warm.status();
        std::vector<double> tps;
        for (int rep = 0; rep < o.repetitions; ++rep) {
            auto s = time_prompt(m, tokens, logits, o.kv_dtype);
            if (!s.ok()) return s.status();
            tps.push_back(o.prompt_len / *s);
        }
        r.prompt_tokens_per_s = mean_std(tps);
    }
    if (o.gen_len > 0) {
        const auto tokens = random_tokens(rng, t.vocab_size, o.gen_len);
        // Warm-up: a few steps are enough to fault in the weights and size the scratch buffers.
        auto warm = time_gen(m, 0, std::vector<int32_t>(tokens.begin(), tokens.begin() + std::min(o.gen_len, 4)),
                             logits, o.kv_dtype);
        if (!warm.ok()) return warm.status();
        std::vector<double> tps;
        for (int rep = 0; rep < o.repetitions; ++rep) {
            auto s = time_gen(m, o.depth, tokens, logits, o.kv_dtype);
            if (!s.ok()) return s.status();
            tps.push_back(o.gen_len / *s);
        }
        r.gen_tokens_per_s = mean_std(tps);

        if (o.batch > 1) {
            const int64_t b = o.batch;
            const auto bt = random_tokens(rng, t.vocab_size, b * o.gen_len);
            auto w = time_batch_gen(m, bt, b, std::min(o.gen_len, 4), logits, o.kv_dtype);
            if (!w.ok()) return w.status();
            std::vector<double> btps;
            for (int rep = 0; rep < o.repetitions; ++rep) {
                auto s = time_batch_gen(m, bt, b, o.gen_len, logits, o.kv_dtype);
                if (!s.ok()) return s.status();
                btps.push_back(static_cast<double>(b * o.gen_len) / *s);
            }
            r.batch_gen_tokens_per_s = mean_std(btps);
        }
    }
    return r;
}

double measure_read_bandwidth(size_t bytes, int runs) {
    if (bytes == 0) bytes = std::clamp(4 * last_level_cache_bytes(), size_t{512} << 20, size_t{2} << 30);
    constexpr size_t kPage = 4096;
    bytes = (bytes + kPage - 1) / kPage * kPage;
    std::unique_ptr<uint64_t, FreeDeleter> buf(static_cast<uint64_t*>(std::aligned_alloc(kPage, bytes)));
    if (!buf) return 0.0;
    ThreadPool& pool = ThreadPool::global();
    const auto n_pages = static_cast<int64_t>(bytes / kPage);
    constexpr size_t kWordsPerPage = kPage / sizeof(uint64_t);
    uint64_t* base = buf.get();
    // First touch from the thread that later reads each page.
    pool.parallel_for(n_pages, 1, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) {
            uint64_t* w = base + static_cast<size_t>(p) * kWordsPerPage;
            for (size_t i = 0; i < kWordsPerPage; ++i) w[i] = static_cast<uint64_t>(p) + i;
        }
    });
    std::atomic<uint64_t> sink{0};
    double best = 0.0;
    for (int run = 0; run < std::max(1, runs); ++run) {
        const auto t0 = Clock::now();
        pool.parallel_for(n_pages, 1, [&](int64_t p0, int64_t p1) {
            const uint64_t s = stream_sum(base + static_cast<size_t>(p0) * kWordsPerPage,
                                          static_cast<size_t>(p1 - p0) * kWordsPerPage);
            sink.fetch_add(s, std::memory_order_relaxed);
        });
        const double sec = seconds_since(t0);
        best = std::max(best, static_cast<double>(bytes) / sec);
    }
    // Keep the sums observable (never true for the pattern written above).
    if (sink.load() == 0x5eedULL) std::fprintf(stderr, " ");
    return best;
}

Result<uint64_t> weight_bytes_per_token(const std::string& path) {
    if (ends_with(path, ".gguf")) {
        auto g = io::GgufFile::open(path);
        if (!g.ok()) return g.status();
        // No output.weight: llama.cpp ties the output projection to token_embd.
        const bool tied = g->find("output.weight") == nullptr;
        uint64_t total = 0;
        for (const io::GgufTensorInfo& t : g->tensors()) {
            if (is_vision_tensor(t.name)) continue;
            if (!tied && is_token_embedding(t.name) && t.shape.size() == 2 && t.shape[0] > 0) {
                total += t.n_bytes / static_cast<uint64_t>(t.shape[0]);
            } else {
                total += t.n_bytes;
            }
        }
        return total;
    }
    auto ck = io::Checkpoint::open(path);
    if (!ck.ok()) return ck.status();
    // With tied embeddings the output projection reads the whole table every step.
    const nlohmann::json& cfg = ck->config();
    auto tied_in = [](const nlohmann::json& j, bool dflt) {
        if (!j.is_object()) return dflt;
        auto it = j.find("tie_word_embeddings");
        return it != j.end() && it->is_boolean() ? it->get<bool>() : dflt;
    };
    bool tied = tied_in(cfg, false);
    if (cfg.is_object() && cfg.contains("text_config")) tied = tied_in(cfg["text_config"], tied);
    uint64_t total = 0;
    for (const std::string& name : ck->tensor_names()) {
        if (is_vision_tensor(name)) continue;
        auto tensor = ck->tensor(name);
        if (!tensor.ok()) return tensor.status();
        if (!tied && is_token_embedding(name) && tensor->n_dims() == 2 && tensor->dim(0) > 0) {
            total += tensor->n_bytes() / static_cast<uint64_t>(tensor->dim(0));
        } else {
            total += tensor->n_bytes();
        }
    }
    return total;
}

std::string kernel_isa() { return std::string(kernels::cpu::isa_name()); }

}  // namespace ag::tools
