// Accuracy of on-the-fly weight quantization (LoadOptions::weight_dtype): the same model loaded
// with f32/bf16 weights and with Q8_0 / Q4_0 / Q4_K weights, run through the same forward on the
// same prompts; per position, does the arg-max agree and what is KL(p_ref || p_quant)?
//
// Two sets of models:
//  * the golden tiny checkpoints (tests/golden/models, their recorded prompts, every position);
//    d 64/96 rows are not whole Q4_K super-blocks, so "Q4_K" there is Q4_0 (weight_quant.h);
//  * a synthetic GLM-4 checkpoint written here with every row a multiple of 256 (so Q4_K is
//    Q4_K everywhere), weights scaled like a trained model's (unit-RMS activations, logits with
//    std ≈ 3), and random prompts.
// Prints the table recorded in docs/benchmarks.md ("Quantization accuracy").
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <unistd.h>

#include "io/safetensors.h"
#include "model/model.h"
#include "model/weight_quant.h"

namespace ag::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A position is "decisive" when the reference prefers its top token by at least 1 nat over the
// runner-up (p1 ≥ e·p2). Top-1 agreement is only meaningful there: where the top two logits are
// closer than the logit error of a format, which of them wins is a coin toss for any quantizer
// (see docs/benchmarks.md, "Quantization accuracy").
constexpr double kDecisiveMargin = 1.0;

struct Metrics {
    int64_t positions = 0, same_top1 = 0, decisive = 0, decisive_same = 0;
    double kl_sum = 0, kl_max = 0;
    double err2 = 0, spread2 = 0;  // Σ (Δ logit)², Σ (logit − row mean)² over the reference
    static double ratio(double a, double b) { return b > 0 ? a / b : 0; }
    double top1() const { return ratio(static_cast<double>(same_top1), static_cast<double>(positions)); }
    double top1_decisive() const { return ratio(static_cast<double>(decisive_same), static_cast<double>(decisive)); }
    double kl_mean() const { return ratio(kl_sum, static_cast<double>(positions)); }
    double rel_logit_err() const { return std::sqrt(ratio(err2, spread2)); }
    void add(const Metrics& o) {
        positions += o.positions;
        same_top1 += o.same_top1;
        decisive += o.decisive;
        decisive_same += o.decisive_same;
        kl_sum += o.kl_sum;
        kl_max = std::max(kl_max, o.kl_max);
        err2 += o.err2;
        spread2 += o.spread2;
    }
};

std::vector<float> all_logits(const Model& m, const std::vector<int32_t>& ids,
                              KvDType kv = KvDType::kF32) {
    const auto n = static_cast<int64_t>(ids.size());
    std::vector<float> logits(static_cast<size_t>(n * m.config().text.vocab_size));
    KvCache cache = m.new_cache(kv);
    const auto pos = text_positions(0, n);
    const Status st = m.forward({ids, pos, true}, cache, logits.data());
    EXPECT_TRUE(st.ok()) << st.to_string();
    return logits;
}

// KL(P || Q) of the softmaxes of two logit rows, in nats.
double kl_divergence(const float* p_logits, const float* q_logits, int64_t v) {
    const auto log_softmax = [v](const float* z) {
        const double mx = *std::max_element(z, z + v);
        double s = 0;
        for (int64_t i = 0; i < v; ++i) s += std::exp(z[i] - mx);
        std::vector<double> out(static_cast<size_t>(v));
        for (int64_t i = 0; i < v; ++i) out[static_cast<size_t>(i)] = z[i] - mx - std::log(s);
        return out;
    };
    const auto lp = log_softmax(p_logits), lq = log_softmax(q_logits);
    double kl = 0;
    for (size_t i = 0; i < lp.size(); ++i) kl += std::exp(lp[i]) * (lp[i] - lq[i]);
    return std::max(kl, 0.0);
}

