// Whisper (WhisperForConditionalGeneration), as transformers' modeling_whisper.py:
//   encoder: conv1 (k3, pad 1) → GELU → conv2 (k3, stride 2, pad 1) → GELU → + positions
//            → pre-LayerNorm blocks (MHA with biases on q, v, out; none on k; GELU MLP)
//            → LayerNorm;
//   decoder: token embedding + learned positions (config.scale_embedding is ignored, as
//            transformers does: it defines embed_scale and never applies it)
//            → blocks of causal self-attention, cross-attention over the encoder output, GELU
//            MLP (each pre-LayerNorm, residual) → LayerNorm → logits against the token
//            embedding (proj_out, tied unless stored).
// Activations f32; weights in their stored dtype through kernels::cpu::matmul.
#include "model/archs/whisper/whisper.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/mapped_file.h"
#include "io/checkpoint.h"
#include "io/ct2.h"
#include "kernels/cpu/cpu.h"
#include "model/checkpoint_weights.h"
#include "model/weight_quant.h"
#include "tensor/tensor.h"

namespace ag::model {

namespace {

namespace kn = ag::kernels::cpu;

size_t sz(int64_t n) { return static_cast<size_t>(n); }

int64_t get_int(const nlohmann::json& c, const char* key, int64_t def, const std::string& src,
                bool required) {
    if (!c.contains(key) || c[key].is_null()) {
        if (required) {
            throw Error(ErrorCode::kParseError, fmt::format("{}: '{}' is missing", src, key));
        }
        return def;
    }
    if (!c[key].is_number_integer() || c[key].get<int64_t>() < 0) {
        throw Error(ErrorCode::kParseError,
                    fmt::format("{}: '{}' must be a non-negative integer", src, key));
    }
    return c[key].get<int64_t>();
}

struct Linear {
    Tensor w;                // [out, in...]: rows of numel / out inputs
    std::vector<float> b;    // [out] or empty
    void apply(const float* x, int64_t m, float* y) const {
        kn::matmul(x, m, w.numel() / w.dim(0), w.data(), w.dtype(), w.dim(0),
                   b.empty() ? nullptr : b.data(), y);
    }
};

struct Norm {
    std::vector<float> w, b;
    void apply(const float* x, float* y, int64_t rows) const {
        kn::layer_norm(x, w.data(), b.data(), y, rows, static_cast<int64_t>(w.size()), 1e-5f);
    }
};

struct Attention {
    Linear q, k, v, o;  // k has no bias
};

struct EncoderLayer {
    Norm ln_attn, ln_mlp;
    Attention attn;
    Linear fc1, fc2;
};

struct DecoderLayer {
    Norm ln_self, ln_cross, ln_mlp;
    Attention self, cross;
    Linear fc1, fc2;
};

// Where the weights come from, by transformers' names relative to "model." (plus
// "proj_out.weight"): a Hugging Face checkpoint or a CTranslate2 model.bin.
class WeightSource {
public:
    virtual ~WeightSource() = default;
    virtual Tensor tensor(const std::string& name, const std::vector<int64_t>& shape) const = 0;
    virtual bool has(const std::string& name) const = 0;
    virtual nlohmann::json generation_config() const = 0;
    std::vector<float> f32(const std::string& name, const std::vector<int64_t>& shape) const {
        Tensor t = tensor(name, shape);
        std::vector<float> v(sz(t.numel()));
        convert_to_f32(t.dtype(), t.data(), v.data(), t.numel());
        return v;
    }
};

class HfSource final : public WeightSource {
public:
    explicit HfSource(const io::Checkpoint& ck)
        : ck_(ck), p_(ck.has_tensor("model.encoder.conv1.weight") ? "model." : "") {}
    Tensor tensor(const std::string& name, const std::vector<int64_t>& shape) const override {
        return need_weight(ck_, full(name), shape);
    }
    bool has(const std::string& name) const override { return ck_.has_tensor(full(name)); }
    nlohmann::json generation_config() const override { return ck_.generation_config(); }

private:
    // Accept both transformers layouts: "model.encoder..." (ForConditionalGeneration) and bare
    // "encoder..." (WhisperModel saved alone); proj_out sits outside "model.".
    std::string full(const std::string& name) const {
        return name == "proj_out.weight" ? name : p_ + name;
    }
    const io::Checkpoint& ck_;
    std::string p_;
};

// CTranslate2's WhisperSpec names (ctranslate2/specs/whisper_spec.py, transformer_spec.py):
// self-attention q|k|v fused in linear_0 (k's bias stored as zeros) and the output in linear_1;
// cross-attention q in linear_0, k|v fused in linear_1, output in linear_2; LayerNorm
// gamma/beta; int8 weights with a per-row weight_scale (w = q / scale).
class Ct2Source final : public WeightSource {
public:
    Ct2Source(std::shared_ptr<const io::Ct2File> f, int64_t d, nlohmann::json cfg, bool to_q8)
        : f_(std::move(f)), d_(d), cfg_(std::move(cfg)), to_q8_(to_q8) {}

