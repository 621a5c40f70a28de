#include "model/archs/glm4v/vision.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/thread_pool.h"
#include "io/checkpoint.h"
#include "model/checkpoint_weights.h"
#include "kernels/cpu/cpu.h"

namespace ag::model {

namespace {

namespace kn = ag::kernels::cpu;

size_t sz(int64_t a) { return static_cast<size_t>(a); }

constexpr int64_t kMlpRows = 1024;  // row chunk of the ViT and merger MLPs


// Two [rows_i, cols] matrices of one dtype stacked into one owning [rows_a + rows_b, cols] tensor
// (gate rows, then up rows), so one GEMM computes both and silu_mul can consume the result.
Tensor stack_rows(const Tensor& a, const Tensor& b) {
    if (a.dtype() != b.dtype()) {
        throw Error(ErrorCode::kUnsupported, "vision: gate_proj and up_proj have different dtypes");
    }
    Tensor t = Tensor::empty(a.dtype(), {a.dim(0) + b.dim(0), a.dim(1)});
    auto* dst = static_cast<uint8_t*>(t.mutable_data());
    std::memcpy(dst, a.data(), a.n_bytes());
    std::memcpy(dst + a.n_bytes(), b.data(), b.n_bytes());
    return t;
}

void matmul(const float* x, int64_t m, int64_t k, const Tensor& w, const float* bias, float* y) {
    kn::matmul(x, m, k, w.data(), w.dtype(), w.dim(0), bias, y);
}

// PyTorch's bicubic convolution weights (A = −0.75) for fractional offset t, taps −1, 0, 1, 2.
void cubic_weights(float t, float w[4]) {
    constexpr float A = -0.75f;
    const auto near = [](float x) { return ((A + 2.0f) * x - (A + 3.0f)) * x * x + 1.0f; };
    const auto far = [](float x) { return ((A * x - 5.0f * A) * x + 8.0f * A) * x - 4.0f * A; };
    w[0] = far(t + 1.0f);
    w[1] = near(t);
    w[2] = near(1.0f - t);
    w[3] = far(2.0f - t);
}

// Row-major patch coordinates (r, c) of the n-th patch of one frame in merge-window order.
void window_coords(int64_t n, int64_t w, int64_t m, int64_t& r, int64_t& c) {
    const int64_t win = n / (m * m), j = n % (m * m);
    r = (win / (w / m)) * m + j / m;
    c = (win % (w / m)) * m + j % m;
}

int64_t get_int(const nlohmann::json& v, const char* key, int64_t def, const std::string& src) {
    if (!v.contains(key)) return def;
    if (!v[key].is_number_integer()) {
        throw Error(ErrorCode::kParseError, fmt::format("{}: vision_config.{} must be an integer", src, key));
    }
    return v[key].get<int64_t>();
}

}  // namespace

Result<Glm4vVisionConfig> parse_glm4v_vision_config(const nlohmann::json& config,
                                                    const std::string& src) {
    try {
        if (!config.contains("vision_config") || !config["vision_config"].is_object()) {
            return Status(ErrorCode::kParseError, fmt::format("{}: no vision_config object", src));
        }
        const nlohmann::json& v = config["vision_config"];
        Glm4vVisionConfig c;
        const auto required = [&](const char* key) {
            if (!v.contains(key)) {
                throw Error(ErrorCode::kParseError, fmt::format("{}: vision_config.{} missing", src, key));
            }
            return get_int(v, key, 0, src);
        };
        c.hidden_size = required("hidden_size");
        c.depth = required("depth");
        c.n_head = required("num_heads");
        c.out_hidden_size = required("out_hidden_size");
        c.intermediate_size = required("intermediate_size");
        c.patch_size = get_int(v, "patch_size", 14, src);
        c.temporal_patch_size = get_int(v, "temporal_patch_size", 2, src);
        c.spatial_merge_size = get_int(v, "spatial_merge_size", 2, src);
        c.image_size = get_int(v, "image_size", 336, src);
        c.in_channels = get_int(v, "in_channels", 3, src);
        if (v.contains("rms_norm_eps")) c.rms_norm_eps = v["rms_norm_eps"].get<float>();
        if (v.contains("attention_bias")) c.attention_bias = v["attention_bias"].get<bool>();
        if (v.contains("rope_parameters") && v["rope_parameters"].contains("rope_theta")) {
            c.rope_theta = v["rope_parameters"]["rope_theta"].get<double>();
        } else if (v.contains("rope_theta")) {
            c.rope_theta = v["rope_theta"].get<double>();
        }
        if (v.contains("hidden_act") && v["hidden_act"] != "silu") {
            return Status(ErrorCode::kUnsupported,
                          fmt::format("{}: vision_config.hidden_act {} (only silu)", src,
                                      v["hidden_act"].dump()));
        }
        const bool ok = c.hidden_size > 0 && c.depth > 0 && c.n_head > 0 &&
                        c.hidden_size % c.n_head == 0 && c.head_dim() % 4 == 0 &&
                        c.out_hidden_size > 0 && c.intermediate_size > 0 && c.patch_size > 0 &&
                        c.temporal_patch_size > 0 && c.spatial_merge_size > 0 &&
                        c.in_channels > 0 && c.image_size >= c.patch_size;
        if (!ok) {
            return Status(ErrorCode::kParseError,
                          fmt::format("{}: inconsistent vision_config (hidden {}, heads {}, head dim "
                                      "must be a multiple of 4)", src, c.hidden_size, c.n_head));
        }
        return c;
    } catch (const Error& e) {
        return e.status();
    } catch (const nlohmann::json::exception& e) {
        return Status(ErrorCode::kParseError, fmt::format("{}: vision_config: {}", src, e.what()));
    }
}

Result<std::unique_ptr<Glm4vVisionTower>> Glm4vVisionTower::load(const io::Checkpoint& ck,
                                                                 const std::string& p,
                                                                 const Glm4vVisionConfig& c) {
    try {
        auto m = std::unique_ptr<Glm4vVisionTower>(new Glm4vVisionTower());
        m->cfg_ = c;
        const int64_t d = c.hidden_size, o = c.out_hidden_size, F = c.intermediate_size;
        // Stored [out, C, T, P, P] / [out, d, m, m]: contiguous, used as [out, C·T·P·P] and
        // [out, d·m·m] matrices (the matmul helper reads only dim 0).
        m->patch_w_ = need_weight(ck, p + "patch_embed.proj.weight",
                           {d, c.in_channels, c.temporal_patch_size, c.patch_size, c.patch_size});
        m->patch_b_ = need_f32(ck, p + "patch_embed.proj.bias", {d});
        m->post_conv_norm_ = need_f32(ck, p + "post_conv_layernorm.weight", {d});
        const int64_t side = c.pos_side();
        m->pos_table_ = need_f32(ck, p + "embeddings.position_embedding.weight", {side * side, d});
        for (int64_t l = 0; l < c.depth; ++l) {
            const std::string bp = fmt::format("{}blocks.{}.", p, l);
            Block B;
            B.norm1 = need_f32(ck, bp + "norm1.weight", {d});
            B.norm2 = need_f32(ck, bp + "norm2.weight", {d});
            B.qkv = need_weight(ck, bp + "attn.qkv.weight", {3 * d, d});
            if (c.attention_bias) B.qkv_bias = need_f32(ck, bp + "attn.qkv.bias", {3 * d});
            B.proj = need_weight(ck, bp + "attn.proj.weight", {d, d});
            B.gate_up = stack_rows(need_weight(ck, bp + "mlp.gate_proj.weight", {o, d}),
                                   need_weight(ck, bp + "mlp.up_proj.weight", {o, d}));
            B.down = need_weight(ck, bp + "mlp.down_proj.weight", {d, o});
            m->blocks_.push_back(std::move(B));
        }
        m->post_norm_ = need_f32(ck, p + "post_layernorm.weight", {d});
        m->down_w_ = need_weight(ck, p + "downsample.weight",
                          {o, d, c.spatial_merge_size, c.spatial_merge_size});
        m->down_b_ = need_f32(ck, p + "downsample.bias", {o});
        m->merger_proj_ = need_weight(ck, p + "merger.proj.weight", {o, o});
        m->merger_ln_w_ = need_f32(ck, p + "merger.post_projection_norm.weight", {o});
        m->merger_ln_b_ = need_f32(ck, p + "merger.post_projection_norm.bias", {o});
        m->merger_gate_up_ = stack_rows(need_weight(ck, p + "merger.gate_proj.weight", {F, o}),
                                        need_weight(ck, p + "merger.up_proj.weight", {F, o}));
        m->merger_down_ = need_weight(ck, p + "merger.down_proj.weight", {o, F});
        // Glm4vVisionRotaryEmbedding(head_dim / 2): inv_freq = 1 / θ^(arange(0, dim, 2) / dim), f32.
        const int64_t rot = c.head_dim() / 2;
        for (int64_t k = 0; k < rot / 2; ++k) {
            const float e = static_cast<float>(2 * k) / static_cast<float>(rot);
            m->inv_freq_.push_back(1.0f / std::pow(static_cast<float>(c.rope_theta), e));
        }
        return m;
    } catch (const Error& e) {
        return e.status();
    }
}

std::vector<float> Glm4vVisionTower::position_embedding(int64_t h, int64_t w) const {
    const int64_t d = cfg_.hidden_size, side = cfg_.pos_side(), m = cfg_.spatial_merge_size;
    std::vector<float> out(sz(h * w * d));
    const auto fside = static_cast<float>(side);
    // grid_sample(mode=bicubic, align_corners=False, padding_mode=border) at the centre of each
    // target patch: normalised u = ((c + 0.5) / w)·2 − 1, source x = ((u + 1)·side − 1) / 2; taps
    // x0−1 … x0+2 clamped to the table, weights from the unclamped fraction. All f32, as torch.
    ThreadPool::global().parallel_for(h * w, 16, [&](int64_t n0, int64_t n1) {
        std::vector<float> rowbuf(sz(4 * d));
        for (int64_t n = n0; n < n1; ++n) {
            int64_t r = 0, c = 0;
            window_coords(n, w, m, r, c);
            const float u = ((static_cast<float>(c) + 0.5f) / static_cast<float>(w)) * 2.0f - 1.0f;
            const float v = ((static_cast<float>(r) + 0.5f) / static_cast<float>(h)) * 2.0f - 1.0f;
            const float x = ((u + 1.0f) * fside - 1.0f) / 2.0f;
            const float y = ((v + 1.0f) * fside - 1.0f) / 2.0f;
            const float x0 = std::floor(x), y0 = std::floor(y);
            float wx[4], wy[4];
            cubic_weights(x - x0, wx);
            cubic_weights(y - y0, wy);
            const auto clamp = [&](float t) {
                return std::clamp(static_cast<int64_t>(t), int64_t{0}, side - 1);
            };
            // Interpolate along x in each of the 4 source rows, then along y (torch's order).
            for (int k = 0; k < 4; ++k) {
                const int64_t sy = clamp(y0 - 1.0f + static_cast<float>(k));
                float* acc = rowbuf.data() + k * d;
                const float* t0 = pos_table_.data() + (sy * side + clamp(x0 - 1.0f)) * d;
                const float* t1 = pos_table_.data() + (sy * side + clamp(x0)) * d;
                const float* t2 = pos_table_.data() + (sy * side + clamp(x0 + 1.0f)) * d;
                const float* t3 = pos_table_.data() + (sy * side + clamp(x0 + 2.0f)) * d;
                for (int64_t e = 0; e < d; ++e) {
                    acc[e] = t0[e] * wx[0] + t1[e] * wx[1] + t2[e] * wx[2] + t3[e] * wx[3];
                }
            }
            float* dst = out.data() + n * d;
            for (int64_t e = 0; e < d; ++e) {
                dst[e] = rowbuf[sz(e)] * wy[0] + rowbuf[sz(d + e)] * wy[1] +
                         rowbuf[sz(2 * d + e)] * wy[2] + rowbuf[sz(3 * d + e)] * wy[3];
            }
        }
    });
    return out;
}

Result<std::vector<float>> Glm4vVisionTower::encode(std::span<const float> pixels,
                                                    const ImageGrid& g) const {
    const Glm4vVisionConfig& c = cfg_;
    const int64_t m = c.spatial_merge_size, mm = m * m;
    if (g.t < 1 || g.h < m || g.w < m || g.h % m != 0 || g.w % m != 0) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("vision: bad image grid [{}, {}, {}] (h and w must be positive "
                                  "multiples of the spatial merge size {})", g.t, g.h, g.w, m));
    }
    const int64_t frame = g.h * g.w, N = g.t * frame;
    const int64_t pd = c.patch_dim(), d = c.hidden_size, o = c.out_hidden_size;
    const int64_t H = c.n_head, D = c.head_dim(), F = c.intermediate_size;
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    if (static_cast<int64_t>(pixels.size()) != N * pd) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("vision: pixel_values has {} values, grid [{}, {}, {}] needs {} "
                                  "({} patches × {})", pixels.size(), g.t, g.h, g.w, N * pd, N, pd));
    }

    // Patch embedding (Conv3d with kernel = stride = one GEMM), post-conv RMSNorm, positions.
    std::vector<float> z(sz(N * d));
    matmul(pixels.data(), N, pd, patch_w_, patch_b_.data(), z.data());
    kn::rms_norm(z.data(), post_conv_norm_.data(), z.data(), N, d, c.rms_norm_eps);
    const std::vector<float> pos = position_embedding(g.h, g.w);
    for (int64_t n = 0; n < N; ++n) {
        const float* pe = pos.data() + (n % frame) * d;
        float* zr = z.data() + n * d;
        for (int64_t e = 0; e < d; ++e) zr[e] += pe[e];
    }

    // 2-D rotary tables: angle[k] = row·κ_k, angle[D/4 + k] = col·κ_k (k < D/4); the rotation
    // pairs element i with i + D/2 (rotate-half) over the whole head.
    const int64_t half = D / 2, quarter = D / 4;
    std::vector<float> cosv(sz(frame * half)), sinv(sz(frame * half));
    for (int64_t n = 0; n < frame; ++n) {
        int64_t r = 0, col = 0;
        window_coords(n, g.w, m, r, col);
        for (int64_t k = 0; k < quarter; ++k) {
            const float ar = static_cast<float>(r) * inv_freq_[sz(k)];
            const float ac = static_cast<float>(col) * inv_freq_[sz(k)];
            cosv[sz(n * half + k)] = std::cos(ar);
            sinv[sz(n * half + k)] = std::sin(ar);
            cosv[sz(n * half + quarter + k)] = std::cos(ac);
            sinv[sz(n * half + quarter + k)] = std::sin(ac);
        }
    }
    const auto rotate = [&](float* qkv_rows, int64_t n_rows, int64_t first) {
        ThreadPool::global().parallel_for(n_rows, 16, [&](int64_t i0, int64_t i1) {
            for (int64_t i = i0; i < i1; ++i) {
                const float* cs = cosv.data() + ((first + i) % frame) * half;
                const float* sn = sinv.data() + ((first + i) % frame) * half;
                for (int64_t part = 0; part < 2; ++part) {  // q, then k
                    for (int64_t h = 0; h < H; ++h) {
                        float* x = qkv_rows + i * 3 * d + part * d + h * D;
                        for (int64_t e = 0; e < half; ++e) {
                            const float a = x[e], b = x[e + half];
                            x[e] = a * cs[e] - b * sn[e];
                            x[e + half] = b * cs[e] + a * sn[e];
                        }
                    }
                }
            }
        });
    };

    // The MLPs run over row chunks so their wide intermediates stay bounded (a 13k-patch
    // screenshot would otherwise need [N, 2·4096] and [T, 2·13696] f32 buffers).
    const int64_t rc = std::min<int64_t>(N, kMlpRows);
    std::vector<float> a(sz(N * d)), qkv(sz(N * 3 * d)), attn(sz(N * d)), tmp(sz(N * d));
    std::vector<float> gu(sz(rc * 2 * o)), act(sz(rc * o));
    for (const Block& B : blocks_) {
        kn::rms_norm(z.data(), B.norm1.data(), a.data(), N, d, c.rms_norm_eps);
        matmul(a.data(), N, d, B.qkv, B.qkv_bias.empty() ? nullptr : B.qkv_bias.data(), qkv.data());
        rotate(qkv.data(), N, 0);
        for (int64_t f = 0; f < g.t; ++f) {  // attention never crosses frames (cu_seqlens)
            const float* rows = qkv.data() + f * frame * 3 * d;  // q | k | v, head-major
            kn::attention_full(rows, rows + d, rows + 2 * d, 3 * d, attn.data() + f * frame * d, d,
                               frame, H, D, scale);
        }
        matmul(attn.data(), N, d, B.proj, nullptr, tmp.data());
        for (int64_t i = 0; i < N * d; ++i) z[sz(i)] += tmp[sz(i)];
        kn::rms_norm(z.data(), B.norm2.data(), a.data(), N, d, c.rms_norm_eps);
        for (int64_t r0 = 0; r0 < N; r0 += rc) {
            const int64_t nr = std::min(rc, N - r0);
            matmul(a.data() + r0 * d, nr, d, B.gate_up, nullptr, gu.data());
            kn::silu_mul(gu.data(), act.data(), nr, o);
            matmul(act.data(), nr, o, B.down, nullptr, tmp.data() + r0 * d);
        }
        for (int64_t i = 0; i < N * d; ++i) z[sz(i)] += tmp[sz(i)];
    }
    kn::rms_norm(z.data(), post_norm_.data(), z.data(), N, d, c.rms_norm_eps);

    // Downsample: each merge window's m² consecutive rows -> one vector in (channel, ky, kx)
    // order against the Conv2d weight [out, channel, ky, kx].
    const int64_t T = N / mm;
    std::vector<float> win(sz(T * d * mm)), y(sz(T * o));
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t j = 0; j < mm; ++j) {
            const float* src = z.data() + (t * mm + j) * d;
            float* dst = win.data() + t * d * mm + j;
            for (int64_t ch = 0; ch < d; ++ch) dst[ch * mm] = src[ch];
        }
    }
    matmul(win.data(), T, d * mm, down_w_, down_b_.data(), y.data());

    // Merger: proj, LayerNorm, GELU(erf), SiLU-gated MLP.
    const int64_t tc = std::min<int64_t>(T, kMlpRows);
    std::vector<float> u(sz(T * o)), mgu(sz(tc * 2 * F)), mact(sz(tc * F)), out(sz(T * o));
    matmul(y.data(), T, o, merger_proj_, nullptr, u.data());
    kn::layer_norm(u.data(), merger_ln_w_.data(), merger_ln_b_.data(), u.data(), T, o, 1e-5f);
    kn::gelu_erf(u.data(), T * o);
    for (int64_t r0 = 0; r0 < T; r0 += tc) {
        const int64_t nr = std::min(tc, T - r0);
        matmul(u.data() + r0 * o, nr, o, merger_gate_up_, nullptr, mgu.data());
        kn::silu_mul(mgu.data(), mact.data(), nr, F);
        matmul(mact.data(), nr, F, merger_down_, nullptr, out.data() + r0 * o);
    }
    return out;
}