Metrics compare(const Model& ref, const Model& q, const std::vector<std::vector<int32_t>>& prompts,
                KvDType q_kv = KvDType::kF32) {
    const int64_t v = ref.config().text.vocab_size;
    Metrics m;
    for (const auto& ids : prompts) {
        const auto a = all_logits(ref, ids), b = all_logits(q, ids, q_kv);
        for (size_t i = 0; i < ids.size(); ++i) {
            const float* ra = a.data() + static_cast<int64_t>(i) * v;
            const float* rb = b.data() + static_cast<int64_t>(i) * v;
            const int64_t top_a = std::max_element(ra, ra + v) - ra;
            const bool same = top_a == std::max_element(rb, rb + v) - rb;
            float second = -INFINITY;
            double mean = 0;
            for (int64_t j = 0; j < v; ++j) {
                if (j != top_a) second = std::max(second, ra[j]);
                mean += ra[j];
            }
            mean /= static_cast<double>(v);
            for (int64_t j = 0; j < v; ++j) {
                m.err2 += (static_cast<double>(ra[j]) - rb[j]) * (static_cast<double>(ra[j]) - rb[j]);
                m.spread2 += (ra[j] - mean) * (ra[j] - mean);
            }
            ++m.positions;
            m.same_top1 += same;
            if (ra[top_a] - second >= kDecisiveMargin) {
                ++m.decisive;
                m.decisive_same += same;
            }
            const double kl = kl_divergence(ra, rb, v);
            m.kl_sum += kl;
            m.kl_max = std::max(m.kl_max, kl);
        }
    }
    return m;
}

const std::vector<std::pair<DType, const char*>> kFormats = {
    {DType::kQ8_0, "Q8_0"}, {DType::kQ4_0, "Q4_0"}, {DType::kQ4_K, "Q4_K"}};

void print_row(const char* set, const char* fmt, const Metrics& m) {
    std::printf("| %-28s | %-4s | %4lld | %6.2f%% | %4lld | %7.2f%% | %.5f | %.4f | %5.2f%% |\n", set,
                fmt, static_cast<long long>(m.positions), 100.0 * m.top1(),
                static_cast<long long>(m.decisive), 100.0 * m.top1_decisive(), m.kl_mean(), m.kl_max,
                100.0 * m.rel_logit_err());
}

