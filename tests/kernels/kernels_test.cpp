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

TEST(Kernels, AttentionIsCausalAndGroupsContiguously) {
    // n_head 4, n_head_kv 2: heads 0,1 -> kv 0; heads 2,3 -> kv 1. With one query that sees one
    // key, the output is exactly that key's v row.
    const int64_t d = 2;
    std::vector<float> q(4 * d, 1.0f), k(2 * d, 0.5f), v = {1, 2, 3, 4};
    std::vector<float> o(4 * d);
    ref::attention(q.data(), k.data(), v.data(), o.data(), 1, 1, 4, 2, d, 1.0f);
    EXPECT_EQ(o, (std::vector<float>{1, 2, 1, 2, 3, 4, 3, 4}));
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
