// matmul on every ISA path this CPU has, against kernels::ref, for every weight format, on shapes
// with odd m/n tails; batch invariance; the activation quantizers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"
#include "tensor/dtype.h"
#include "tensor/quant.h"
#include "tensor/tensor.h"

namespace ag::kernels {
namespace {

std::vector<float> randn(size_t n, std::mt19937& rng, float scale = 1.0f) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

// A random [n, k] weight matrix in dtype dt (bytes) and its f32 value.
struct Weights {
    std::vector<uint8_t> bytes;
    std::vector<float> f32;
};

Weights make_weights(DType dt, int64_t n, int64_t k, std::mt19937& rng) {
    Weights w;
    auto f = randn(static_cast<size_t>(n * k), rng, 0.5f);
    const size_t rb = dtype_row_bytes(dt, k);
    w.bytes.resize(rb * static_cast<size_t>(n));
    w.f32.resize(f.size());
    if (dt == DType::kQ4_K) {
        // Any bytes are a valid Q4_K block: random 6-bit scales/mins and nibbles, small d/dmin.
        std::uniform_int_distribution<int> byte(0, 255);
        std::uniform_real_distribution<float> sc(0.001f, 0.02f);
        for (int64_t b = 0; b < n * k / quant::kQK_K; ++b) {
            quant::BlockQ4_K blk;
            blk.d = f32_to_f16(sc(rng));
            blk.dmin = f32_to_f16(sc(rng));
            for (auto& s : blk.scales) s = static_cast<uint8_t>(byte(rng));
            for (auto& q : blk.qs) q = static_cast<uint8_t>(byte(rng));
            std::memcpy(w.bytes.data() + static_cast<size_t>(b) * sizeof blk, &blk, sizeof blk);
        }
    } else if (dt == DType::kQ5_K) {
        // Any bytes are a valid Q5_K block (as Q4_K, plus random fifth bits).
        std::uniform_int_distribution<int> byte(0, 255);
        std::uniform_real_distribution<float> sc(0.001f, 0.01f);
        for (int64_t b = 0; b < n * k / quant::kQK_K; ++b) {
            quant::BlockQ5_K blk;
            blk.d = f32_to_f16(sc(rng));
            blk.dmin = f32_to_f16(sc(rng));
            for (auto& s : blk.scales) s = static_cast<uint8_t>(byte(rng));
            for (auto& q : blk.qh) q = static_cast<uint8_t>(byte(rng));
            for (auto& q : blk.qs) q = static_cast<uint8_t>(byte(rng));
            std::memcpy(w.bytes.data() + static_cast<size_t>(b) * sizeof blk, &blk, sizeof blk);
        }
    } else if (dt == DType::kQ5_0 || dt == DType::kQ5_1) {
        // Any bytes are a valid Q5_0 / Q5_1 block: random codes, d of both signs, m (Q5_1) around
        // the −16·d that makes a block symmetric.
        std::uniform_int_distribution<int> byte(0, 255);
        std::uniform_real_distribution<float> sc(0.01f, 0.1f), off(-24.0f, -8.0f);
        const size_t bb = dtype_block_bytes(dt);
        for (int64_t b = 0; b < n * k / 32; ++b) {
            uint8_t blk[24];
            const float d = sc(rng) * (byte(rng) % 2 ? 1.0f : -1.0f);
            const uint16_t dh = f32_to_f16(d), mh = f32_to_f16(d * off(rng));
            std::memcpy(blk, &dh, 2);
            if (dt == DType::kQ5_1) std::memcpy(blk + 2, &mh, 2);
            for (size_t t = dt == DType::kQ5_1 ? 4 : 2; t < bb; ++t) blk[t] = static_cast<uint8_t>(byte(rng));
            std::memcpy(w.bytes.data() + static_cast<size_t>(b) * bb, blk, bb);
        }
    } else if (dt == DType::kQ6_K) {
        // Any bytes are a valid Q6_K block: random codes and int8 scales (both signs), small d.
        std::uniform_int_distribution<int> byte(0, 255);
        std::uniform_real_distribution<float> sc(0.0002f, 0.002f);
        for (int64_t b = 0; b < n * k / quant::kQK_K; ++b) {
            quant::BlockQ6_K blk;
            blk.d = f32_to_f16(sc(rng));
            for (auto& s : blk.scales) s = static_cast<int8_t>(byte(rng) - 128);
            for (auto& q : blk.ql) q = static_cast<uint8_t>(byte(rng));
            for (auto& q : blk.qh) q = static_cast<uint8_t>(byte(rng));
            std::memcpy(w.bytes.data() + static_cast<size_t>(b) * sizeof blk, &blk, sizeof blk);
        }
    } else if (dtype_is_quantized(dt)) {
        for (int64_t j = 0; j < n; ++j) {
            quant::quantize_row(dt, f.data() + j * k, w.bytes.data() + static_cast<size_t>(j) * rb, k);
        }
    } else if (dt == DType::kF32) {
        std::memcpy(w.bytes.data(), f.data(), w.bytes.size());
    } else {
        auto* h = reinterpret_cast<uint16_t*>(w.bytes.data());
        for (size_t i = 0; i < f.size(); ++i) h[i] = dt == DType::kBF16 ? f32_to_bf16(f[i]) : f32_to_f16(f[i]);
    }
    for (int64_t j = 0; j < n; ++j) {
        const uint8_t* row = w.bytes.data() + static_cast<size_t>(j) * rb;
        if (dtype_is_quantized(dt)) {
            quant::dequantize_row(dt, row, w.f32.data() + j * k, k);
        } else {
            convert_to_f32(dt, row, w.f32.data() + j * k, k);
        }
    }
    return w;
}

std::vector<int64_t> ks_for(DType dt) {
    switch (dt) {
        case DType::kQ4_K:
        case DType::kQ5_K:
        case DType::kQ6_K: return {256, 768, 2048};
        case DType::kQ8_0:
        case DType::kQ4_0:
        case DType::kQ5_0:
        case DType::kQ5_1: return {32, 96, 160, 512, 2080};
        default: return {7, 16, 33, 129, 520};
    }
}

const DType kAllDtypes[] = {DType::kF32, DType::kF16, DType::kBF16,
                            DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ5_K,
                            DType::kQ6_K, DType::kQ5_0, DType::kQ5_1};

// Restores the ISA chosen at start-up when a test ends.
class IsaTest : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        saved_ = std::string(cpu::isa_name());
        if (!cpu::isa_available(GetParam())) GTEST_SKIP() << GetParam() << " not available on this CPU";
        ASSERT_TRUE(cpu::set_isa(GetParam()));
    }
    void TearDown() override { cpu::set_isa(saved_); }
    std::string saved_;
};