void print_header() {
    std::printf("| model | format | positions | top-1 agree | decisive positions | top-1 agree "
                "(decisive) | mean KL (nats) | max KL | rel. logit error |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
}

// ---- golden tiny checkpoints ----

TEST(QuantAccuracy, GoldenTinyModels) {
    const fs::path root = "tests/golden/models";
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(root)) {
        if (fs::exists(e.path() / "golden.json")) names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    ASSERT_FALSE(names.empty()) << "run from the repository root";
    std::vector<Metrics> total(kFormats.size());
    print_header();
    for (const auto& name : names) {
        std::ifstream in(root / name / "golden.json");
        const json g = json::parse(in);
        std::vector<std::vector<int32_t>> prompts;
        for (const auto& c : g.at("cases")) prompts.push_back(c.at("ids").get<std::vector<int32_t>>());
        auto ref = load_model((root / name).string());
        ASSERT_TRUE(ref.ok()) << ref.status().to_string();
        for (size_t f = 0; f < kFormats.size(); ++f) {
            auto q = load_model((root / name).string(), LoadOptions{kFormats[f].first});
            ASSERT_TRUE(q.ok()) << q.status().to_string();
            const Metrics m = compare(**ref, **q, prompts);
            print_row(name.c_str(), kFormats[f].second, m);
            total[f].add(m);
        }
    }
    for (size_t f = 0; f < kFormats.size(); ++f) print_row("golden, all", kFormats[f].second, total[f]);
    // The Q8_0 threshold on the decisive positions (see kDecisiveMargin). The 4-bit
    // formats' 95% is not reachable on these random-weight models (docs/benchmarks.md explains
    // why); their numbers are reported, and the synthetic test bounds their error instead.
    EXPECT_GE(total[0].top1_decisive(), 0.99);
    EXPECT_LT(total[0].kl_mean(), 0.01);
    EXPECT_LT(total[0].kl_mean(), total[1].kl_mean());
}

// ---- KV cache dtypes (--kv-cache-dtype) against f32 KV, same weights ----

const std::vector<std::pair<KvDType, const char*>> kKvFormats = {
    {KvDType::kBF16, "kv bf16"}, {KvDType::kF16, "kv f16"}, {KvDType::kInt8, "kv int8"},
    {KvDType::kInt4, "kv int4"}};

// Greedy continuation of `ids` with a KV cache of `kv` (prefill, then one token per forward).
std::vector<int32_t> greedy(const Model& m, const std::vector<int32_t>& ids, int64_t n, KvDType kv) {
    const int64_t v = m.config().text.vocab_size;
    KvCache cache = m.new_cache(kv);
    std::vector<float> logits(static_cast<size_t>(v));
    std::vector<int32_t> out;
    std::vector<int32_t> cur = ids;
    int64_t pos0 = 0;
    for (int64_t i = 0; i < n; ++i) {
        const auto pos = text_positions(pos0, static_cast<int64_t>(cur.size()));
        EXPECT_TRUE(m.forward({cur, pos, false}, cache, logits.data()).ok());
        pos0 += static_cast<int64_t>(cur.size());
        const auto best = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        out.push_back(best);
        cur = {best};
    }
    return out;
}

TEST(KvAccuracy, GoldenTinyModels) {
    const fs::path root = "tests/golden/models";
    std::vector<Metrics> total(kKvFormats.size());
    print_header();
    int64_t n_greedy = 0, n_greedy_diverged = 0;
    constexpr float kNearTie = 0.02f;
    for (const char* name : {"glm4_bf16", "glm4_f32", "glm4v_bf16", "glm4v_f32"}) {
        std::ifstream in(root / name / "golden.json");
        ASSERT_TRUE(in.good()) << "run from the repository root";
        const json g = json::parse(in);
        auto m = load_model((root / name).string());
        ASSERT_TRUE(m.ok()) << m.status().to_string();
        std::vector<std::vector<int32_t>> seqs;
        for (const auto& c : g.at("cases")) {
            auto ids = c.at("ids").get<std::vector<int32_t>>();
            const auto cont = c.at("greedy").get<std::vector<int32_t>>();
            // bf16 KV: transformers' greedy tokens (which f32 KV reproduces: golden tests), except
            // where the reference itself is a near tie: at the first differing token, f32's top
            // two logits must be within kNearTie of each other.
            const auto got = greedy(**m, ids, static_cast<int64_t>(cont.size()), KvDType::kBF16);
            const auto n_prompt = ids.size();
            ++n_greedy;
            ids.insert(ids.end(), cont.begin(), cont.end());  // score the continuation too
            const auto first = std::mismatch(got.begin(), got.end(), cont.begin()).first - got.begin();
            if (static_cast<size_t>(first) < got.size()) {
                const int64_t v = (*m)->config().text.vocab_size;
                const auto ref = all_logits(**m, ids);
                std::vector<float> row(ref.begin() + (static_cast<int64_t>(n_prompt) + first - 1) * v,
                                       ref.begin() + (static_cast<int64_t>(n_prompt) + first) * v);
                std::partial_sort(row.begin(), row.begin() + 2, row.end(), std::greater<float>());
                std::printf("%s prompt %zu: bf16 KV greedy leaves the reference at token %td "
                            "(reference top-2 gap %.4f)\n", name, n_prompt, first, row[0] - row[1]);
                EXPECT_LT(row[0] - row[1], kNearTie) << name << " prompt length " << n_prompt;
                ++n_greedy_diverged;
            }
            seqs.push_back(std::move(ids));
        }
        for (size_t f = 0; f < kKvFormats.size(); ++f) {
            const Metrics r = compare(**m, **m, seqs, kKvFormats[f].first);
            print_row(name, kKvFormats[f].second, r);
            total[f].add(r);
        }
    }
    for (size_t f = 0; f < kKvFormats.size(); ++f) print_row("golden, all", kKvFormats[f].second, total[f]);
    std::printf("bf16 KV greedy equal to the reference in %lld of %lld cases\n",
                static_cast<long long>(n_greedy - n_greedy_diverged), static_cast<long long>(n_greedy));
    EXPECT_GE(n_greedy, 12);
    EXPECT_LE(n_greedy_diverged * 8, n_greedy);
    // Targets of issue #12 on the decisive positions (the numbers are in docs/benchmarks.md).
    EXPECT_GE(total[0].top1_decisive(), 0.999);  // bf16
    EXPECT_GE(total[2].top1_decisive(), 0.99);   // int8
    EXPECT_GE(total[3].top1_decisive(), 0.97);   // int4
    EXPECT_LT(total[1].kl_mean(), total[0].kl_mean());
    EXPECT_LT(total[0].kl_mean(), total[2].kl_mean());
    EXPECT_LT(total[2].kl_mean(), total[3].kl_mean());
}

// ---- synthetic GLM-4 with Q4_K-compatible rows ----

struct SynthShape {
    int64_t vocab = 1024, d = 256, n_layer = 4, n_head = 4, n_head_kv = 2, head_dim = 64, ffn = 768;
};

Tensor randn(std::mt19937& rng, std::vector<int64_t> shape, double sigma, double mean = 0.0) {
    Tensor t = Tensor::empty(DType::kF32, std::move(shape));
    std::normal_distribution<float> nd(static_cast<float>(mean), static_cast<float>(sigma));
    float* p = t.mutable_as<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = nd(rng);
    return t;
}

// Replaces a 2-D weight before it is written (identity by default).
using WeightTransform = std::function<Tensor(const std::string& name, Tensor w)>;

// dequantize(quantize(w)) as f32 for the formats LoadOptions would pick (weight_quant.h).
Tensor dequantized(const Tensor& w, DType fmt) {
    const Tensor q = quantize_matrix(w, fmt);
    return q.dtype() == w.dtype() ? w : q.to_f32();
}

// Matrices N(0, 1/fan_in) keep activations near unit RMS (as trained weights roughly do);
// lm_head N(0, 3²/d) gives logits with std ≈ 3 after the final norm.
std::vector<io::TensorToWrite> synthetic_weights(const SynthShape& s) {
    std::mt19937 rng(1234);
    const double d = static_cast<double>(s.d);
    const int64_t q_out = s.n_head * s.head_dim, kv_out = s.n_head_kv * s.head_dim;
    std::vector<io::TensorToWrite> w;
    w.push_back({"model.embed_tokens.weight", randn(rng, {s.vocab, s.d}, 1.0)});
    w.push_back({"lm_head.weight", randn(rng, {s.vocab, s.d}, 3.0 / std::sqrt(d))});
    w.push_back({"model.norm.weight", randn(rng, {s.d}, 0.1, 1.0)});
    for (int64_t l = 0; l < s.n_layer; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        w.push_back({p + "self_attn.q_proj.weight", randn(rng, {q_out, s.d}, 1.0 / std::sqrt(d))});
        w.push_back({p + "self_attn.k_proj.weight", randn(rng, {kv_out, s.d}, 1.0 / std::sqrt(d))});
        w.push_back({p + "self_attn.v_proj.weight", randn(rng, {kv_out, s.d}, 1.0 / std::sqrt(d))});
        w.push_back({p + "self_attn.o_proj.weight", randn(rng, {s.d, q_out}, 1.0 / std::sqrt(static_cast<double>(q_out)))});
        w.push_back({p + "self_attn.q_proj.bias", randn(rng, {q_out}, 0.1)});
        w.push_back({p + "self_attn.k_proj.bias", randn(rng, {kv_out}, 0.1)});
        w.push_back({p + "self_attn.v_proj.bias", randn(rng, {kv_out}, 0.1)});
        w.push_back({p + "mlp.gate_up_proj.weight", randn(rng, {2 * s.ffn, s.d}, 1.0 / std::sqrt(d))});
        w.push_back({p + "mlp.down_proj.weight", randn(rng, {s.d, s.ffn}, 1.0 / std::sqrt(static_cast<double>(s.ffn)))});
        for (const char* n : {"input_layernorm", "post_self_attn_layernorm", "post_attention_layernorm",
                              "post_mlp_layernorm"}) {
            w.push_back({p + n + ".weight", randn(rng, {s.d}, 0.1, 1.0)});
        }
    }
    return w;
}

fs::path write_synthetic(const SynthShape& s, const std::string& tag = "ref",
                         const WeightTransform& transform = {}) {
    const fs::path dir = fs::temp_directory_path() /
                         ("ag_quant_accuracy_" + std::to_string(::getpid()) + "_" + tag);
    fs::create_directories(dir);
    std::vector<io::TensorToWrite> w = synthetic_weights(s);
    if (transform) {
        for (auto& t : w) {
            if (t.tensor.n_dims() == 2) t.tensor = transform(t.name, t.tensor);
        }
    }
    const Status st = io::write_safetensors((dir / "model.safetensors").string(), w);
    EXPECT_TRUE(st.ok()) << st.to_string();
    const json cfg = {
        {"architectures", {"Glm4ForCausalLM"}}, {"model_type", "glm4"}, {"attention_bias", true},
        {"head_dim", s.head_dim}, {"hidden_size", s.d}, {"intermediate_size", s.ffn},
        {"max_position_embeddings", 512}, {"num_attention_heads", s.n_head},
        {"num_hidden_layers", s.n_layer}, {"num_key_value_heads", s.n_head_kv},
        {"rms_norm_eps", 1e-5}, {"partial_rotary_factor", 0.5}, {"rope_theta", 10000.0},
        {"tie_word_embeddings", false}, {"vocab_size", s.vocab}, {"eos_token_id", {0}},
        {"dtype", "float32"}};
    std::ofstream(dir / "config.json") << cfg.dump(2);
    return dir;
}

// sqrt(Σ‖dequant(quant(W)) − W‖² / Σ‖W‖²) over the synthetic model's matrices.
double weight_rel_error(const SynthShape& s, DType fmt) {
    double e = 0, n = 0;
    for (const auto& t : synthetic_weights(s)) {
        if (t.tensor.n_dims() != 2) continue;
        const Tensor d = dequantized(t.tensor, fmt);
        for (int64_t i = 0; i < t.tensor.numel(); ++i) {
            const double a = t.tensor.as<float>()[i], b = d.as<float>()[i];
            e += (a - b) * (a - b);
            n += a * a;
        }
    }
    return std::sqrt(e / n);
}

TEST(QuantAccuracy, SyntheticGlm4WithQ4KRows) {
    const SynthShape s;
    const fs::path dir = write_synthetic(s);
    std::mt19937 rng(99);
    std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(s.vocab - 1));
    std::vector<std::vector<int32_t>> prompts(8, std::vector<int32_t>(64));
    for (auto& p : prompts) {
        for (auto& t : p) t = tok(rng);
    }
    auto ref = load_model(dir.string());
    ASSERT_TRUE(ref.ok()) << ref.status().to_string();
    print_header();
    std::vector<Metrics> res;
    for (const auto& [dt, name] : kFormats) {
        auto q = load_model(dir.string(), LoadOptions{dt});
        ASSERT_TRUE(q.ok()) << q.status().to_string();
        res.push_back(compare(**ref, **q, prompts));
        print_row("synthetic d256 F768 L4 V1024", name, res.back());
    }
    fs::remove_all(dir);
    EXPECT_GE(res[0].top1_decisive(), 0.99);
    EXPECT_LT(res[0].kl_mean(), 0.01);
    EXPECT_LT(res[2].kl_mean(), res[1].kl_mean());  // Q4_K better than Q4_0
    EXPECT_LT(res[0].kl_mean(), res[2].kl_mean());
    // Error propagation: independent relative errors in the m matrix products on a path through
    // the network (embedding, per layer q/k/v, o, gate_up, down, lm_head) add up in quadrature,
    // so the logits' relative error stays below √m · ε unless something amplifies it (a wrong
    // layout or a broken kernel does). ε per product: the weights' ε_w and the kernels' 8-bit
    // activation rounding ε_a, taken as 1.5 × Q8_0's error on the same Gaussian-like data (Q8_K
    // rounds blocks of 256, whose max is ~1.4× that of 32 Gaussian samples).
    const double m = 2.0 + 6.0 * static_cast<double>(s.n_layer);
    const double ea = 1.5 * weight_rel_error(s, DType::kQ8_0);
    for (size_t f = 0; f < kFormats.size(); ++f) {
        const double ew = weight_rel_error(s, kFormats[f].first);
        const double bound = std::sqrt(m * (ew * ew + ea * ea));
        std::printf("%s: weights' relative RMS error %.4f, logits' %.4f, bound %.4f\n",
                    kFormats[f].second, ew, res[f].rel_logit_err(), bound);
        EXPECT_LT(res[f].rel_logit_err(), bound) << kFormats[f].second;
    }
}