    Tensor tensor(const std::string& name, const std::vector<int64_t>& shape) const override {
        const Slot s = slot(name);
        auto v = f_->get(s.var);
        if (!v.ok()) throw Error(v.status().code(), v.status().message());
        if (v->shape.empty()) throw Error(ErrorCode::kParseError, s.var + " is a scalar");
        const int64_t rows_all = v->shape[0];
        const int64_t row_numel = v->numel() / std::max<int64_t>(rows_all, 1);
        const int64_t r0 = s.part * d_, nrows = s.part < 0 ? rows_all : d_;
        std::vector<int64_t> got = v->shape;
        got[0] = nrows;
        if ((s.part >= 0 && (r0 + nrows > rows_all)) || got != shape) {
            throw Error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: '{}' (for {}) has shape {}, expected {}{}", f_->name(),
                                    s.var, name, fmt::join(v->shape, "x"), fmt::join(shape, "x"),
                                    s.part >= 0 ? " per fused part" : ""));
        }
        const int64_t first = s.part < 0 ? 0 : r0;
        auto keep = std::shared_ptr<const void>(f_, f_.get());
        switch (v->dtype) {
            case io::Ct2DType::kF32:
            case io::Ct2DType::kF16:
            case io::Ct2DType::kBF16: {
                const DType dt = v->dtype == io::Ct2DType::kF32   ? DType::kF32
                                 : v->dtype == io::Ct2DType::kF16 ? DType::kF16
                                                                   : DType::kBF16;
                const size_t es = dt == DType::kF32 ? 4 : 2;
                return Tensor::view(dt, shape, v->data + sz(first * row_numel) * es, keep);
            }
            case io::Ct2DType::kInt8: {
                auto sc = f_->get(s.var + "_scale");
                if (!sc.ok() || sc->dtype != io::Ct2DType::kF32 || sc->numel() != rows_all) {
                    throw Error(ErrorCode::kParseError,
                                fmt::format("{}: int8 '{}' has no f32 per-row '{}_scale'",
                                            f_->name(), s.var, s.var));
                }
                Tensor t = Tensor::empty(DType::kF32, shape);
                float* out = t.mutable_as<float>();
                const auto* q = reinterpret_cast<const int8_t*>(v->data);
                for (int64_t r = 0; r < nrows; ++r) {
                    float scale;
                    std::memcpy(&scale, sc->data + sz(first + r) * 4, 4);
                    const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
                    for (int64_t e = 0; e < row_numel; ++e) {
                        out[r * row_numel + e] =
                            static_cast<float>(q[(first + r) * row_numel + e]) * inv;
                    }
                }
                // An int8 model keeps 8-bit arithmetic: Q8_0 where rows are whole blocks.
                return to_q8_ && shape.size() == 2 ? quantize_matrix(t, DType::kQ8_0) : t;
            }
            default:
                throw Error(ErrorCode::kUnsupported,
                            fmt::format("{}: '{}' is {}; float32, float16, bfloat16 or int8 "
                                        "expected (reconvert with ct2-transformers-converter "
                                        "--quantization int8 or float16)",
                                        f_->name(), s.var, io::ct2_dtype_name(v->dtype)));
        }
    }
    bool has(const std::string& name) const override {
        if (name == "proj_out.weight") return f_->has("decoder/projection/weight") && !tied();
        return f_->has(slot(name).var);
    }
    nlohmann::json generation_config() const override { return cfg_; }

private:
    struct Slot {
        std::string var;
        int64_t part = -1;  // row block (of d rows) of a fused matrix, -1: the whole variable
    };
    bool tied() const {
        // decoder/projection/weight stored as an alias of the embeddings
        auto a = f_->get("decoder/projection/weight");
        auto b = f_->get("decoder/embeddings/weight");
        return a.ok() && b.ok() && a->data == b->data;
    }
    static std::string replace(std::string s, const std::string& from, const std::string& to) {
        const size_t i = s.find(from);
        if (i != std::string::npos) s.replace(i, from.size(), to);
        return s;
    }
    Slot slot(const std::string& hf) const {
        if (hf == "proj_out.weight") return {"decoder/projection/weight"};
        if (hf == "encoder.embed_positions.weight") return {"encoder/position_encodings/encodings"};
        if (hf == "decoder.embed_positions.weight") return {"decoder/position_encodings/encodings"};
        if (hf == "decoder.embed_tokens.weight") return {"decoder/embeddings/weight"};
        std::string n = hf;
        for (char& ch : n) ch = ch == '.' ? '/' : ch;
        n = replace(n, "/layers/", "/layer_");
        const bool weight = n.size() > 7 && n.compare(n.size() - 7, 7, "/weight") == 0;
        const std::string leaf = weight ? "weight" : "bias";
        const std::string base = n.substr(0, n.rfind('/'));
        const auto ends = [&](const char* suf) {
            const std::string x(suf);
            return base.size() >= x.size() && base.compare(base.size() - x.size(), x.size(), x) == 0;
        };
        const auto stem = [&](const char* suf) { return base.substr(0, base.size() - std::strlen(suf)); };
        if (ends("_layer_norm") || ends("/layer_norm")) {
            std::string b = base;
            b = replace(b, "/self_attn_layer_norm", "/self_attention/layer_norm");
            b = replace(b, "/encoder_attn_layer_norm", "/attention/layer_norm");
            b = replace(b, "/final_layer_norm", "/ffn/layer_norm");
            return {b + (weight ? "/gamma" : "/beta")};
        }
        if (ends("/fc1")) return {stem("/fc1") + "/ffn/linear_0/" + leaf};
        if (ends("/fc2")) return {stem("/fc2") + "/ffn/linear_1/" + leaf};
        for (const char* proj : {"/q_proj", "/k_proj", "/v_proj", "/out_proj"}) {
            if (!ends(proj)) continue;
            std::string b = stem(proj);
            const int which = proj[1] == 'q' ? 0 : proj[1] == 'k' ? 1 : proj[1] == 'v' ? 2 : 3;
            if (ends((std::string("/self_attn") + proj).c_str())) {
                b = stem((std::string("/self_attn") + proj).c_str()) + "/self_attention";
                if (which == 3) return {b + "/linear_1/" + leaf};
                return {b + "/linear_0/" + leaf, which};
            }
            b = stem((std::string("/encoder_attn") + proj).c_str()) + "/attention";
            if (which == 0) return {b + "/linear_0/" + leaf};
            if (which == 3) return {b + "/linear_2/" + leaf};
            return {b + "/linear_1/" + leaf, which - 1};
        }
        return {n};  // conv1/conv2 weight and bias keep their names
    }