TEST_P(IsaTest, MatmulMatchesRef) {
    std::mt19937 rng(7);
    const bool scalar = std::string(GetParam()) == "scalar";
    for (DType dt : kAllDtypes) {
        for (int64_t k : ks_for(dt)) {
            for (auto [m, n] : {std::pair<int64_t, int64_t>{1, 1}, {1, 37}, {2, 5}, {3, 17}, {4, 8},
                                {5, 33}, {8, 19}, {13, 7}, {70, 21}}) {
                const Weights w = make_weights(dt, n, k, rng);
                const auto x = randn(static_cast<size_t>(m * k), rng);
                const auto bias = randn(static_cast<size_t>(n), rng);
                const float* b = (m + n) % 2 ? bias.data() : nullptr;
                std::vector<float> y0(static_cast<size_t>(m * n)), y1(y0.size(), NAN);
                ref::matmul(x.data(), m, k, w.bytes.data(), dt, n, b, y0.data());
                cpu::matmul(x.data(), m, k, w.bytes.data(), dt, n, b, y1.data());
                for (int64_t i = 0; i < m; ++i) {
                    for (int64_t j = 0; j < n; ++j) {
                        // Scale of the sum: Σ|x·w| over the row (rounding differs only by order).
                        double mag = 1.0;
                        for (int64_t t = 0; t < k; ++t) mag += std::fabs(x[i * k + t] * w.f32[j * k + t]);
                        const float a = y0[i * n + j], c = y1[i * n + j];
                        if (scalar && dtype_is_quantized(dt)) {
                            ASSERT_EQ(a, c) << dtype_name(dt) << " m=" << m << " n=" << n << " k=" << k;
                        } else {
                            // Quantized paths see the same quants as ref (a single quant off by
                            // one would exceed this) and differ only in f32 summation order.
                            const bool kq = dtype_block_elems(dt) == quant::kQK_K;
                            const double tol = kq                       ? 4e-6 * mag + 1e-4
                                               : dtype_is_quantized(dt) ? 2e-6 * mag
                                                                        : 2e-5 * mag;
                            ASSERT_NEAR(a, c, tol)
                                << GetParam() << " " << dtype_name(dt) << " m=" << m << " n=" << n
                                << " k=" << k << " at " << i << "," << j;
                        }
                    }
                }
            }
        }
    }
}

