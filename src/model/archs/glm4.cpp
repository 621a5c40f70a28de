#include "model/archs/glm4.h"

#include <fmt/format.h>

#include <cmath>

#include "io/checkpoint.h"
#include "kernels/cpu/cpu.h"

namespace ag::model {

namespace {

namespace kn = ag::kernels::cpu;

Tensor need(const io::Checkpoint& ck, const std::string& name, std::vector<int64_t> shape) {
    auto r = ck.tensor(name, std::move(shape));
    if (!r.ok()) throw Error(r.status().code(), r.status().message());
    const DType dt = r->dtype();
    if (dt != DType::kF32 && dt != DType::kBF16 && dt != DType::kF16) {
        throw Error(ErrorCode::kUnsupported,
                    fmt::format("tensor '{}' in {} has dtype {}; F32, F16 or BF16 expected", name,
                                ck.file_of(name), dtype_name(dt)));
    }
    return std::move(r).value();
}

std::vector<float> need_f32(const io::Checkpoint& ck, const std::string& name, int64_t n) {
    Tensor t = need(ck, name, {n});
    std::vector<float> v(static_cast<size_t>(n));
    convert_to_f32(t.dtype(), t.data(), v.data(), n);
    return v;
}

}  // namespace

Result<std::unique_ptr<Glm4TextModel>> Glm4TextModel::load(const io::Checkpoint& ck,
                                                           ModelConfig cfg,
                                                           const std::string& p,
                                                           const std::string& lm_head) {
    try {
        auto m = std::unique_ptr<Glm4TextModel>(new Glm4TextModel());
        const TextConfig& t = cfg.text;
        const int64_t d = t.hidden_size, D = t.head_dim, F = t.intermediate_size;
        const int64_t q_out = t.n_head * D, kv_out = t.n_head_kv * D;
        m->embed_ = need(ck, p + "embed_tokens.weight", {t.vocab_size, d});
        if (ck.has_tensor(lm_head)) {
            m->lm_head_ = need(ck, lm_head, {t.vocab_size, d});
        } else if (t.tie_word_embeddings) {
            m->lm_head_ = m->embed_;
        } else {
            m->lm_head_ = need(ck, lm_head, {t.vocab_size, d});  // reports the missing tensor
        }
        m->norm_final_ = need_f32(ck, p + "norm.weight", d);
        for (int64_t l = 0; l < t.n_layer; ++l) {
            const std::string lp = fmt::format("{}layers.{}.", p, l);
            Layer L;
            L.wq = need(ck, lp + "self_attn.q_proj.weight", {q_out, d});
            L.wk = need(ck, lp + "self_attn.k_proj.weight", {kv_out, d});
            L.wv = need(ck, lp + "self_attn.v_proj.weight", {kv_out, d});
            L.wo = need(ck, lp + "self_attn.o_proj.weight", {d, q_out});
            if (t.attention_bias) {
                L.bq = need_f32(ck, lp + "self_attn.q_proj.bias", q_out);
                L.bk = need_f32(ck, lp + "self_attn.k_proj.bias", kv_out);
                L.bv = need_f32(ck, lp + "self_attn.v_proj.bias", kv_out);
            }
            L.w_gate_up = need(ck, lp + "mlp.gate_up_proj.weight", {2 * F, d});
            L.w_down = need(ck, lp + "mlp.down_proj.weight", {d, F});
            L.norm_in = need_f32(ck, lp + "input_layernorm.weight", d);
            L.norm_post_attn_out = need_f32(ck, lp + "post_self_attn_layernorm.weight", d);
            L.norm_pre_mlp = need_f32(ck, lp + "post_attention_layernorm.weight", d);
            L.norm_post_mlp_out = need_f32(ck, lp + "post_mlp_layernorm.weight", d);
            m->layers_.push_back(std::move(L));
        }
        // ω_j = θ^(−2j / rotary_dim), as transformers' default rope init (computed in f32 there).
        for (int64_t j = 0; j < t.rotary_dim / 2; ++j) {
            const float e = static_cast<float>(2 * j) / static_cast<float>(t.rotary_dim);
            const float base_pow = std::pow(static_cast<float>(t.rope_theta), e);
            m->inv_freq_.push_back(static_cast<double>(1.0f / base_pow));
        }
        m->cfg_ = std::move(cfg);
        return m;
    } catch (const Error& e) {
        return e.status();
    }
}

KvCache Glm4TextModel::new_cache() const {
    return KvCache(cfg_.text.n_layer, cfg_.text.n_head_kv, cfg_.text.head_dim);
}

void Glm4TextModel::layer_forward(const Layer& L, int64_t l, float* x, int64_t n,
                                  const float* cos, const float* sin, KvCache& cache) const {
    const TextConfig& t = cfg_.text;
    const int64_t d = t.hidden_size, D = t.head_dim, F = t.intermediate_size;
    const int64_t q_out = t.n_head * D, kv_out = t.n_head_kv * D;
    const int64_t past = cache.n_tokens();
    const auto sz = [](int64_t a) { return static_cast<size_t>(a); };

    std::vector<float> h(sz(n * d)), q(sz(n * q_out)), attn(sz(n * q_out)), tmp(sz(n * d));
    kn::rms_norm(x, L.norm_in.data(), h.data(), n, d, t.rms_norm_eps);
    float* k_new = cache.k(l) + past * kv_out;  // [n, Hkv, D], written in place
    float* v_new = cache.v(l) + past * kv_out;
    kn::matmul(h.data(), n, d, L.wq.data(), L.wq.dtype(), q_out, L.bq.empty() ? nullptr : L.bq.data(), q.data());
    kn::matmul(h.data(), n, d, L.wk.data(), L.wk.dtype(), kv_out, L.bk.empty() ? nullptr : L.bk.data(), k_new);
    kn::matmul(h.data(), n, d, L.wv.data(), L.wv.dtype(), kv_out, L.bv.empty() ? nullptr : L.bv.data(), v_new);
    const int64_t n_pairs = t.rotary_dim / 2;
    kn::rope_interleaved(q.data(), cos, sin, n, t.n_head, D, n_pairs);
    kn::rope_interleaved(k_new, cos, sin, n, t.n_head_kv, D, n_pairs);
    kn::attention(q.data(), cache.k(l), cache.v(l), attn.data(), n, past + n, t.n_head, t.n_head_kv,
                  D, 1.0f / std::sqrt(static_cast<float>(D)));
    kn::matmul(attn.data(), n, q_out, L.wo.data(), L.wo.dtype(), d, nullptr, tmp.data());
    kn::rms_norm(tmp.data(), L.norm_post_attn_out.data(), tmp.data(), n, d, t.rms_norm_eps);
    for (int64_t i = 0; i < n * d; ++i) x[i] += tmp[sz(i)];

    std::vector<float> gu(sz(n * 2 * F)), act(sz(n * F));
    kn::rms_norm(x, L.norm_pre_mlp.data(), h.data(), n, d, t.rms_norm_eps);
    kn::matmul(h.data(), n, d, L.w_gate_up.data(), L.w_gate_up.dtype(), 2 * F, nullptr, gu.data());
    kn::silu_mul(gu.data(), act.data(), n, F);
    kn::matmul(act.data(), n, F, L.w_down.data(), L.w_down.dtype(), d, nullptr, tmp.data());
    kn::rms_norm(tmp.data(), L.norm_post_mlp_out.data(), tmp.data(), n, d, t.rms_norm_eps);
    for (int64_t i = 0; i < n * d; ++i) x[i] += tmp[sz(i)];
}

Status Glm4TextModel::forward(const ForwardInput& in, KvCache& cache, float* logits) const {
    const TextConfig& t = cfg_.text;
    const int64_t n = static_cast<int64_t>(in.tokens.size());
    const int64_t d = t.hidden_size;
    if (n == 0) return Status(ErrorCode::kInvalidArgument, "forward: no tokens");
    if (in.positions.size() != static_cast<size_t>(3 * n)) {
        return Status(ErrorCode::kInvalidArgument, "forward: positions must be [3, n_tokens]");
    }
    for (int32_t id : in.tokens) {
        if (id < 0 || id >= t.vocab_size) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("token id {} is out of range [0, {})", id, t.vocab_size));
        }
    }
    const auto sz = [](int64_t a) { return static_cast<size_t>(a); };

    // Embedding rows -> x [n, d] f32.
    std::vector<float> x(sz(n * d));
    const size_t row_bytes = sz(d) * dtype_size(embed_.dtype());
    for (int64_t i = 0; i < n; ++i) {
        convert_to_f32(embed_.dtype(),
                       static_cast<const uint8_t*>(embed_.data()) + sz(in.tokens[sz(i)]) * row_bytes,
                       x.data() + i * d, d);
    }

    // cos/sin [n, n_pairs]: pair j rotates by the position on its M-RoPE axis.
    const int64_t n_pairs = t.rotary_dim / 2;
    std::vector<float> cos(sz(n * n_pairs)), sin(sz(n * n_pairs));
    for (int64_t i = 0; i < n; ++i) {
        int64_t j = 0;
        for (size_t axis = 0; axis < t.mrope_section.size(); ++axis) {
            const float pos = static_cast<float>(in.positions[axis * sz(n) + sz(i)]);
            for (int64_t e = 0; e < t.mrope_section[axis]; ++e, ++j) {
                const float angle = pos * static_cast<float>(inv_freq_[sz(j)]);
                cos[sz(i * n_pairs + j)] = std::cos(angle);
                sin[sz(i * n_pairs + j)] = std::sin(angle);
            }
        }
    }

    cache.reserve_more(n);
    for (int64_t l = 0; l < t.n_layer; ++l) {
        layer_forward(layers_[sz(l)], l, x.data(), n, cos.data(), sin.data(), cache);
    }
    cache.commit(n);

    const int64_t first = in.all_logits ? 0 : n - 1;
    const int64_t rows = n - first;
    std::vector<float> y(sz(rows * d));
    kn::rms_norm(x.data() + first * d, norm_final_.data(), y.data(), rows, d, t.rms_norm_eps);
    kn::matmul(y.data(), rows, d, lm_head_.data(), lm_head_.dtype(), t.vocab_size, nullptr, logits);
    return {};
}

}  // namespace ag::model
