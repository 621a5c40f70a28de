// model::KvStorage: bytes per token per dtype, and int4's block life cycle (open f32 rows, keys
// sealed per channel when the block's last slot is written, rows dropped after the step or when
// the block is freed, and reused).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "model/kv_cache.h"

namespace ag::model {
namespace {

TEST(KvStorage, BytesPerTokenOfAutoGlmPhone9B) {
    // 40 layers, 2 kv heads of 128, blocks of 16: K and V over every layer.
    const auto per_token = [](KvDType t) { return KvStorage::bytes_per_token(40, 2, 128, 16, t); };
    EXPECT_EQ(per_token(KvDType::kF32), 81920.0);
    EXPECT_EQ(per_token(KvDType::kBF16), 40960.0);
    EXPECT_EQ(per_token(KvDType::kInt8), 21120.0);
    // int4: keys 64 code bytes + 128 (f16 scale, f16 min) per block of 16 = 96; values 64 + 4 × 4.
    EXPECT_EQ(per_token(KvDType::kInt4), 40.0 * 2 * (96 + 80));
    KvStorage s(40, 2, 128, 16, 3, KvDType::kInt4);
    EXPECT_EQ(s.token_bytes(), 14080u);
    EXPECT_EQ(s.bytes(), 3u * 16 * 14080);
}

TEST(KvStorage, Int4BlocksOpenSealAndRelease) {
    constexpr int64_t kLayers = 2, kHeads = 2, kD = 32, kBs = 4;
    KvStorage s(kLayers, kHeads, kD, kBs, 3, KvDType::kInt4);
    std::mt19937 rng(5);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> k(static_cast<size_t>(kBs * kHeads * kD)), v(k.size());
    for (auto& x : k) x = nd(rng);
    for (auto& x : v) x = nd(rng);
    const auto row = [&](const std::vector<float>& a, int64_t t) { return a.data() + t * kHeads * kD; };

    // Block 1 (slots 4..7): three tokens leave it open, its rows read back exactly.
    for (int64_t t = 0; t < 3; ++t) {
        for (int64_t l = 0; l < kLayers; ++l) s.write(l, kBs + t, row(k, t), row(v, t));
    }
    const KvView kv = s.k_view(1);
    ASSERT_GE(kv.open_index[1], 0);
    EXPECT_EQ(kv.open_index[2], -1);
    const float* open = kv.open + kv.open_index[1] * kBs * kHeads * kD;
    EXPECT_EQ(std::vector<float>(open, open + 3 * kHeads * kD), std::vector<float>(k.begin(), k.begin() + 3 * kHeads * kD));
    const size_t open_bytes = s.open_bytes();
    EXPECT_GT(open_bytes, 0u);

    // The last slot seals the keys per channel; the rows stay until the step is over.
    for (int64_t l = 0; l < kLayers; ++l) s.write(l, kBs + 3, row(k, 3), row(v, 3));
    std::vector<uint8_t> codes(static_cast<size_t>(kBs * kHeads) * kv_key_head_bytes(KvDType::kInt4, kD));
    std::vector<uint8_t> meta(static_cast<size_t>(kHeads) * kv_key_block_meta_bytes(KvDType::kInt4, kD));
    const size_t kb = kv_key_head_bytes(KvDType::kInt4, kD);
    for (int64_t h = 0; h < kHeads; ++h) {
        kv_quantize_key_block(k.data() + h * kD, kHeads * kD, kBs, kD, codes.data() + h * kb,
                              static_cast<int64_t>(kHeads * kb), meta.data() + h * meta.size() / kHeads);
    }
    const KvView sealed = s.k_view(1);
    const auto* stored = static_cast<const uint8_t*>(sealed.data) + kBs * kHeads * kb;
    EXPECT_EQ(std::vector<uint8_t>(stored, stored + codes.size()), codes);
    EXPECT_EQ(std::vector<uint8_t>(sealed.key_meta + meta.size(), sealed.key_meta + 2 * meta.size()), meta);
    EXPECT_GE(sealed.open_index[1], 0);
    s.finish_step();
    EXPECT_EQ(s.k_view(0).open_index[1], -1);

    // A partial block freed by its sequence gives its rows back; the next block reuses them.
    for (int64_t l = 0; l < kLayers; ++l) s.write(l, 2 * kBs, row(k, 0), row(v, 0));
    EXPECT_GE(s.k_view(0).open_index[2], 0);
    s.release(2);
    EXPECT_EQ(s.k_view(0).open_index[2], -1);
    for (int64_t l = 0; l < kLayers; ++l) s.write(l, 0, row(k, 0), row(v, 0));
    EXPECT_GE(s.k_view(0).open_index[0], 0);
    EXPECT_EQ(s.open_bytes(), open_bytes);
    s.release(1);  // sealed and closed already: nothing to do
    s.release(0);
    EXPECT_EQ(s.k_view(0).open_index[0], -1);
}

TEST(KvStorage, OpenRowsSetAsideAreUsedBeforeMoreAreAdded) {
    constexpr int64_t kLayers = 2, kHeads = 2, kD = 32, kBs = 4;
    KvStorage s(kLayers, kHeads, kD, kBs, 6, KvDType::kInt4);
    const auto one = static_cast<size_t>(KvStorage::open_block_bytes(kLayers, kHeads, kD, kBs, KvDType::kInt4));
    EXPECT_EQ(one, static_cast<size_t>(2 * 4 * kLayers * kBs * kHeads * kD));
    s.reserve_open(3);
    EXPECT_EQ(s.open_bytes(), 3 * one);
    std::vector<float> k(static_cast<size_t>(kHeads * kD), 0.5f), v(k.size(), -0.5f);
    for (int64_t b = 0; b < 3; ++b) {  // three blocks open (one slot each) fit the reserve
        for (int64_t l = 0; l < kLayers; ++l) s.write(l, b * kBs, k.data(), v.data());
    }
    EXPECT_EQ(s.open_bytes(), 3 * one);
    for (int64_t l = 0; l < kLayers; ++l) s.write(l, 3 * kBs, k.data(), v.data());
    EXPECT_EQ(s.open_bytes(), 4 * one);  // a fourth is added, not refused
    const KvView kv = s.k_view(1);
    for (int32_t b = 0; b < 4; ++b) {
        ASSERT_GE(kv.open_index[b], 0);
        EXPECT_EQ(kv.open[kv.open_index[b] * kBs * kHeads * kD], 0.5f);
    }
    s.reserve_open(2);  // never shrinks
    EXPECT_EQ(s.open_bytes(), 4 * one);
}

TEST(KvStorage, OtherDtypesHaveNoOpenRows) {
    KvStorage s(1, 1, 16, 4, 2, KvDType::kInt8);
    std::vector<float> k(16, 1.0f), v(16, 2.0f);
    s.write(0, 5, k.data(), v.data());
    EXPECT_EQ(s.k_view(0).open, nullptr);
    EXPECT_EQ(s.open_bytes(), 0u);
    s.reserve_open(4);
    EXPECT_EQ(s.open_bytes(), 0u);
    EXPECT_EQ(KvStorage::open_block_bytes(1, 1, 16, 4, KvDType::kInt8), 0.0);
    s.release(1);
    s.finish_step();
}

}  // namespace
}  // namespace ag::model