    std::shared_ptr<const io::Ct2File> f_;
    int64_t d_;
    nlohmann::json cfg_;
    bool to_q8_;
};

class WhisperModel final : public SpeechModel {
public:
    static std::unique_ptr<WhisperModel> load(const WeightSource& src, WhisperConfig c,
                                              const LoadOptions& opts);

    const WhisperConfig& config() const override { return c_; }
    const nlohmann::json& generation_config() const override { return gen_; }
    Result<std::vector<float>> encode(std::span<const float> mel) const override;
    Result<SpeechDecoderState> start_decoder(std::span<const float> encoder_out) const override;
    Status decode(std::span<const int32_t> tokens, SpeechDecoderState& st, float* logits,
                  bool all_logits) const override;

private:
    WhisperConfig c_;
    nlohmann::json gen_;
    Linear conv1_, conv2_;               // [d, n_mels·3], [d, d·3] (the Conv1d weights as-is)
    std::vector<float> enc_pos_;         // [max_source_positions, d]
    std::vector<EncoderLayer> enc_;
    Norm enc_ln_;
    Tensor embed_;                       // [vocab, d]
    std::vector<float> dec_pos_;         // [max_target_positions, d]
    std::vector<DecoderLayer> dec_;
    Norm dec_ln_;
    Tensor proj_out_;                    // [vocab, d] (= embed_ when tied)
};

