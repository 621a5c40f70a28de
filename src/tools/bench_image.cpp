#include "tools/bench_image.h"

#include <chrono>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "tensor/dtype.h"

namespace ag::tools {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// A smooth synthetic screenshot (content does not change the cost).
mm::RgbImage synthetic_image(int width, int height) {
    mm::RgbImage im;
    im.width = width;
    im.height = height;
    im.data.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            uint8_t* p = im.pixel(y, x);
            p[0] = static_cast<uint8_t>((x * 7 + y) & 255);
            p[1] = static_cast<uint8_t>((y * 3) & 255);
            p[2] = static_cast<uint8_t>((x ^ y) & 255);
        }
    }
    return im;
}

// Multiply-adds per second of kernels::cpu::matmul for y[m,n] = x[m,k]·w[n,k]ᵀ, best of 3.
double matmul_macs_per_s(int64_t m, int64_t k, int64_t n, DType w_dtype) {
    std::vector<float> x(static_cast<size_t>(m * k), 0.01f), y(static_cast<size_t>(m * n));
    std::vector<uint8_t> w(dtype_row_bytes(w_dtype, k) * static_cast<size_t>(n), 0x3c);
    double best = 0;
    for (int r = 0; r < 3; ++r) {
        const auto t0 = Clock::now();
        kernels::cpu::matmul(x.data(), m, k, w.data(), w_dtype, n, nullptr, y.data());
        const double s = ms_since(t0) / 1e3;
        best = std::max(best, static_cast<double>(m * k * n) / s);
    }
    return best;
}

// Multiply-adds per second of kernels::cpu::attention_full over L tokens of n_head heads of d
// (q·kᵀ and p·v: 2·L²·n_head·d), best of 2.
double attention_macs_per_s(int64_t L, int64_t n_head, int64_t d) {
    std::vector<float> qkv(static_cast<size_t>(L * 3 * n_head * d)), out(static_cast<size_t>(L * n_head * d));
    for (size_t i = 0; i < qkv.size(); ++i) qkv[i] = static_cast<float>((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    const int64_t hd = n_head * d;
    double best = 0;
    for (int r = 0; r < 2; ++r) {
        const auto t0 = Clock::now();
        kernels::cpu::attention_full(qkv.data(), qkv.data() + hd, qkv.data() + 2 * hd, 3 * hd,
                                     out.data(), hd, L, n_head, d, 0.088f);
        const double s = ms_since(t0) / 1e3;
        best = std::max(best, 2.0 * static_cast<double>(L * L * hd) / s);
    }
    return best;
}

}  // namespace

VisionCost autoglm_vision_cost(int64_t grid_h, int64_t grid_w) {
    constexpr double d = 1536, depth = 24, mlp = 4096, out = 4096, inter = 13696;
    constexpr double patch_dim = 3 * 2 * 14 * 14;
    const double L = static_cast<double>(grid_h * grid_w);
    const double T = L / 4;  // merged tokens
    VisionCost c;
    c.linear_macs = L * patch_dim * d                       // patch embedding
                    + depth * L * (4 * d * d + 3 * d * mlp)  // qkv, proj, gate|up, down
                    + T * (4 * d * out + out * out + 3 * out * inter);  // downsample, merger
    c.attention_macs = depth * 2 * L * L * d;  // q·kᵀ and p·v over all heads
    return c;
}

Result<nlohmann::json> bench_image(const model::Model& m, const mm::Glm4vImageProcessorConfig& pc,
                                   const BenchImageOptions& o) {
    const model::VisionModel* vm = m.vision();
    if (vm == nullptr) return Status(ErrorCode::kInvalidArgument, "the model has no vision tower");
    const mm::RgbImage img = synthetic_image(o.width, o.height);
    double pre_ms = 0, enc_ms = 0;
    std::vector<double> enc_runs;
    mm::Glm4vImageInputs in;
    for (int r = -o.warmup; r < o.repetitions; ++r) {
        auto t0 = Clock::now();
        auto p = mm::glm4v_preprocess(img, pc);
        if (!p.ok()) return p.status();
        const double p_ms = ms_since(t0);
        in = std::move(p).value();
        const model::ImageGrid g{in.grid_thw[0], in.grid_thw[1], in.grid_thw[2]};
        t0 = Clock::now();
        auto e = vm->encode_image({in.pixel_values.as<float>(),
                                   static_cast<size_t>(in.pixel_values.numel())}, g);
        if (!e.ok()) return e.status();
        const double e_ms = ms_since(t0);
        if (r < 0) continue;  // warm-up
        pre_ms += p_ms;
        enc_ms += e_ms;
        enc_runs.push_back(e_ms);
    }
    const int64_t gh = in.grid_thw[1], gw = in.grid_thw[2];
    const VisionCost cost = autoglm_vision_cost(gh, gw);
    const int64_t L = gh * gw;
    const double lin_speed = matmul_macs_per_s(std::min<int64_t>(L, 1024), 1536, 4096, DType::kBF16);
    const double att_speed = attention_macs_per_s(std::min<int64_t>(L, 4096), 12, 128);
    const double est_s = cost.linear_macs / lin_speed + cost.attention_macs / att_speed;
    return nlohmann::json{
        {"width", o.width},
        {"height", o.height},
        {"max_pixels", pc.max_pixels},
        {"grid_thw", {in.grid_thw[0], gh, gw}},
        {"image_tokens", in.num_tokens()},
        {"kernel_isa", std::string(kernels::cpu::isa_name())},
        {"preprocess_ms", pre_ms / o.repetitions},
        {"encode_ms", enc_ms / o.repetitions},
        {"encode_ms_runs", enc_runs},
        {"warmup_runs", o.warmup},
        {"threads", ThreadPool::global().n_threads()},
        {"autoglm_9b_vision_linear_gmacs", cost.linear_macs / 1e9},
        {"autoglm_9b_vision_attention_gmacs", cost.attention_macs / 1e9},
        {"bf16_matmul_gmacs_per_s", lin_speed / 1e9},
        {"attention_gmacs_per_s", att_speed / 1e9},
        {"autoglm_9b_encode_s_estimate", est_s},
    };
}

}  // namespace ag::tools