// The quantized model computes what its weights say: loading with LoadOptions{fmt} gives the
// logits of an f32 checkpoint holding dequantize(quantize(W)). What remains is the kernels'
// own rounding (activation quantization in the integer dot products), far below the 4-bit
// formats' weight error. Also measures the effect of keeping lm_head at Q8_0 (llama.cpp keeps
// output.weight at 6 bits for its 4-bit types).
TEST(KvAccuracy, SyntheticGlm4) {
    const SynthShape s;
    const fs::path dir = write_synthetic(s, "kv");
    std::mt19937 rng(77);
    std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(s.vocab - 1));
    std::vector<std::vector<int32_t>> prompts(8, std::vector<int32_t>(96));
    for (auto& p : prompts) {
        for (auto& t : p) t = tok(rng);
    }
    auto m = load_model(dir.string());
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    print_header();
    std::vector<Metrics> res;
    for (const auto& [kv, name] : kKvFormats) {
        res.push_back(compare(**m, **m, prompts, kv));
        print_row("synthetic d256 L4 head_dim 64", name, res.back());
    }
    fs::remove_all(dir);
    EXPECT_GE(res[0].top1_decisive(), 0.999);
    EXPECT_GE(res[2].top1_decisive(), 0.99);
    EXPECT_GE(res[3].top1_decisive(), 0.97);
    // More bits, less error: f16 (10-bit mantissa) < bf16 (7) < int8 < int4.
    EXPECT_LT(res[1].kl_mean(), res[0].kl_mean());
    EXPECT_LT(res[0].kl_mean(), res[2].kl_mean());
    EXPECT_LT(res[2].kl_mean(), res[3].kl_mean());
}