std::unique_ptr<WhisperModel> WhisperModel::load(const WeightSource& src, WhisperConfig c,
                                                 const LoadOptions& opts) {
    auto m = std::make_unique<WhisperModel>();
    const int64_t d = c.d_model;
    const auto mat = [&](const std::string& name, std::vector<int64_t> shape) {
        Tensor t = src.tensor(name, shape);
        return opts.weight_dtype ? quantize_matrix(t, *opts.weight_dtype) : t;
    };
    const auto vec = [&](const std::string& name, int64_t n) { return src.f32(name, {n}); };
    const auto linear = [&](const std::string& name, int64_t out, int64_t in, bool bias) {
        Linear l{mat(name + ".weight", {out, in}), {}};
        if (bias) l.b = vec(name + ".bias", out);
        return l;
    };
    const auto norm = [&](const std::string& name) {
        return Norm{vec(name + ".weight", d), vec(name + ".bias", d)};
    };
    const auto attention = [&](const std::string& name) {
        return Attention{linear(name + ".q_proj", d, d, true), linear(name + ".k_proj", d, d, false),
                         linear(name + ".v_proj", d, d, true),
                         linear(name + ".out_proj", d, d, true)};
    };
    // The conv weights [d, in, 3] are read as [d, in·3] matrices (index c·3 + k), matching the
    // im2col rows built in encode().
    const auto conv = [&](const std::string& name, int64_t in) {
        return Linear{src.tensor(name + ".weight", {d, in, 3}), vec(name + ".bias", d)};
    };
    m->c_ = c;
    m->gen_ = src.generation_config();
    m->conv1_ = conv("encoder.conv1", c.n_mels);
    m->conv2_ = conv("encoder.conv2", d);
    m->enc_pos_ = src.f32("encoder.embed_positions.weight", {c.max_source_positions, d});
    for (int64_t i = 0; i < c.encoder_layers; ++i) {
        const std::string b = fmt::format("encoder.layers.{}.", i);
        m->enc_.push_back(EncoderLayer{norm(b + "self_attn_layer_norm"), norm(b + "final_layer_norm"),
                                       attention(b + "self_attn"),
                                       linear(b + "fc1", c.encoder_ffn, d, true),
                                       linear(b + "fc2", d, c.encoder_ffn, true)});
    }
    m->enc_ln_ = norm("encoder.layer_norm");
    m->embed_ = src.tensor("decoder.embed_tokens.weight", {c.vocab_size, d});
    m->dec_pos_ = src.f32("decoder.embed_positions.weight", {c.max_target_positions, d});
    for (int64_t i = 0; i < c.decoder_layers; ++i) {
        const std::string b = fmt::format("decoder.layers.{}.", i);
        m->dec_.push_back(DecoderLayer{norm(b + "self_attn_layer_norm"),
                                       norm(b + "encoder_attn_layer_norm"),
                                       norm(b + "final_layer_norm"), attention(b + "self_attn"),
                                       attention(b + "encoder_attn"),
                                       linear(b + "fc1", c.decoder_ffn, d, true),
                                       linear(b + "fc2", d, c.decoder_ffn, true)});
    }
    m->dec_ln_ = norm("decoder.layer_norm");
    // proj_out sits outside "model." and is usually not stored (tied to the embedding).
    m->proj_out_ = src.has("proj_out.weight") ? src.tensor("proj_out.weight", {c.vocab_size, d})
                                               : m->embed_;
    if (opts.weight_dtype) m->proj_out_ = quantize_matrix(m->proj_out_, *opts.weight_dtype);
    return m;
}