TEST_P(IsaTest, QuantizedMatmulIsCloseToFloat) {
    // The quantized path's answer vs the exact product of x and the dequantized weights: the
    // activation quantization error only (guards against a kernel and ref agreeing on garbage).
    std::mt19937 rng(11);
    for (DType dt : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kQ5_0,
                     DType::kQ5_1}) {
        const int64_t m = 3, n = 9, k = 512;
        const Weights w = make_weights(dt, n, k, rng);
        const auto x = randn(static_cast<size_t>(m * k), rng);
        std::vector<float> y(static_cast<size_t>(m * n)), yf(y.size());
        cpu::matmul(x.data(), m, k, w.bytes.data(), dt, n, nullptr, y.data());
        ref::matmul(x.data(), m, k, w.f32.data(), DType::kF32, n, nullptr, yf.data());
        // Hard bound: each x value is off by at most half its block's step d = amax / 127.
        const int64_t qb = dtype_block_elems(dt);
        for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < n; ++j) {
                double bound = 1e-3;
                for (int64_t b0 = 0; b0 < k; b0 += qb) {
                    float amax = 0.0f;
                    for (int64_t t = b0; t < b0 + qb; ++t) amax = std::max(amax, std::fabs(x[i * k + t]));
                    for (int64_t t = b0; t < b0 + qb; ++t) bound += std::fabs(w.f32[j * k + t]) * amax / 127.0f * 0.5f;
                }
                EXPECT_NEAR(y[i * n + j], yf[i * n + j], bound) << dtype_name(dt) << " " << i << "," << j;
            }
        }
    }
}

TEST_P(IsaTest, BatchInvariance) {
    // Row i of the output is bit-identical whether it is computed alone, in a batch of any size,
    // or next to other rows.
    std::mt19937 rng(3);
    for (DType dt : kAllDtypes) {
        const int64_t k = dtype_block_elems(dt) == 256 ? 512 : 160, n = 29, m = 37;
        const Weights w = make_weights(dt, n, k, rng);
        const auto x = randn(static_cast<size_t>(m * k), rng);
        const auto bias = randn(static_cast<size_t>(n), rng);
        std::vector<float> full(static_cast<size_t>(m * n));
        cpu::matmul(x.data(), m, k, w.bytes.data(), dt, n, bias.data(), full.data());
        std::vector<float> one(static_cast<size_t>(n));
        for (int64_t i = 0; i < m; ++i) {
            cpu::matmul(x.data() + i * k, 1, k, w.bytes.data(), dt, n, bias.data(), one.data());
            ASSERT_EQ(0, std::memcmp(one.data(), full.data() + i * n, one.size() * 4))
                << GetParam() << " " << dtype_name(dt) << " row " << i << " alone";
        }
        // Sub-batches of different sizes and with the rows reordered and mixed with new rows.
        for (int64_t mb : {2, 3, 5, 8, 9, 16}) {
            std::vector<int64_t> pick(static_cast<size_t>(mb));
            std::uniform_int_distribution<int64_t> any(0, m - 1);
            for (auto& p : pick) p = any(rng);
            std::vector<float> xb(static_cast<size_t>(mb * k)), yb(static_cast<size_t>(mb * n));
            for (int64_t r = 0; r < mb; ++r) {
                std::copy_n(x.begin() + pick[static_cast<size_t>(r)] * k, k, xb.begin() + r * k);
            }
            cpu::matmul(xb.data(), mb, k, w.bytes.data(), dt, n, bias.data(), yb.data());
            for (int64_t r = 0; r < mb; ++r) {
                ASSERT_EQ(0, std::memcmp(yb.data() + r * n, full.data() + pick[static_cast<size_t>(r)] * n,
                                         static_cast<size_t>(n) * 4))
                    << GetParam() << " " << dtype_name(dt) << " batch " << mb << " row " << r;
            }
        }
    }
}