TEST(QuantAccuracy, QuantizedLoadRunsTheDequantizedWeights) {
    const SynthShape s;
    const fs::path ref_dir = write_synthetic(s);
    std::mt19937 rng(5);
    std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(s.vocab - 1));
    std::vector<std::vector<int32_t>> prompts(4, std::vector<int32_t>(32));
    for (auto& p : prompts) {
        for (auto& t : p) t = tok(rng);
    }
    auto ref = load_model(ref_dir.string());
    ASSERT_TRUE(ref.ok()) << ref.status().to_string();
    print_header();
    for (const auto& [dt, name] : kFormats) {
        const DType fmt = dt;
        auto q = load_model(ref_dir.string(), LoadOptions{fmt});
        ASSERT_TRUE(q.ok());
        const fs::path deq_dir = write_synthetic(s, "deq", [fmt](const std::string&, Tensor w) {
            return dequantized(w, fmt);
        });
        auto deq = load_model(deq_dir.string());
        ASSERT_TRUE(deq.ok());
        const Metrics same = compare(**deq, **q, prompts);
        print_row("dequantized f32 vs quantized", name, same);
        EXPECT_LT(same.rel_logit_err(), 0.05) << name;
        EXPECT_LT(same.kl_mean(), 0.005) << name;

        const fs::path mix_dir = write_synthetic(s, "mix", [fmt](const std::string& n, Tensor w) {
            return dequantized(w, n == "lm_head.weight" ? DType::kQ8_0 : fmt);
        });
        auto mix = load_model(mix_dir.string());
        ASSERT_TRUE(mix.ok());
        print_row("f32 vs quantized, lm_head Q8_0", name, compare(**ref, **mix, prompts));
        fs::remove_all(deq_dir);
        fs::remove_all(mix_dir);
    }
    fs::remove_all(ref_dir);
}