// In-place GELU after a matmul.
void gelu(std::vector<float>& x) { kn::gelu_erf(x.data(), static_cast<int64_t>(x.size())); }

void add(float* y, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

Result<std::vector<float>> WhisperModel::encode(std::span<const float> mel) const {
    const int64_t d = c_.d_model, T = c_.n_frames(), L = c_.max_source_positions;
    const int64_t nm = c_.n_mels;
    if (static_cast<int64_t>(mel.size()) != nm * T) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("whisper: the log-mel input has {} values; [{} mels, {} frames] "
                                  "= {} expected", mel.size(), nm, T, nm * T));
    }
    // conv1 as im2col rows: row t = (mel[c][t − 1 + k]) for c, k (zero outside the window).
    std::vector<float> cols(sz(T * nm * 3));
    for (int64_t t = 0; t < T; ++t) {
        float* row = cols.data() + t * nm * 3;
        for (int64_t ch = 0; ch < nm; ++ch) {
            for (int64_t k = 0; k < 3; ++k) {
                const int64_t s = t - 1 + k;
                row[ch * 3 + k] = s >= 0 && s < T ? mel[sz(ch * T + s)] : 0.0f;
            }
        }
    }
    std::vector<float> y1(sz(T * d));
    conv1_.apply(cols.data(), T, y1.data());
    gelu(y1);
    // conv2, stride 2: row t reads frames 2t − 1, 2t, 2t + 1.
    cols.assign(sz(L * d * 3), 0.0f);
    for (int64_t t = 0; t < L; ++t) {
        float* row = cols.data() + t * d * 3;
        for (int64_t k = 0; k < 3; ++k) {
            const int64_t s = 2 * t - 1 + k;
            if (s < 0 || s >= T) continue;
            const float* src = y1.data() + s * d;
            for (int64_t ch = 0; ch < d; ++ch) row[ch * 3 + k] = src[ch];
        }
    }
    std::vector<float> h(sz(L * d));
    conv2_.apply(cols.data(), L, h.data());
    gelu(h);
    add(h.data(), enc_pos_.data(), L * d);

    const int64_t H = c_.encoder_heads, D = d / H;
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    std::vector<float> a(sz(L * d)), q(sz(L * d)), k(sz(L * d)), v(sz(L * d)), o(sz(L * d));
    std::vector<float> f(sz(L * c_.encoder_ffn));
    for (const EncoderLayer& B : enc_) {
        B.ln_attn.apply(h.data(), a.data(), L);
        B.attn.q.apply(a.data(), L, q.data());
        B.attn.k.apply(a.data(), L, k.data());
        B.attn.v.apply(a.data(), L, v.data());
        kn::attention_full(q.data(), k.data(), v.data(), d, o.data(), d, L, H, D, scale);
        B.attn.o.apply(o.data(), L, a.data());
        add(h.data(), a.data(), L * d);
        B.ln_mlp.apply(h.data(), a.data(), L);
        B.fc1.apply(a.data(), L, f.data());
        gelu(f);
        B.fc2.apply(f.data(), L, a.data());
        add(h.data(), a.data(), L * d);
    }
    enc_ln_.apply(h.data(), h.data(), L);
    return h;
}