TEST_P(IsaTest, QuantizedPanelsTailsAndRowChunks) {
    // Shapes for the 16-row weight panels and 8-row x tiles of the SIMD GEMMs: n and m not
    // multiples of them, m = 1..8 (the direct path) next to m > 8 (the repacked path), and a long
    // k where x is processed in several chunks of rows. Checked against ref, and every row alone
    // must give the same bits as in the batch; an all-zero x block (d = 0) is included. The AMX
    // path adds 16-row x tiles, pairs of them and pairs of panels (m, n >= 32).
    std::mt19937 rng(13);
    struct Shape {
        int64_t m, n, k;
    };
    for (DType dt : {DType::kQ8_0, DType::kQ4_0}) {
        for (const Shape s : {Shape{23, 50, 64}, Shape{9, 33, 2080}, Shape{8, 16, 96}, Shape{17, 31, 32},
                              Shape{70, 17, 32768},
                              Shape{45, 70, 96}, Shape{64, 64, 64}, Shape{70, 40, 32768}}) {
            const Weights w = make_weights(dt, s.n, s.k, rng);
            auto x = randn(static_cast<size_t>(s.m * s.k), rng);
            std::fill_n(x.begin() + 32, 32, 0.0f);
            const auto bias = randn(static_cast<size_t>(s.n), rng);
            std::vector<float> y0(static_cast<size_t>(s.m * s.n)), y1(y0.size(), NAN);
            ref::matmul(x.data(), s.m, s.k, w.bytes.data(), dt, s.n, bias.data(), y0.data());
            cpu::matmul(x.data(), s.m, s.k, w.bytes.data(), dt, s.n, bias.data(), y1.data());
            std::vector<float> one(static_cast<size_t>(s.n));
            for (int64_t i = 0; i < s.m; ++i) {
                for (int64_t j = 0; j < s.n; ++j) {
                    double mag = 1.0;
                    for (int64_t t = 0; t < s.k; ++t) mag += std::fabs(x[i * s.k + t] * w.f32[j * s.k + t]);
                    ASSERT_NEAR(y0[i * s.n + j], y1[i * s.n + j], 2e-6 * mag)
                        << GetParam() << " " << dtype_name(dt) << " m=" << s.m << " n=" << s.n
                        << " k=" << s.k << " at " << i << "," << j;
                }
                cpu::matmul(x.data() + i * s.k, 1, s.k, w.bytes.data(), dt, s.n, bias.data(), one.data());
                ASSERT_EQ(0, std::memcmp(one.data(), y1.data() + i * s.n, one.size() * 4))
                    << GetParam() << " " << dtype_name(dt) << " m=" << s.m << " n=" << s.n << " k=" << s.k
                    << " row " << i << " alone";
            }
        }
    }
}

TEST_P(IsaTest, Q5_0AndQ5_1ExtremeCodes) {
    // Every code 31 or 0 (all qs / qh bits set or clear) against x quants of ±127, k odd in blocks
    // (a lone last block): exact in int32, so every path gives ref's value up to the f32 order.
    const int64_t k = 32 * 17, n = 6, m = 3;
    for (DType dt : {DType::kQ5_0, DType::kQ5_1}) {
        const size_t bb = dtype_block_bytes(dt);
        std::vector<uint8_t> w(static_cast<size_t>(n) * dtype_row_bytes(dt, k));
        for (int64_t b = 0; b < n * k / 32; ++b) {
            uint8_t* blk = w.data() + static_cast<size_t>(b) * bb;
            std::memset(blk, b % 3 ? 0xFF : 0x00, bb);
            const uint16_t d = f32_to_f16(0.01f * static_cast<float>(1 + b % 5)), mm = f32_to_f16(-0.3f);
            std::memcpy(blk, &d, 2);
            if (dt == DType::kQ5_1) std::memcpy(blk + 2, &mm, 2);
        }
        std::vector<float> x(static_cast<size_t>(m * k));
        for (int64_t t = 0; t < m * k; ++t) x[static_cast<size_t>(t)] = (t / 32 + t / 96) % 2 ? 1.0f : -1.0f;
        std::vector<float> y0(static_cast<size_t>(m * n)), y1(y0.size(), NAN);
        ref::matmul(x.data(), m, k, w.data(), dt, n, nullptr, y0.data());
        cpu::matmul(x.data(), m, k, w.data(), dt, n, nullptr, y1.data());
        for (size_t i = 0; i < y0.size(); ++i) {
            EXPECT_NEAR(y0[i], y1[i], 1e-5 * std::fabs(y0[i]) + 1e-3) << GetParam() << " " << dtype_name(dt) << " at " << i;
        }
    }
}

