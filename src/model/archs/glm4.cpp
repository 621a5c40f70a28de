#include "model/archs/glm4.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "io/checkpoint.h"
#include "model/checkpoint_weights.h"
#include "kernels/cpu/cpu.h"
#include "model/weight_quant.h"

namespace ag::model {

namespace {

namespace kn = ag::kernels::cpu;


}  // namespace

namespace {

// One [Σ rows, cols] tensor holding the rows of `parts` in order (2-D, same dtype and cols).
Tensor stack_rows(const std::vector<Tensor>& parts) {
    int64_t rows = 0;
    for (const Tensor& p : parts) rows += p.dim(0);
    Tensor out = Tensor::empty(parts[0].dtype(), {rows, parts[0].dim(1)});
    auto* dst = static_cast<uint8_t*>(out.mutable_data());
    for (const Tensor& p : parts) {
        std::memcpy(dst, p.data(), p.n_bytes());
        dst += p.n_bytes();
    }
    return out;
}

}  // namespace

Result<std::unique_ptr<Glm4TextModel>> Glm4TextModel::load(const io::Checkpoint& ck,
                                                           ModelConfig cfg,
                                                           const std::string& p,
                                                           const std::string& lm_head,
                                                           const LoadOptions& opts) {
    try {
        auto m = std::unique_ptr<Glm4TextModel>(new Glm4TextModel());
        // A weight matrix, quantized when opts.weight_dtype asks for it.
        const auto mat = [&](const std::string& name, std::vector<int64_t> shape) {
            Tensor w = need_weight(ck, name, std::move(shape));
            return opts.weight_dtype ? quantize_matrix(w, *opts.weight_dtype) : w;
        };
        const TextConfig& t = cfg.text;
        const int64_t d = t.hidden_size, D = t.head_dim, F = t.intermediate_size;
        const int64_t q_out = t.n_head * D, kv_out = t.n_head_kv * D;
        m->embed_ = mat(p + "embed_tokens.weight", {t.vocab_size, d});
        if (ck.has_tensor(lm_head)) {
            m->lm_head_ = mat(lm_head, {t.vocab_size, d});
        } else if (t.tie_word_embeddings) {
            m->lm_head_ = m->embed_;
        } else {
            m->lm_head_ = need_weight(ck, lm_head, {t.vocab_size, d});  // reports the missing tensor
        }
        m->norm_final_ = need_f32(ck, p + "norm.weight", {d});
        for (int64_t l = 0; l < t.n_layer; ++l) {
            const std::string lp = fmt::format("{}layers.{}.", p, l);
            Layer L;
            L.wq = mat(lp + "self_attn.q_proj.weight", {q_out, d});
            L.wk = mat(lp + "self_attn.k_proj.weight", {kv_out, d});
            L.wv = mat(lp + "self_attn.v_proj.weight", {kv_out, d});
            if (L.wq.dtype() == L.wk.dtype() && L.wq.dtype() == L.wv.dtype()) {
                L.w_qkv = stack_rows({L.wq, L.wk, L.wv});
                L.qkv_fused = true;
                L.wq = L.wk = L.wv = Tensor();
            }
            L.wo = mat(lp + "self_attn.o_proj.weight", {d, q_out});
            if (t.attention_bias) {
                for (const char* b : {"q_proj", "k_proj", "v_proj"}) {
                    const auto v = need_f32(ck, lp + "self_attn." + b + ".bias", {b[0] == 'q' ? q_out : kv_out});
                    L.bqkv.insert(L.bqkv.end(), v.begin(), v.end());
                }
            }
            L.w_gate_up = mat(lp + "mlp.gate_up_proj.weight", {2 * F, d});
            L.w_down = mat(lp + "mlp.down_proj.weight", {d, F});
            L.norm_in = need_f32(ck, lp + "input_layernorm.weight", {d});
            L.norm_post_attn_out = need_f32(ck, lp + "post_self_attn_layernorm.weight", {d});
            L.norm_pre_mlp = need_f32(ck, lp + "post_attention_layernorm.weight", {d});
            L.norm_post_mlp_out = need_f32(ck, lp + "post_mlp_layernorm.weight", {d});
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

struct Glm4TextModel::BatchPlan {
    std::span<const SeqInput> seqs;
    std::vector<int64_t> offset;      // [n_seq + 1] first token row of each sequence
    std::vector<int64_t> slot;        // [N] KV slot of each new token
    std::vector<float> cos, sin;      // [N, n_pairs]
    int64_t n_tokens = 0;
};

Status Glm4TextModel::validate(std::span<const SeqInput> seqs, const KvStorage& kv) const {
    const TextConfig& t = cfg_.text;
    for (const SeqInput& s : seqs) {
        const auto n = static_cast<int64_t>(s.tokens.size());
        if (n == 0) return Status(ErrorCode::kInvalidArgument, "forward: a sequence has no tokens");
        if (s.positions.size() != static_cast<size_t>(3 * n)) {
            return Status(ErrorCode::kInvalidArgument, "forward: positions must be [3, n_tokens]");
        }
        const int64_t need_blocks = (s.n_past + n + kv.block_size() - 1) / kv.block_size();
        if (s.n_past < 0 || static_cast<int64_t>(s.block_table.size()) < need_blocks) {
            return Status(ErrorCode::kInvalidArgument, "forward: block table too short");
        }
        for (int32_t b : s.block_table.first(static_cast<size_t>(need_blocks))) {
            if (b < 0 || b >= kv.n_blocks()) {
                return Status(ErrorCode::kInvalidArgument, fmt::format("forward: bad block id {}", b));
            }
        }
        for (int32_t id : s.tokens) {
            if (id < 0 || id >= t.vocab_size) {
                return Status(ErrorCode::kInvalidArgument,
                              fmt::format("token id {} is out of range [0, {})", id, t.vocab_size));
            }
        }
        if (!s.embed_rows.empty()) {
            const auto rows = static_cast<int64_t>(s.embeds.size()) / t.hidden_size;
            if (s.embed_rows.size() != static_cast<size_t>(n) ||
                s.embeds.size() != static_cast<size_t>(rows * t.hidden_size)) {
                return Status(ErrorCode::kInvalidArgument,
                              "forward: embed_rows must have one entry per token and embeds "
                              "whole rows of hidden_size");
            }
            for (int32_t r : s.embed_rows) {
                if (r < -1 || r >= rows) {
                    return Status(ErrorCode::kInvalidArgument,
                                  fmt::format("forward: embed row {} out of range [-1, {})", r, rows));
                }
            }
        }
    }
    return {};
}

void Glm4TextModel::layer_forward(const Layer& L, int64_t l, const BatchPlan& plan, float* x,
                                  KvStorage& kv, Workspace& ws) const {
    const TextConfig& t = cfg_.text;
    const int64_t n = plan.n_tokens;
    const int64_t d = t.hidden_size, D = t.head_dim, F = t.intermediate_size;
    const int64_t q_out = t.n_head * D, kv_out = t.n_head_kv * D;
    const int64_t n_pairs = t.rotary_dim / 2;
    const auto sz = [](int64_t a) { return static_cast<size_t>(a); };
    auto bias = [](const std::vector<float>& b) { return b.empty() ? nullptr : b.data(); };

    // Attention block: h = norm(x); q,k,v; rope; k,v -> slots; attention per sequence.
    const auto buf = [](std::vector<float>& v, int64_t n_elems) {
        if (v.size() < static_cast<size_t>(n_elems)) v.resize(static_cast<size_t>(n_elems));
        return v.data();
    };
    float* h = buf(ws.h, n * d);
    float* q = buf(ws.q, n * q_out);
    float* k = buf(ws.k, n * kv_out);
    float* v = buf(ws.v, n * kv_out);
    float* attn = buf(ws.attn, n * q_out);
    float* tmp = buf(ws.tmp, n * d);
    kn::rms_norm(x, L.norm_in.data(), h, n, d, t.rms_norm_eps);
    if (L.qkv_fused) {
        const int64_t w3 = q_out + 2 * kv_out;
        float* qkv = buf(ws.qkv, n * w3);
        kn::matmul(h, n, d, L.w_qkv.data(), L.w_qkv.dtype(), w3, bias(L.bqkv), qkv);
        for (int64_t i = 0; i < n; ++i) {
            const float* r = qkv + i * w3;
            std::copy_n(r, q_out, q + i * q_out);
            std::copy_n(r + q_out, kv_out, k + i * kv_out);
            std::copy_n(r + q_out + kv_out, kv_out, v + i * kv_out);
        }
    } else {
        const float* b = bias(L.bqkv);
        kn::matmul(h, n, d, L.wq.data(), L.wq.dtype(), q_out, b, q);
        kn::matmul(h, n, d, L.wk.data(), L.wk.dtype(), kv_out, b ? b + q_out : nullptr, k);
        kn::matmul(h, n, d, L.wv.data(), L.wv.dtype(), kv_out, b ? b + q_out + kv_out : nullptr, v);
    }
    kn::rope_interleaved(q, plan.cos.data(), plan.sin.data(), n, t.n_head, D, n_pairs);
    kn::rope_interleaved(k, plan.cos.data(), plan.sin.data(), n, t.n_head_kv, D, n_pairs);
    for (int64_t i = 0; i < n; ++i) kv.write(l, plan.slot[sz(i)], k + i * kv_out, v + i * kv_out);
    const kn::KvView kc = kv.k_view(l), vc = kv.v_view(l);
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    for (size_t s = 0; s < plan.seqs.size(); ++s) {
        const SeqInput& seq = plan.seqs[s];
        const int64_t off = plan.offset[s], ns = plan.offset[s + 1] - off;
        kn::attention_paged(q + off * q_out, kc, vc, seq.block_table.data(), kv.block_size(),
                            attn + off * q_out, ns, seq.n_past + ns, t.n_head, t.n_head_kv,
                            D, scale);
    }
    kn::matmul(attn, n, q_out, L.wo.data(), L.wo.dtype(), d, nullptr, tmp);
    kn::rms_norm(tmp, L.norm_post_attn_out.data(), tmp, n, d, t.rms_norm_eps);
    for (int64_t i = 0; i < n * d; ++i) x[i] += tmp[i];

    // MLP block: h = norm(x); silu(gate) * up; down; post-norm; residual.
    float* gu = buf(ws.gu, n * 2 * F);
    float* act = buf(ws.act, n * F);
    kn::rms_norm(x, L.norm_pre_mlp.data(), h, n, d, t.rms_norm_eps);
    kn::matmul(h, n, d, L.w_gate_up.data(), L.w_gate_up.dtype(), 2 * F, nullptr, gu);
    kn::silu_mul(gu, act, n, F);
    kn::matmul(act, n, F, L.w_down.data(), L.w_down.dtype(), d, nullptr, tmp);
    kn::rms_norm(tmp, L.norm_post_mlp_out.data(), tmp, n, d, t.rms_norm_eps);
    for (int64_t i = 0; i < n * d; ++i) x[i] += tmp[i];
}

Status Glm4TextModel::forward_batch(std::span<const SeqInput> seqs, KvStorage& kv,
                                    float* logits) const {
    AG_RETURN_IF_ERROR(validate(seqs, kv));
    const TextConfig& t = cfg_.text;
    const int64_t d = t.hidden_size, n_pairs = t.rotary_dim / 2;
    const auto sz = [](int64_t a) { return static_cast<size_t>(a); };

    BatchPlan plan;
    plan.seqs = seqs;
    plan.offset.push_back(0);
    for (const SeqInput& s : seqs) plan.offset.push_back(plan.offset.back() + static_cast<int64_t>(s.tokens.size()));
    const int64_t n = plan.n_tokens = plan.offset.back();
    plan.slot.resize(sz(n));
    plan.cos.resize(sz(n * n_pairs));
    plan.sin.resize(sz(n * n_pairs));
    std::vector<float> x(sz(n * d));
    const size_t row_bytes = dtype_row_bytes(embed_.dtype(), d);
    for (size_t s = 0; s < seqs.size(); ++s) {
        const SeqInput& seq = seqs[s];
        const int64_t ns = static_cast<int64_t>(seq.tokens.size());
        for (int64_t i = 0; i < ns; ++i) {
            const int64_t row = plan.offset[s] + i;
            const int64_t j = seq.n_past + i;  // index in the sequence
            plan.slot[sz(row)] = static_cast<int64_t>(seq.block_table[sz(j / kv.block_size())]) *
                                     kv.block_size() + j % kv.block_size();
            const int32_t over = seq.embed_rows.empty() ? -1 : seq.embed_rows[sz(i)];
            if (over >= 0) {  // image feature replaces the placeholder's embedding
                std::copy_n(seq.embeds.data() + static_cast<int64_t>(over) * d, d, x.data() + row * d);
            } else {
                convert_to_f32(embed_.dtype(),
                               static_cast<const uint8_t*>(embed_.data()) +
                                   sz(seq.tokens[sz(i)]) * row_bytes,
                               x.data() + row * d, d);
            }
            // Pair p rotates by the position on its M-RoPE axis (t, h, w sections).
            int64_t p = 0;
            for (size_t axis = 0; axis < t.mrope_section.size(); ++axis) {
                const float pos = static_cast<float>(seq.positions[axis * sz(ns) + sz(i)]);
                for (int64_t e = 0; e < t.mrope_section[axis]; ++e, ++p) {
                    const float angle = pos * static_cast<float>(inv_freq_[sz(p)]);
                    plan.cos[sz(row * n_pairs + p)] = std::cos(angle);
                    plan.sin[sz(row * n_pairs + p)] = std::sin(angle);
                }
            }
        }
    }

    const std::lock_guard<std::mutex> lock(ws_mu_);
    for (int64_t l = 0; l < t.n_layer; ++l) layer_forward(layers_[sz(l)], l, plan, x.data(), kv, ws_);
    kv.finish_step();

    // Final norm + lm_head on the rows that want logits.
    std::vector<int64_t> rows;
    for (size_t s = 0; s < seqs.size(); ++s) {
        if (seqs[s].logits == LogitsMode::kAll) {
            for (int64_t r = plan.offset[s]; r < plan.offset[s + 1]; ++r) rows.push_back(r);
        } else if (seqs[s].logits == LogitsMode::kLast) {
            rows.push_back(plan.offset[s + 1] - 1);
        }
    }
    if (rows.empty()) return {};
    const auto n_rows = static_cast<int64_t>(rows.size());
    std::vector<float> y(sz(n_rows * d));
    for (int64_t r = 0; r < n_rows; ++r) std::copy_n(x.data() + rows[sz(r)] * d, d, y.data() + r * d);
    kn::rms_norm(y.data(), norm_final_.data(), y.data(), n_rows, d, t.rms_norm_eps);
    kn::matmul(y.data(), n_rows, d, lm_head_.data(), lm_head_.dtype(), t.vocab_size, nullptr, logits);
    return {};
}

}  // namespace ag::model