Result<SpeechDecoderState> WhisperModel::start_decoder(std::span<const float> encoder_out) const {
    const int64_t d = c_.d_model;
    if (encoder_out.empty() || encoder_out.size() % sz(d) != 0) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("whisper: encoder output of {} values is not [frames, {}]",
                                  encoder_out.size(), d));
    }
    SpeechDecoderState st;
    st.n_audio = static_cast<int64_t>(encoder_out.size()) / d;
    for (const DecoderLayer& B : dec_) {
        auto k = std::make_shared<std::vector<float>>(encoder_out.size());
        auto v = std::make_shared<std::vector<float>>(encoder_out.size());
        B.cross.k.apply(encoder_out.data(), st.n_audio, k->data());
        B.cross.v.apply(encoder_out.data(), st.n_audio, v->data());
        st.cross_k.push_back(std::move(k));
        st.cross_v.push_back(std::move(v));
        st.self_k.emplace_back(sz(c_.max_target_positions * d));
        st.self_v.emplace_back(sz(c_.max_target_positions * d));
    }
    return st;
}

Status WhisperModel::decode(std::span<const int32_t> tokens, SpeechDecoderState& st,
                            float* logits, bool all_logits) const {
    const int64_t d = c_.d_model, n = static_cast<int64_t>(tokens.size());
    if (n == 0) return Status(ErrorCode::kInvalidArgument, "whisper: no tokens to decode");
    if (st.cross_k.size() != dec_.size()) {
        return Status(ErrorCode::kInvalidArgument, "whisper: decoder state not from start_decoder");
    }
    if (st.n_past + n > c_.max_target_positions) {
        return Status(ErrorCode::kOutOfRange,
                      fmt::format("whisper: {} tokens exceed the decoder context of {}",
                                  st.n_past + n, c_.max_target_positions));
    }
    for (int32_t t : tokens) {
        if (t < 0 || t >= c_.vocab_size) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("whisper: token id {} out of range [0, {})", t,
                                      c_.vocab_size));
        }
    }
    const size_t row_bytes = dtype_row_bytes(embed_.dtype(), d);
    std::vector<float> x(sz(n * d));
    for (int64_t i = 0; i < n; ++i) {
        float* row = x.data() + i * d;
        const auto* src = static_cast<const uint8_t*>(embed_.data()) + sz(tokens[sz(i)]) * row_bytes;
        convert_to_f32(embed_.dtype(), src, row, d);
        const float* pos = dec_pos_.data() + (st.n_past + i) * d;
        for (int64_t e = 0; e < d; ++e) row[e] += pos[e];
    }
    const int64_t H = c_.decoder_heads, D = d / H;
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    const int32_t self_table[1] = {0};
    const int32_t cross_table[1] = {0};
    std::vector<float> a(sz(n * d)), q(sz(n * d)), o(sz(n * d)), f(sz(n * c_.decoder_ffn));
    for (size_t l = 0; l < dec_.size(); ++l) {
        const DecoderLayer& B = dec_[l];
        float* sk = st.self_k[l].data() + st.n_past * d;
        float* sv = st.self_v[l].data() + st.n_past * d;
        B.ln_self.apply(x.data(), a.data(), n);
        B.self.q.apply(a.data(), n, q.data());
        B.self.k.apply(a.data(), n, sk);
        B.self.v.apply(a.data(), n, sv);
        kn::attention_paged(q.data(), st.self_k[l].data(), st.self_v[l].data(), self_table,
                            c_.max_target_positions, o.data(), n, st.n_past + n, H, H, D, scale);
        B.self.o.apply(o.data(), n, a.data());
        add(x.data(), a.data(), n * d);

        B.ln_cross.apply(x.data(), a.data(), n);
        B.cross.q.apply(a.data(), n, q.data());
        for (int64_t i = 0; i < n; ++i) {  // every query sees all audio frames
            kn::attention_paged(q.data() + i * d, st.cross_k[l]->data(), st.cross_v[l]->data(),
                                cross_table, st.n_audio, o.data() + i * d, 1, st.n_audio, H, H, D,
                                scale);
        }
        B.cross.o.apply(o.data(), n, a.data());
        add(x.data(), a.data(), n * d);

        B.ln_mlp.apply(x.data(), a.data(), n);
        B.fc1.apply(a.data(), n, f.data());
        gelu(f);
        B.fc2.apply(f.data(), n, a.data());
        add(x.data(), a.data(), n * d);
    }
    st.n_past += n;
    const int64_t first = all_logits ? 0 : n - 1, rows = n - first;
    dec_ln_.apply(x.data() + first * d, a.data(), rows);
    kn::matmul(a.data(), rows, d, proj_out_.data(), proj_out_.dtype(), c_.vocab_size, nullptr,
               logits);
    return Status::ok_status();
}

}  // namespace