TEST(QuantAccuracy, LoadOptionsQuantizeTheMatrices) {
    EXPECT_EQ(parse_weight_dtype("Q4_K"), DType::kQ4_K);
    EXPECT_EQ(parse_weight_dtype("q8_0"), DType::kQ8_0);
    EXPECT_EQ(parse_weight_dtype("f16"), std::nullopt);
    EXPECT_EQ(weight_dtype_for_cols(DType::kQ4_K, 13696), DType::kQ4_0);  // GLM-4-9B FFN
    EXPECT_EQ(weight_dtype_for_cols(DType::kQ4_K, 4096), DType::kQ4_K);
    EXPECT_EQ(weight_dtype_for_cols(DType::kQ8_0, 100), std::nullopt);
    Tensor w = Tensor::empty(DType::kF32, {3, 64});
    for (int64_t i = 0; i < w.numel(); ++i) w.mutable_as<float>()[i] = static_cast<float>(i % 7) - 3.0f;
    const Tensor q = quantize_matrix(w, DType::kQ8_0);
    EXPECT_EQ(q.dtype(), DType::kQ8_0);
    EXPECT_EQ(q.n_bytes(), 3u * 2u * 34u);
    EXPECT_EQ(quantize_matrix(q, DType::kQ4_0).data(), q.data());  // already quantized: as is
}

}  // namespace
}  // namespace ag::model
