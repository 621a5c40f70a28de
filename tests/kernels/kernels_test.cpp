// Every CPU kernel against its kernels/ref twin on random shapes with odd tails.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"
#include "tensor/dtype.h"

namespace ag::kernels {
namespace {

std::vector<float> random_vec(size_t n, std::mt19937& rng, float scale = 1.0f) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    float m = 0.0f;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

TEST(Kernels, MatmulMatchesRefAllDtypes) {
    std::mt19937 rng(1);
    for (DType dt : {DType::kF32, DType::kBF16, DType::kF16}) {
        for (auto [m, k, n] : {std::tuple{1, 7, 5}, {3, 64, 33}, {5, 129, 17}, {2, 8, 16}}) {
            auto x = random_vec(static_cast<size_t>(m * k), rng);
            auto wf = random_vec(static_cast<size_t>(n * k), rng);
            auto bias = random_vec(static_cast<size_t>(n), rng);
            std::vector<uint16_t> wh(wf.size());
            const void* w = wf.data();
            if (dt != DType::kF32) {
                for (size_t i = 0; i < wf.size(); ++i)
                    wh[i] = dt == DType::kBF16 ? f32_to_bf16(wf[i]) : f32_to_f16(wf[i]);
                w = wh.data();
            }
            std::vector<float> y0(static_cast<size_t>(m * n)), y1(y0.size());
            ref::matmul(x.data(), m, k, w, dt, n, bias.data(), y0.data());
            cpu::matmul(x.data(), m, k, w, dt, n, bias.data(), y1.data());
            EXPECT_LT(max_abs_diff(y0, y1), 1e-4f) << m << "x" << k << "x" << n;
        }
    }
}

TEST(Kernels, PagedAttentionMatchesRef) {
    // Keys/values scattered over shuffled blocks of a pool must give the contiguous result.
    std::mt19937 rng(2);
    for (auto [n_q, n_kv, n_head, n_head_kv, d, bs] :
         {std::tuple{1, 1, 2, 1, 8, 4}, {4, 4, 4, 2, 16, 2}, {3, 10, 6, 1, 13, 3},
          {1, 17, 4, 4, 32, 16}, {5, 33, 8, 2, 16, 5}, {7, 40, 16, 2, 128, 16},
          {2, 37, 8, 2, 64, 8}, {1, 70, 16, 2, 128, 16}, {3, 19, 4, 2, 40, 4}}) {
        const int64_t row = n_head_kv * d;
        auto q = random_vec(static_cast<size_t>(n_q * n_head * d), rng);
        auto k = random_vec(static_cast<size_t>(n_kv * row), rng);
        auto v = random_vec(static_cast<size_t>(n_kv * row), rng);
        const int64_t n_blocks = (n_kv + bs - 1) / bs;
        std::vector<int32_t> table(static_cast<size_t>(n_blocks));
        for (int64_t b = 0; b < n_blocks; ++b) table[static_cast<size_t>(b)] = static_cast<int32_t>(b + 1);
        std::shuffle(table.begin(), table.end(), rng);
        std::vector<float> kc(static_cast<size_t>((n_blocks + 1) * bs * row), 99.0f), vc(kc.size(), 99.0f);
        for (int64_t j = 0; j < n_kv; ++j) {
            const int64_t slot = table[static_cast<size_t>(j / bs)] * bs + j % bs;
            std::copy_n(k.begin() + j * row, row, kc.begin() + slot * row);
            std::copy_n(v.begin() + j * row, row, vc.begin() + slot * row);
        }
        std::vector<float> o0(q.size()), o1(q.size());
        const float scale = 1.0f / std::sqrt(static_cast<float>(d));
        ref::attention(q.data(), k.data(), v.data(), o0.data(), n_q, n_kv, n_head, n_head_kv, d, scale);
        cpu::attention_paged(q.data(), kc.data(), vc.data(), table.data(), bs, o1.data(), n_q, n_kv,
                             n_head, n_head_kv, d, scale);
        EXPECT_LT(max_abs_diff(o0, o1), 1e-5f);
    }
}

TEST(Kernels, PagedAttentionIsChunkInvariant) {
    // A whole prefill and one query at a time (decode against the same cache) agree bit for bit,
    // for the vector paths (d 128, 64) and the generic one (d 40).
    std::mt19937 rng(5);
    for (auto [n_kv, n_head, n_head_kv, d] : {std::tuple{37, 16, 2, 128}, {21, 8, 2, 64}, {18, 4, 1, 40}}) {
        const int64_t row = n_head_kv * d, bs = 4;
        const int64_t n_blocks = (n_kv + bs - 1) / bs;
        auto kc = random_vec(static_cast<size_t>(n_blocks * bs * row), rng);
        auto vc = random_vec(kc.size(), rng);
        std::vector<int32_t> table(static_cast<size_t>(n_blocks));
        for (int64_t b = 0; b < n_blocks; ++b) table[static_cast<size_t>(b)] = static_cast<int32_t>(n_blocks - 1 - b);
        auto q = random_vec(static_cast<size_t>(n_kv * n_head * d), rng);
        std::vector<float> all(q.size()), one(q.size());
        const float scale = 0.1f;
        cpu::attention_paged(q.data(), kc.data(), vc.data(), table.data(), bs, all.data(), n_kv, n_kv,
                             n_head, n_head_kv, d, scale);
        for (int64_t i = 0; i < n_kv; ++i) {
            const int64_t off = i * n_head * d;
            cpu::attention_paged(q.data() + off, kc.data(), vc.data(), table.data(), bs,
                                 one.data() + off, 1, i + 1, n_head, n_head_kv, d, scale);
        }
        EXPECT_EQ(all, one) << "d " << d;
    }
}

// Causal GQA attention written out directly (double precision): query i of n_q new ones sits at
// position n_kv - n_q + i and sees keys 0..that position; head h reads kv head h / (n_head /
// n_head_kv).
std::vector<float> attention_by_hand(const std::vector<float>& q, const std::vector<float>& k,
                                     const std::vector<float>& v, int64_t n_q, int64_t n_kv,
                                     int64_t n_head, int64_t n_head_kv, int64_t d, float scale) {
    std::vector<float> o(static_cast<size_t>(n_q * n_head * d));
    for (int64_t i = 0; i < n_q; ++i) {
        const int64_t last = n_kv - n_q + i;
        for (int64_t h = 0; h < n_head; ++h) {
            const int64_t g = h / (n_head / n_head_kv);
            std::vector<double> s(static_cast<size_t>(last + 1));
            double mx = -1e300, sum = 0;
            for (int64_t j = 0; j <= last; ++j) {
                double dot = 0;
                for (int64_t c = 0; c < d; ++c) {
                    dot += static_cast<double>(q[static_cast<size_t>((i * n_head + h) * d + c)]) *
                           k[static_cast<size_t>((j * n_head_kv + g) * d + c)];
                }
                s[static_cast<size_t>(j)] = dot * scale;
                mx = std::max(mx, s[static_cast<size_t>(j)]);
            }
            for (auto& x : s) sum += (x = std::exp(x - mx));
            for (int64_t c = 0; c < d; ++c) {
                double acc = 0;
                for (int64_t j = 0; j <= last; ++j) {
                    acc += s[static_cast<size_t>(j)] * v[static_cast<size_t>((j * n_head_kv + g) * d + c)];
                }
                o[static_cast<size_t>((i * n_head + h) * d + c)] = static_cast<float>(acc / sum);
            }
        }
    }
    return o;
}

TEST(Kernels, AttentionIsCausalAndGroupsContiguously) {
    // Several queries over many keys, GQA groups of 2 and 4, a prefill (n_q == n_kv) and a
    // chunk after cached keys (n_q < n_kv): ref and cpu equal the direct formula, and keys or
    // values a query must not see (later positions, other kv heads) do not change its output.
    std::mt19937 rng(9);
    for (auto [n_q, n_kv, n_head, n_head_kv, d] :
         {std::tuple{6, 6, 4, 2, 16}, {5, 23, 8, 2, 128}, {9, 9, 8, 2, 64}, {3, 40, 4, 1, 40}}) {
        const int64_t row = n_head_kv * d;
        auto q = random_vec(static_cast<size_t>(n_q * n_head * d), rng);
        auto k = random_vec(static_cast<size_t>(n_kv * row), rng);
        auto v = random_vec(k.size(), rng);
        const float scale = 1.0f / std::sqrt(static_cast<float>(d));
        const auto want = attention_by_hand(q, k, v, n_q, n_kv, n_head, n_head_kv, d, scale);
        std::vector<float> o_ref(want.size()), o_cpu(want.size());
        ref::attention(q.data(), k.data(), v.data(), o_ref.data(), n_q, n_kv, n_head, n_head_kv,
                       d, scale);
        std::vector<int32_t> table{0};
        cpu::attention_paged(q.data(), k.data(), v.data(), table.data(), n_kv, o_cpu.data(), n_q,
                             n_kv, n_head, n_head_kv, d, scale);
        EXPECT_LT(max_abs_diff(o_ref, want), 1e-5f);
        EXPECT_LT(max_abs_diff(o_cpu, want), 1e-5f);
        // Query 0 (position n_kv - n_q) must ignore every later key and value.
        auto k2 = k, v2 = v;
        for (int64_t j = n_kv - n_q + 1; j < n_kv; ++j) {
            for (int64_t c = 0; c < row; ++c) {
                k2[static_cast<size_t>(j * row + c)] = 50.0f;
                v2[static_cast<size_t>(j * row + c)] = -1e3f;
            }
        }
        std::vector<float> o2(want.size());
        cpu::attention_paged(q.data(), k2.data(), v2.data(), table.data(), n_kv, o2.data(), n_q,
                             n_kv, n_head, n_head_kv, d, scale);
        ref::attention(q.data(), k2.data(), v2.data(), o_ref.data(), n_q, n_kv, n_head,
                       n_head_kv, d, scale);
        for (int64_t c = 0; c < n_head * d; ++c) {
            EXPECT_EQ(o2[static_cast<size_t>(c)], o_cpu[static_cast<size_t>(c)]) << c;
            EXPECT_NEAR(o_ref[static_cast<size_t>(c)], want[static_cast<size_t>(c)], 1e-5f);
        }
    }
}

TEST(Kernels, FullAttentionSeesEveryKey) {
    // Vision-tower attention: L queries over the same L keys, no mask, rows of packed q | k | v
    // (stride 3·H·d). Each query must equal the direct formula over all L keys (attention_by_hand
    // of one query at the last position), for ref and for the blocked CPU kernel: lengths around
    // the 32-key padding and 64-key blocks, head dims that are and are not multiples of 16, and
    // large scores (q × 4) so that the running max changes between key blocks.
    std::mt19937 rng(21);
    for (auto [L, H, d, qmul] : {std::tuple{1, 1, 32, 1.0f}, {7, 2, 32, 1.0f}, {33, 2, 32, 4.0f},
                                 {64, 1, 16, 1.0f}, {100, 3, 40, 1.0f}, {129, 2, 128, 4.0f},
                                 {300, 2, 64, 1.0f}, {70, 1, 8, 2.0f}}) {
        const int64_t stride = 3 * H * d;
        auto qkv = random_vec(static_cast<size_t>(L * stride), rng);
        for (int64_t i = 0; i < L; ++i) {
            for (int64_t c = 0; c < H * d; ++c) qkv[static_cast<size_t>(i * stride + c)] *= qmul;
        }
        std::vector<float> k(static_cast<size_t>(L * H * d)), v(k.size());
        for (int64_t j = 0; j < L; ++j) {
            std::copy_n(qkv.begin() + j * stride + H * d, H * d, k.begin() + j * H * d);
            std::copy_n(qkv.begin() + j * stride + 2 * H * d, H * d, v.begin() + j * H * d);
        }
        const float scale = 1.0f / std::sqrt(static_cast<float>(d));
        std::vector<float> want(static_cast<size_t>(L * H * d));
        for (int64_t i = 0; i < L; ++i) {
            std::vector<float> qi(qkv.begin() + i * stride, qkv.begin() + i * stride + H * d);
            const auto oi = attention_by_hand(qi, k, v, 1, L, H, H, d, scale);
            std::copy(oi.begin(), oi.end(), want.begin() + i * H * d);
        }
        std::vector<float> o_ref(want.size()), o_cpu(want.size(), 7.0f);
        const float* base = qkv.data();
        ref::attention_full(base, base + H * d, base + 2 * H * d, stride, o_ref.data(), H * d, L,
                            H, d, scale);
        cpu::attention_full(base, base + H * d, base + 2 * H * d, stride, o_cpu.data(), H * d, L,
                            H, d, scale);
        EXPECT_LT(max_abs_diff(o_ref, want), 2e-5f) << L << " " << d;
        EXPECT_LT(max_abs_diff(o_cpu, want), 2e-5f) << L << " " << d;
    }
}

TEST(Kernels, RopeRotatesNeighbourPairsOnly) {
    // Pitfall 1/2: with e_{2j} as input only elements 2j, 2j+1 change; dims past the rotary part
    // pass through.
    const int64_t head_dim = 8, n_pairs = 2;
    std::vector<float> x(head_dim, 0.0f);
    x[2] = 1.0f;
    x[6] = 5.0f;
    std::vector<float> c = {0.0f, 0.6f}, s = {1.0f, 0.8f};
    ref::rope_interleaved(x.data(), c.data(), s.data(), 1, 1, head_dim, n_pairs);
    EXPECT_FLOAT_EQ(x[2], 0.6f);
    EXPECT_FLOAT_EQ(x[3], 0.8f);
    EXPECT_FLOAT_EQ(x[6], 5.0f);
    EXPECT_FLOAT_EQ(x[0] + x[1] + x[4] + x[5] + x[7], 0.0f);
}

TEST(Kernels, RowOpsMatchRef) {
    std::mt19937 rng(3);
    const int64_t rows = 7, cols = 37;
    auto x = random_vec(static_cast<size_t>(rows * cols * 2), rng);
    auto w = random_vec(static_cast<size_t>(cols), rng);
    std::vector<float> a(static_cast<size_t>(rows * cols)), b(a.size());
    // rms_norm / silu_mul: vector math (f32 partial sums, polynomial exp) within 1e-6 relative.
    const auto near = [](const std::vector<float>& p, const std::vector<float>& q) {
        for (size_t i = 0; i < p.size(); ++i) {
            ASSERT_NEAR(p[i], q[i], 1e-6f * (1.0f + std::fabs(p[i]))) << i;
        }
    };
    for (int64_t c : {cols, int64_t{64}, int64_t{2048}}) {
        auto xc = random_vec(static_cast<size_t>(rows * c * 2), rng);
        xc[3] = 40.0f;  // large |g|: the sigmoid saturates on both sides
        xc[4] = -95.0f;
        auto wc = random_vec(static_cast<size_t>(c), rng);
        std::vector<float> p(static_cast<size_t>(rows * c)), q(p.size());
        ref::rms_norm(xc.data(), wc.data(), p.data(), rows, c, 1e-5f);
        cpu::rms_norm(xc.data(), wc.data(), q.data(), rows, c, 1e-5f);
        near(p, q);
        ref::silu_mul(xc.data(), p.data(), rows, c);
        cpu::silu_mul(xc.data(), q.data(), rows, c);
        near(p, q);
    }
    auto cs = random_vec(static_cast<size_t>(rows * 3), rng), sn = random_vec(cs.size(), rng);
    auto y0 = x, y1 = x;
    ref::rope_interleaved(y0.data(), cs.data(), sn.data(), rows, 2, 9, 3);
    cpu::rope_interleaved(y1.data(), cs.data(), sn.data(), rows, 2, 9, 3);
    EXPECT_EQ(y0, y1);
}

}  // namespace
}  // namespace ag::kernels

namespace ag::kernels {
namespace {

// The vectorized GELU (A&S erf) against the exact formula with std::erf in double, over the
// range where it matters, the tails, and a length with a scalar tail.
TEST(Kernels, GeluErfMatchesTheExactFormula) {
    std::vector<float> x;
    for (int i = -20000; i <= 20000; ++i) x.push_back(static_cast<float>(i) * 5e-4f);  // [-10, 10]
    for (float v : {-1e4f, -88.0f, -1e-30f, 0.0f, 1e-30f, 88.0f, 1e4f}) x.push_back(v);
    x.push_back(0.3f);  // odd length: a scalar tail
    std::vector<float> y = x;
    cpu::gelu_erf(y.data(), static_cast<int64_t>(y.size()));
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        const double v = x[i];
        const double want = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
        const double err = std::abs(y[i] - want) / std::max(1.0, std::abs(v));
        worst = std::max(worst, err);
        ASSERT_TRUE(std::isfinite(y[i])) << x[i];
    }
    EXPECT_LT(worst, 3e-7);
}

}  // namespace
}  // namespace ag::kernels