TEST_P(IsaTest, Q6_KExtremeCodesAndScales) {
    // The largest int8 products the SIMD paths must hold exactly: every code 63 or 0 (q − 32 =
    // 31 / −32), scales ±127 / −128, and x rows at ±amax (all quants ±127). Exact in int32, so
    // every path gives ref's value up to the f32 order of the per-block sums.
    const int64_t k = 512, n = 6, m = 3;
    std::vector<uint8_t> w(static_cast<size_t>(n) * dtype_row_bytes(DType::kQ6_K, k));
    auto* blk = reinterpret_cast<quant::BlockQ6_K*>(w.data());
    for (int64_t b = 0; b < n * k / 256; ++b) {
        const bool high = b % 2 == 0;
        std::memset(blk[b].ql, high ? 0xFF : 0x00, sizeof blk[b].ql);
        std::memset(blk[b].qh, high ? 0xFF : 0x00, sizeof blk[b].qh);
        for (int s = 0; s < 16; ++s) blk[b].scales[s] = static_cast<int8_t>(s % 3 == 0 ? -128 : s % 3 == 1 ? 127 : -127);
        blk[b].d = f32_to_f16(0.001f * static_cast<float>(1 + b % 5));
    }
    std::vector<float> x(static_cast<size_t>(m * k));
    for (int64_t t = 0; t < m * k; ++t) x[static_cast<size_t>(t)] = (t / 16 + t / 512) % 2 ? 1.0f : -1.0f;
    std::vector<float> y0(static_cast<size_t>(m * n)), y1(y0.size(), NAN);
    ref::matmul(x.data(), m, k, w.data(), DType::kQ6_K, n, nullptr, y0.data());
    cpu::matmul(x.data(), m, k, w.data(), DType::kQ6_K, n, nullptr, y1.data());
    for (size_t i = 0; i < y0.size(); ++i) {
        EXPECT_NEAR(y0[i], y1[i], 1e-5 * std::fabs(y0[i]) + 1e-3) << GetParam() << " at " << i;
        EXPECT_GT(std::fabs(y0[i]), 1.0f) << i;
    }
}