Result<WhisperConfig> parse_whisper_config(const nlohmann::json& j, const std::string& src) {
    try {
        WhisperConfig c;
        c.n_mels = get_int(j, "num_mel_bins", 80, src, false);
        c.d_model = get_int(j, "d_model", 0, src, true);
        c.encoder_layers = get_int(j, "encoder_layers", 0, src, true);
        c.encoder_heads = get_int(j, "encoder_attention_heads", 0, src, true);
        c.encoder_ffn = get_int(j, "encoder_ffn_dim", 0, src, true);
        c.decoder_layers = get_int(j, "decoder_layers", 0, src, true);
        c.decoder_heads = get_int(j, "decoder_attention_heads", 0, src, true);
        c.decoder_ffn = get_int(j, "decoder_ffn_dim", 0, src, true);
        c.vocab_size = get_int(j, "vocab_size", 0, src, true);
        c.max_source_positions = get_int(j, "max_source_positions", 1500, src, false);
        c.max_target_positions = get_int(j, "max_target_positions", 448, src, false);
        c.decoder_start_token_id =
            static_cast<int32_t>(get_int(j, "decoder_start_token_id", 50257, src, false));
        c.eos_token_id = static_cast<int32_t>(get_int(j, "eos_token_id", 50256, src, false));
        const std::string act = j.value("activation_function", std::string("gelu"));
        if (act != "gelu") {
            return Status(ErrorCode::kUnsupported,
                          fmt::format("{}: activation_function '{}' (only 'gelu')", src, act));
        }
        if (c.d_model == 0 || c.encoder_heads == 0 || c.decoder_heads == 0 ||
            c.d_model % c.encoder_heads != 0 || c.d_model % c.decoder_heads != 0) {
            return Status(ErrorCode::kParseError,
                          fmt::format("{}: d_model {} must be a positive multiple of the "
                                      "attention head counts ({}, {})",
                                      src, c.d_model, c.encoder_heads, c.decoder_heads));
        }
        if (c.n_mels == 0 || c.vocab_size == 0 || c.max_source_positions == 0 ||
            c.max_target_positions == 0 || c.n_mels > 1024 || c.max_source_positions > 100000 ||
            c.max_target_positions > 100000) {
            return Status(ErrorCode::kParseError,
                          fmt::format("{}: num_mel_bins, vocab_size and the position counts "
                                      "must be positive (and sane)", src));
        }
        return c;
    } catch (const Error& e) {
        return e.status();
    }
}

Result<std::unique_ptr<SpeechModel>> load_whisper(const io::Checkpoint& ck,
                                                  const LoadOptions& opts) {
    auto c = parse_whisper_config(ck.config(), ck.dir() + "/config.json");
    if (!c.ok()) return c.status();
    try {
        return std::unique_ptr<SpeechModel>(WhisperModel::load(HfSource(ck), *c, opts));
    } catch (const Error& e) {
        return e.status();
    }
}

