// KV cache dtypes (tensor/kv_quant.h): record formats against their definitions, and the paged
// attention over every dtype against its ref twin, chunk-invariant like the f32 path.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"
#include "tensor/dtype.h"
#include "tensor/kv_quant.h"

namespace ag::kernels {
namespace {

constexpr KvDType kAll[] = {KvDType::kF32, KvDType::kBF16, KvDType::kF16, KvDType::kInt8,
                            KvDType::kInt4};

std::vector<float> randn(size_t n, std::mt19937& rng, float scale = 1.0f) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

std::vector<float> round_trip(KvDType t, const std::vector<float>& x) {
    const auto d = static_cast<int64_t>(x.size());
    std::vector<uint8_t> rec(kv_head_bytes(t, d));
    kv_quantize_head(t, x.data(), d, rec.data());
    std::vector<float> y(x.size());
    kv_dequantize_head(t, rec.data(), d, y.data());
    return y;
}

TEST(KvQuant, NamesSizesAndAuto) {
    EXPECT_EQ(parse_kv_dtype("auto"), KvDType::kBF16);
    EXPECT_EQ(parse_kv_dtype("int8"), KvDType::kInt8);
    EXPECT_EQ(parse_kv_dtype("fp8"), std::nullopt);
    for (KvDType t : kAll) EXPECT_EQ(parse_kv_dtype(kv_dtype_name(t)), t);
    // AutoGLM-Phone-9B heads (d 128): bytes per token and layer (2 kv heads, K and V).
    EXPECT_EQ(kv_head_bytes(KvDType::kF32, 128), 512u);
    EXPECT_EQ(kv_head_bytes(KvDType::kBF16, 128), 256u);
    EXPECT_EQ(kv_head_bytes(KvDType::kInt8, 128), 132u);
    EXPECT_EQ(kv_head_bytes(KvDType::kInt4, 128), 80u);  // 64 code bytes + 4 × (f16, f16)
    EXPECT_FALSE(kv_dtype_supports(KvDType::kInt4, 7));
    EXPECT_TRUE(kv_dtype_supports(KvDType::kInt8, 7));
}

TEST(KvQuant, RecordsFollowTheirDefinition) {
    std::mt19937 rng(3);
    for (int64_t d : {8, 40, 64, 128}) {
        const auto x = randn(static_cast<size_t>(d), rng, 2.0f);
        EXPECT_EQ(round_trip(KvDType::kF32, x), x);
        const auto b = round_trip(KvDType::kBF16, x), h = round_trip(KvDType::kF16, x);
        for (size_t i = 0; i < x.size(); ++i) {
            EXPECT_EQ(b[i], bf16_to_f32(f32_to_bf16(x[i])));
            EXPECT_EQ(h[i], f16_to_f32(f32_to_f16(x[i])));
        }
        // int8: scale = amax / 127, codes round(x / scale): error at most scale / 2.
        float amax = 0.0f;
        for (float v : x) amax = std::max(amax, std::fabs(v));
        const auto q8 = round_trip(KvDType::kInt8, x);
        for (size_t i = 0; i < x.size(); ++i) EXPECT_LE(std::fabs(q8[i] - x[i]), amax / 127.0f * 0.5f + 1e-6f);
        // The largest magnitude is exact up to f32 rounding (code ±127).
        const auto big = std::max_element(x.begin(), x.end(), [](float a, float c) {
            return std::fabs(a) < std::fabs(c);
        }) - x.begin();
        EXPECT_NEAR(q8[static_cast<size_t>(big)], x[static_cast<size_t>(big)], 1e-5f);
        // int4: per group of 32 (or the whole head), min + scale · code with 16 levels.
        const int64_t g = kv_int4_group(d);
        const auto q4 = round_trip(KvDType::kInt4, x);
        for (int64_t g0 = 0; g0 < d; g0 += g) {
            const auto [lo, hi] = std::minmax_element(x.begin() + g0, x.begin() + g0 + g);
            const float step = (*hi - *lo) / 15.0f;
            for (int64_t i = g0; i < g0 + g; ++i) {
                EXPECT_LE(std::fabs(q4[static_cast<size_t>(i)] - x[static_cast<size_t>(i)]),
                          step * 0.5f + 2e-3f * (std::fabs(*lo) + std::fabs(*hi)))
                    << "d " << d << " i " << i;
            }
        }
    }
    // A zero head stays zero in every format (no division by a zero scale).
    for (KvDType t : kAll) {
        const std::vector<float> z(32, 0.0f);
        EXPECT_EQ(round_trip(t, z), z) << kv_dtype_name(t);
    }
}

// Squared error of the plain int4 fit (f16 min and (max − min) / 15, nearest codes) of n values.
double minmax_int4_sq_error(const float* x, int64_t n, int64_t stride) {
    float lo = x[0], hi = x[0];
    for (int64_t i = 0; i < n; ++i) {
        lo = std::min(lo, x[i * stride]);
        hi = std::max(hi, x[i * stride]);
    }
    const float mn = f16_to_f32(f32_to_f16(lo)), sc = f16_to_f32(f32_to_f16((hi - lo) / 15.0f));
    double e = 0;
    for (int64_t i = 0; i < n; ++i) {
        const float c = std::clamp(std::nearbyint((x[i * stride] - mn) / sc), 0.0f, 15.0f);
        e += std::pow(static_cast<double>(x[i * stride]) - (mn + sc * c), 2);
    }
    return e;
}

TEST(KvQuant, Int4FitsAtLeastAsWellAsMinMax) {
    std::mt19937 rng(4);
    double fit = 0, minmax = 0;
    for (int rep = 0; rep < 50; ++rep) {
        const auto x = randn(64, rng, 1.5f);
        const auto y = round_trip(KvDType::kInt4, x);
        for (int64_t g0 = 0; g0 < 64; g0 += 32) {
            double e = 0;
            for (int64_t i = g0; i < g0 + 32; ++i) e += std::pow(static_cast<double>(x[static_cast<size_t>(i)]) - y[static_cast<size_t>(i)], 2);
            const double m = minmax_int4_sq_error(x.data() + g0, 32, 1);
            EXPECT_LE(e, m * (1 + 1e-9));
            fit += e;
            minmax += m;
        }
    }
    EXPECT_LT(fit, 0.95 * minmax);  // the least-squares search finds better fits than min/max
}

// KIVI keys: each channel gets its own scale over the block's tokens, so an outlier channel costs
// the other channels nothing (per-token groups spread its range over the whole group).
TEST(KvQuant, Int4KeysArePerChannelWithinABlock) {
    constexpr int64_t kN = 16, kD = 64;
    std::mt19937 rng(9);
    auto k = randn(static_cast<size_t>(kN * kD), rng);
    for (int64_t r = 0; r < kN; ++r) k[static_cast<size_t>(r * kD + 5)] *= 50.0f;
    const size_t cb = kv_key_head_bytes(KvDType::kInt4, kD);
    EXPECT_EQ(cb, 32u);
    EXPECT_EQ(kv_key_block_meta_bytes(KvDType::kInt4, kD), 4u * kD);
    std::vector<uint8_t> codes(kN * cb), meta(4 * kD);
    kv_quantize_key_block(k.data(), kD, kN, kD, codes.data(), static_cast<int64_t>(cb), meta.data());
    double err_channel = 0, err_token = 0;
    std::vector<float> x(kD), t(kD);
    for (int64_t r = 0; r < kN; ++r) {
        kv_dequantize_key(codes.data() + r * cb, meta.data(), kD, x.data());
        const std::vector<float> row(k.begin() + r * kD, k.begin() + (r + 1) * kD);
        t = round_trip(KvDType::kInt4, row);
        for (int64_t c = 0; c < kD; ++c) {
            const float v = row[static_cast<size_t>(c)];
            if (c == 5) continue;
            err_channel += std::pow(v - x[static_cast<size_t>(c)], 2);
            if (c < 32) err_token += std::pow(v - t[static_cast<size_t>(c)], 2);
        }
    }
    // Channel c's error is bounded by its own range over the block.
    for (int64_t c = 0; c < kD; ++c) {
        float lo = k[static_cast<size_t>(c)], hi = lo;
        for (int64_t r = 0; r < kN; ++r) {
            lo = std::min(lo, k[static_cast<size_t>(r * kD + c)]);
            hi = std::max(hi, k[static_cast<size_t>(r * kD + c)]);
        }
        for (int64_t r = 0; r < kN; ++r) {
            kv_dequantize_key(codes.data() + r * cb, meta.data(), kD, x.data());
            EXPECT_LE(std::fabs(x[static_cast<size_t>(c)] - k[static_cast<size_t>(r * kD + c)]), (hi - lo) / 15.0f * 1.01f + 1e-3f)
                << "channel " << c;
        }
    }
    EXPECT_LT(err_channel * 10, err_token);  // 63 channels per key vs 31 in the outlier's group
}

// Fills a paged cache of dtype t: slot (table[j / bs] · bs + j % bs) holds key/value j. int4:
// full blocks' keys sealed per channel; every block also open (f32 rows), since the kernel reads
// the block of each query's own position from there; a partial last block's codes stay garbage.
struct Cache {
    std::vector<uint8_t> k, v, k_meta;
    std::vector<float> open_k, open_v;
    std::vector<int32_t> table, open_index;
    KvDType t = KvDType::kF32;
    KvView kv(bool keys) const {
        if (t != KvDType::kInt4) return KvView{keys ? k.data() : v.data(), t};
        return KvView{keys ? k.data() : v.data(), t, keys ? k_meta.data() : nullptr,
                      keys ? open_k.data() : open_v.data(), open_index.data()};
    }
};

Cache make_cache(KvDType t, const std::vector<float>& k, const std::vector<float>& v, int64_t n_kv,
                 int64_t n_head_kv, int64_t d, int64_t bs, std::mt19937& rng) {
    const int64_t n_blocks = (n_kv + bs - 1) / bs;
    Cache c;
    for (int64_t b = 0; b < n_blocks; ++b) c.table.push_back(static_cast<int32_t>(b + 1));
    std::shuffle(c.table.begin(), c.table.end(), rng);
    c.t = t;
    const size_t hb = kv_head_bytes(t, d), kb = kv_key_head_bytes(t, d);
    const size_t mb = kv_key_block_meta_bytes(t, d);
    const auto n_slots = static_cast<size_t>((n_blocks + 1) * bs * n_head_kv);
    c.k.assign(n_slots * kb, 0x5a);
    c.v.assign(n_slots * hb, 0x5a);
    c.k_meta.assign(static_cast<size_t>(n_blocks + 1) * static_cast<size_t>(n_head_kv) * mb, 0x5a);
    const int64_t row = n_head_kv * d;
    for (int64_t j = 0; j < n_kv; ++j) {
        const int64_t slot = c.table[static_cast<size_t>(j / bs)] * bs + j % bs;
        for (int64_t h = 0; h < n_head_kv; ++h) {
            const size_t src = static_cast<size_t>((j * n_head_kv + h) * d);
            if (t != KvDType::kInt4) kv_quantize_head(t, k.data() + src, d, c.k.data() + static_cast<size_t>(slot * n_head_kv + h) * kb);
            kv_quantize_head(t, v.data() + src, d, c.v.data() + static_cast<size_t>(slot * n_head_kv + h) * hb);
        }
    }
    if (t == KvDType::kInt4) {
        // Open rows in reverse block order, so an open index differs from its block id.
        c.open_index.assign(static_cast<size_t>(n_blocks + 1), -1);
        c.open_k.assign(static_cast<size_t>(n_blocks * bs * row), std::nanf(""));
        c.open_v = c.open_k;
        for (int64_t b = 0; b < n_blocks; ++b) {
            const int32_t pb = c.table[static_cast<size_t>(b)];
            const int64_t oi = n_blocks - 1 - b;
            c.open_index[static_cast<size_t>(pb)] = static_cast<int32_t>(oi);
            const int64_t n = std::min(bs, n_kv - b * bs);
            std::copy_n(k.data() + b * bs * row, n * row, c.open_k.data() + oi * bs * row);
            std::copy_n(v.data() + b * bs * row, n * row, c.open_v.data() + oi * bs * row);
            if (n < bs) continue;  // a partial block is never read sealed
            for (int64_t h = 0; h < n_head_kv; ++h) {
                kv_quantize_key_block(k.data() + b * bs * row + h * d, row, bs, d,
                                      c.k.data() + static_cast<size_t>(pb * bs * n_head_kv + h) * kb,
                                      static_cast<int64_t>(static_cast<size_t>(n_head_kv) * kb),
                                      c.k_meta.data() + static_cast<size_t>(pb * n_head_kv + h) * mb);
            }
        }
    }
    return c;
}

TEST(KvAttention, EveryDtypeMatchesRefAndIsChunkInvariant) {
    std::mt19937 rng(11);
    for (KvDType t : kAll) {
        for (auto [n_q, n_kv, n_head, n_head_kv, d, bs] :
             {std::tuple{1, 1, 2, 1, 8, 4}, {4, 4, 4, 2, 16, 2}, {3, 37, 8, 2, 128, 16},
              {5, 33, 8, 2, 64, 5}, {2, 70, 16, 2, 128, 16}, {3, 19, 4, 2, 40, 4},
              {2, 41, 6, 1, 256, 8}, {2, 23, 6, 2, 96, 4}}) {
            const int64_t row = n_head_kv * d;
            const auto q = randn(static_cast<size_t>(n_q * n_head * d), rng);
            const auto k = randn(static_cast<size_t>(n_kv * row), rng);
            const auto v = randn(k.size(), rng);
            const Cache c = make_cache(t, k, v, n_kv, n_head_kv, d, bs, rng);
            const float scale = 1.0f / std::sqrt(static_cast<float>(d));
            std::vector<float> o_ref(q.size()), o_cpu(q.size()), o_one(q.size());
            const KvView kv_k = c.kv(true), kv_v = c.kv(false);
            ref::attention_paged_kv(q.data(), kv_k, kv_v, c.table.data(), bs, o_ref.data(), n_q,
                                    n_kv, n_head, n_head_kv, d, scale);
            cpu::attention_paged(q.data(), kv_k, kv_v, c.table.data(), bs, o_cpu.data(), n_q, n_kv,
                                 n_head, n_head_kv, d, scale);
            float diff = 0.0f;
            for (size_t i = 0; i < q.size(); ++i) diff = std::max(diff, std::fabs(o_ref[i] - o_cpu[i]));
            EXPECT_LT(diff, 1e-5f) << kv_dtype_name(t) << " n_kv " << n_kv << " d " << d;
            // One query at a time (decode against the same cache) gives the same bits.
            for (int64_t i = 0; i < n_q; ++i) {
                const int64_t off = i * n_head * d;
                cpu::attention_paged(q.data() + off, kv_k, kv_v, c.table.data(), bs,
                                     o_one.data() + off, 1, n_kv - n_q + i + 1, n_head, n_head_kv,
                                     d, scale);
            }
            EXPECT_EQ(o_one, o_cpu) << kv_dtype_name(t) << " n_kv " << n_kv << " d " << d;
        }
    }
}

// bf16 and f16 records are read in place and converted in registers: the output is exactly the
// f32 kernel's on the same rows converted beforehand (d with and without a d % 16 tail).
TEST(KvAttention, HalfCachesGiveTheF32KernelsBitsOnTheirValues) {
    std::mt19937 rng(13);
    for (KvDType t : {KvDType::kBF16, KvDType::kF16}) {
        for (auto [n_q, n_kv, n_head, n_head_kv, d, bs] :
             {std::tuple{3, 37, 8, 2, 128, 16}, {2, 70, 16, 2, 64, 16}, {3, 19, 4, 2, 40, 4},
              {1, 9, 2, 1, 8, 4}, {2, 23, 6, 2, 96, 4}}) {
            const auto q = randn(static_cast<size_t>(n_q * n_head * d), rng);
            auto k = randn(static_cast<size_t>(n_kv * n_head_kv * d), rng), v = randn(k.size(), rng);
            if (t == KvDType::kF16) k[3] = 3e-6f;  // an f16 subnormal
            std::vector<float> kr(k.size()), vr(v.size());
            std::vector<uint8_t> rec(kv_head_bytes(t, d));
            for (size_t i = 0; i < k.size(); i += static_cast<size_t>(d)) {
                kv_quantize_head(t, k.data() + i, d, rec.data());
                kv_dequantize_head(t, rec.data(), d, kr.data() + i);
                kv_quantize_head(t, v.data() + i, d, rec.data());
                kv_dequantize_head(t, rec.data(), d, vr.data() + i);
            }
            std::mt19937 r1(rng()), r2 = r1;  // the same block tables
            const Cache half = make_cache(t, k, v, n_kv, n_head_kv, d, bs, r1);
            const Cache full = make_cache(KvDType::kF32, kr, vr, n_kv, n_head_kv, d, bs, r2);
            std::vector<float> a(q.size()), b(q.size());
            const float scale = 1.0f / std::sqrt(static_cast<float>(d));
            cpu::attention_paged(q.data(), half.kv(true), half.kv(false), half.table.data(), bs,
                                 a.data(), n_q, n_kv, n_head, n_head_kv, d, scale);
            cpu::attention_paged(q.data(), full.kv(true), full.kv(false), full.table.data(), bs,
                                 b.data(), n_q, n_kv, n_head, n_head_kv, d, scale);
            EXPECT_EQ(a, b) << kv_dtype_name(t) << " d " << d;
        }
    }
}

TEST(KvAttention, F32ViewIsTheFloatKernel) {
    std::mt19937 rng(12);
    const int64_t n_q = 3, n_kv = 21, n_head = 8, n_head_kv = 2, d = 64, bs = 4;
    const auto q = randn(static_cast<size_t>(n_q * n_head * d), rng);
    const auto k = randn(static_cast<size_t>(n_kv * n_head_kv * d), rng), v = randn(k.size(), rng);
    const Cache c = make_cache(KvDType::kF32, k, v, n_kv, n_head_kv, d, bs, rng);
    std::vector<float> a(q.size()), b(q.size());
    cpu::attention_paged(q.data(), reinterpret_cast<const float*>(c.k.data()),
                         reinterpret_cast<const float*>(c.v.data()), c.table.data(), bs, a.data(),
                         n_q, n_kv, n_head, n_head_kv, d, 0.125f);
    cpu::attention_paged(q.data(), cpu::KvView{c.k.data(), KvDType::kF32},
                         cpu::KvView{c.v.data(), KvDType::kF32}, c.table.data(), bs, b.data(), n_q,
                         n_kv, n_head, n_head_kv, d, 0.125f);
    EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace ag::kernels