TEST_P(IsaTest, QuantizedDirectTilesMatchTheGemm) {
    // Q8_0/Q4_0 with m <= 8 read the weight rows directly (full 16-row panels and a tail panel
    // take different code); every such m must give the bits of the m > 8 GEMM, for panel counts
    // and tails of several sizes and a k long enough for the next-panel prefetch to run.
    std::mt19937 rng(17);
    for (DType dt : {DType::kQ8_0, DType::kQ4_0}) {
        for (const int64_t k : {64, 2080}) {
            for (const int64_t n : {16, 29, 48, 70}) {
                const int64_t m = 21;
                const Weights w = make_weights(dt, n, k, rng);
                const auto x = randn(static_cast<size_t>(m * k), rng);
                const auto bias = randn(static_cast<size_t>(n), rng);
                std::vector<float> full(static_cast<size_t>(m * n));
                cpu::matmul(x.data(), m, k, w.bytes.data(), dt, n, bias.data(), full.data());
                for (int64_t mb = 1; mb <= 9; ++mb) {
                    const int64_t i0 = (mb * 5) % (m - mb + 1);
                    std::vector<float> yb(static_cast<size_t>(mb * n), NAN);
                    cpu::matmul(x.data() + i0 * k, mb, k, w.bytes.data(), dt, n, bias.data(), yb.data());
                    ASSERT_EQ(0, std::memcmp(yb.data(), full.data() + i0 * n, yb.size() * 4))
                        << GetParam() << " " << dtype_name(dt) << " k=" << k << " n=" << n << " m=" << mb;
                }
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Isa, IsaTest, ::testing::Values("scalar", "avx2", "avx512", "amx"),
                         [](const auto& p) { return std::string(p.param); });

TEST(KernelsDispatch, NamesAndOverride) {
    const std::string start(cpu::isa_name());
    EXPECT_TRUE(start == "scalar" || start == "avx2" || start == "avx512" || start == "amx") << start;
    EXPECT_TRUE(cpu::isa_available("scalar"));
    EXPECT_FALSE(cpu::isa_available("sse9"));
    EXPECT_FALSE(cpu::set_isa("sse9"));
    EXPECT_EQ(cpu::isa_name(), start);
    ASSERT_TRUE(cpu::set_isa("scalar"));
    EXPECT_EQ(cpu::isa_name(), "scalar");
    ASSERT_TRUE(cpu::set_isa(start));
#if defined(__x86_64__)
    // On x86-64 the start-up choice is the best path the CPU has (unless AG_CPU_ISA says otherwise).
    if (!std::getenv("AG_CPU_ISA")) {
        const char* best = cpu::isa_available("amx")      ? "amx"
                           : cpu::isa_available("avx512") ? "avx512"
                           : cpu::isa_available("avx2")   ? "avx2"
                                                          : "scalar";
        EXPECT_EQ(start, best);
    }
#endif
}

TEST(ActivationQuant, Q8KRoundTrip) {
    std::mt19937 rng(5);
    auto x = randn(1024, rng, 3.0f);
    x[17] = 0.0f;
    std::fill(x.begin() + 768, x.end(), 0.0f);  // an all-zero block
    std::vector<quant::BlockQ8_K> q(4);
    quant::quantize_row_q8_k(x.data(), q.data(), 1024);
    for (int b = 0; b < 4; ++b) {
        float amax = 0.0f;
        for (int i = 0; i < 256; ++i) amax = std::max(amax, std::fabs(x[b * 256 + i]));
        EXPECT_FLOAT_EQ(q[b].d, amax / 127.0f);
        int peak = 0;
        for (int i = 0; i < 256; ++i) {
            const float v = x[b * 256 + i];
            EXPECT_LE(std::fabs(q[b].d * q[b].qs[i] - v), q[b].d * 0.5f + 1e-6f) << b << " " << i;
            peak = std::max(peak, std::abs(int{q[b].qs[i]}));
        }
        EXPECT_EQ(peak, amax > 0 ? 127 : 0);
        for (int g = 0; g < 16; ++g) {
            int s = 0;
            for (int i = 0; i < 16; ++i) s += q[b].qs[g * 16 + i];
            EXPECT_EQ(q[b].bsums[g], s);
        }
    }
    EXPECT_EQ(q[3].d, 0.0f);
}

TEST(ActivationQuant, Q8_0RoundTripAndTiesToEven) {
    std::mt19937 rng(6);
    auto x = randn(96, rng);
    // A block whose max is 127: exact quants, and 0.5 / 2.5 / -1.5 ties round to even.
    for (int i = 64; i < 96; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i - 80);
    x[64] = 127.0f;
    x[65] = 0.5f;
    x[66] = 2.5f;
    x[67] = -1.5f;
    std::vector<ref::ActQ8_0> q(3);
    ref::quantize_act_q8_0(x.data(), q.data(), 96);
    for (int b = 0; b < 2; ++b) {
        for (int i = 0; i < 32; ++i) {
            EXPECT_LE(std::fabs(q[b].d * q[b].qs[i] - x[b * 32 + i]), q[b].d * 0.5f + 1e-6f);
        }
    }
    EXPECT_EQ(q[2].d, 1.0f);
    EXPECT_EQ(q[2].qs[0], 127);
    EXPECT_EQ(q[2].qs[1], 0);
    EXPECT_EQ(q[2].qs[2], 2);
    EXPECT_EQ(q[2].qs[3], -2);
    EXPECT_EQ(q[2].qs[4], 4 + 64 - 80);
}

}  // namespace
}  // namespace ag::kernels