namespace {

// The id of a special token from tokenizer.json's added_tokens, else vocabulary.json (array)
// or vocabulary.txt (a token a line); -1 when absent.
int32_t special_token_id(const std::string& dir, const std::string& token) {
    namespace fs = std::filesystem;
    if (auto t = read_text_file(dir + "/tokenizer.json"); t.ok()) {
        const auto j = nlohmann::json::parse(*t, nullptr, false);
        if (j.is_object() && j.contains("added_tokens") && j["added_tokens"].is_array()) {
            for (const auto& a : j["added_tokens"]) {
                if (a.value("content", std::string()) == token && a.contains("id")) {
                    return a["id"].get<int32_t>();
                }
            }
        }
    }
    if (auto t = read_text_file(dir + "/vocabulary.json"); t.ok()) {
        const auto j = nlohmann::json::parse(*t, nullptr, false);
        if (j.is_array()) {
            for (size_t i = 0; i < j.size(); ++i) {
                if (j[i].is_string() && j[i].get<std::string>() == token) return static_cast<int32_t>(i);
            }
        }
    }
    std::ifstream in(dir + "/vocabulary.txt");
    std::string line;
    for (int32_t i = 0; std::getline(in, line); ++i) {
        if (line == token) return i;
    }
    return -1;
}

// WhisperConfig of a CTranslate2 WhisperSpec: sizes from the variables' shapes, head counts
// from encoder/num_heads and decoder/num_heads, special ids from the tokenizer files.
WhisperConfig ct2_config(const io::Ct2File& f, const std::string& dir) {
    const auto shape = [&](const std::string& v) {
        auto r = f.get(v);
        if (!r.ok()) throw Error(r.status().code(), r.status().message());
        return r->shape;
    };
    WhisperConfig c;
    const auto emb = shape("decoder/embeddings/weight");
    const auto conv1 = shape("encoder/conv1/weight");
    if (emb.size() != 2 || conv1.size() != 3) {
        throw Error(ErrorCode::kParseError, f.name() + ": unexpected embedding or conv1 shape");
    }
    c.vocab_size = emb[0];
    c.d_model = emb[1];
    c.n_mels = conv1[1];
    c.max_source_positions = shape("encoder/position_encodings/encodings").at(0);
    c.max_target_positions = shape("decoder/position_encodings/encodings").at(0);
    while (f.has(fmt::format("encoder/layer_{}/ffn/linear_0/weight", c.encoder_layers))) ++c.encoder_layers;
    while (f.has(fmt::format("decoder/layer_{}/ffn/linear_0/weight", c.decoder_layers))) ++c.decoder_layers;
    if (c.encoder_layers == 0 || c.decoder_layers == 0) {
        throw Error(ErrorCode::kParseError, f.name() + ": no encoder or decoder layers");
    }
    c.encoder_ffn = shape("encoder/layer_0/ffn/linear_0/weight").at(0);
    c.decoder_ffn = shape("decoder/layer_0/ffn/linear_0/weight").at(0);
    c.encoder_heads = f.scalar_int("encoder/num_heads", 0);
    c.decoder_heads = f.scalar_int("decoder/num_heads", 0);
    if (c.encoder_heads <= 0 || c.decoder_heads <= 0 || c.d_model % c.encoder_heads != 0 ||
        c.d_model % c.decoder_heads != 0) {
        throw Error(ErrorCode::kParseError,
                    fmt::format("{}: head counts {}/{} do not divide d_model {}", f.name(),
                                c.encoder_heads, c.decoder_heads, c.d_model));
    }
    c.decoder_start_token_id = special_token_id(dir, "<|startoftranscript|>");
    c.eos_token_id = special_token_id(dir, "<|endoftext|>");
    return c;
}

}  // namespace

Result<std::unique_ptr<SpeechModel>> load_whisper_ct2(const std::string& dir,
                                                      const LoadOptions& opts) {
    auto f = io::Ct2File::open_dir(dir);
    if (!f.ok()) return f.status();
    if (f->spec_name() != "WhisperSpec") {
        return Status(ErrorCode::kUnsupported,
                      fmt::format("{}: CTranslate2 spec '{}' is not a Whisper model (WhisperSpec)",
                                  f->name(), f->spec_name()));
    }
    auto file = std::make_shared<const io::Ct2File>(std::move(f).value());
    try {
        WhisperConfig c = ct2_config(*file, dir);
        nlohmann::json cfg;
        if (auto t = read_text_file(dir + "/config.json"); t.ok()) {
            cfg = nlohmann::json::parse(*t, nullptr, false);
            if (cfg.is_discarded()) {
                return Status(ErrorCode::kParseError, dir + "/config.json: not valid JSON");
            }
        }
        const Ct2Source src(file, c.d_model, cfg, !opts.weight_dtype.has_value());
        return std::unique_ptr<SpeechModel>(WhisperModel::load(src, c, opts));
    } catch (const Error& e) {
        return e.status();
    }
}

}  // namespace ag::model