Result<RopeIndex> glm4v_rope_index(std::span<const int32_t> tokens, int32_t image_token_id,
                                   int32_t video_start_id, int32_t video_end_id,
                                   std::span<const ImageGrid> grids, int64_t merge) {
    const auto n = static_cast<int64_t>(tokens.size());
    RopeIndex ri;
    ri.positions.assign(sz(3 * n), 0);
    int64_t st = 0;        // first position of the next run
    size_t image = 0;      // next image of `grids`
    bool in_video = false;
    int64_t i = 0;
    const auto set = [&](int64_t idx, int64_t t, int64_t h, int64_t w) {
        ri.positions[sz(idx)] = static_cast<int32_t>(t);
        ri.positions[sz(n + idx)] = static_cast<int32_t>(h);
        ri.positions[sz(2 * n + idx)] = static_cast<int32_t>(w);
    };
    while (i < n) {
        if (tokens[sz(i)] == image_token_id) {
            if (in_video) {
                return Status(ErrorCode::kUnsupported, "rope index: video input is not supported");
            }
            int64_t j = i;
            while (j < n && tokens[sz(j)] == image_token_id) ++j;
            if (image >= grids.size()) {
                return Status(ErrorCode::kInvalidArgument,
                              fmt::format("prompt has more image placeholder runs than images ({})",
                                          grids.size()));
            }
            const ImageGrid& g = grids[image];
            const int64_t lt = g.t, lh = g.h / merge, lw = g.w / merge;
            if (lt < 1 || lh < 1 || lw < 1 || g.h % merge != 0 || g.w % merge != 0 ||
                j - i != lt * lh * lw) {
                return Status(ErrorCode::kInvalidArgument,
                              fmt::format("image {}: {} placeholder tokens in the prompt, grid [{}, {}, "
                                          "{}] needs {}", image, j - i, g.t, g.h, g.w, lt * lh * lw));
            }
            for (int64_t k = 0; k < j - i; ++k) {
                const int64_t tau = k / (lh * lw), rc = k % (lh * lw);
                set(i + k, st + tau, st + rc / lw, st + rc % lw);
            }
            st += std::max({lt, lh, lw});
            ++image;
            i = j;
        } else {
            if (tokens[sz(i)] == video_start_id) in_video = true;
            if (tokens[sz(i)] == video_end_id) in_video = false;
            set(i, st, st, st);
            ++st;
            ++i;
        }
    }
    if (image != grids.size()) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("{} images given but the prompt has {} image placeholder runs",
                                  grids.size(), image));
    }
    ri.rope_delta = st - n;  // st = max position + 1
    return ri;
}

}  // namespace ag::model
