// EncoderCache: LRU by bytes over (image hash, grid).
#include <gtest/gtest.h>

#include "engine/encoder_cache.h"

namespace ag::engine {
namespace {

ImageEmbeds embeds(size_t n_floats, float value) {
    return std::make_shared<const std::vector<float>>(n_floats, value);
}

TEST(EncoderCache, FindsByHashAndGridOnly) {
    EncoderCache c(1 << 20);
    c.put({7, 1, 4, 6}, embeds(10, 1.0f));
    ASSERT_NE(c.find({7, 1, 4, 6}), nullptr);
    EXPECT_EQ((*c.find({7, 1, 4, 6}))[0], 1.0f);
    EXPECT_EQ(c.find({7, 1, 6, 4}), nullptr);  // same pixels hash, other grid
    EXPECT_EQ(c.find({8, 1, 4, 6}), nullptr);
    EXPECT_EQ(c.bytes(), 40);
}

TEST(EncoderCache, EvictsLeastRecentlyUsedWithinCapacity) {
    EncoderCache c(3 * 400);  // three entries of 100 floats
    for (uint64_t h = 1; h <= 3; ++h) c.put({h, 1, 2, 2}, embeds(100, static_cast<float>(h)));
    ASSERT_NE(c.find({1, 1, 2, 2}), nullptr);  // 1 becomes the most recent
    c.put({4, 1, 2, 2}, embeds(100, 4.0f));     // evicts 2, the least recent
    EXPECT_EQ(c.find({2, 1, 2, 2}), nullptr);
    EXPECT_NE(c.find({1, 1, 2, 2}), nullptr);
    EXPECT_NE(c.find({3, 1, 2, 2}), nullptr);
    EXPECT_NE(c.find({4, 1, 2, 2}), nullptr);
    EXPECT_EQ(c.size(), 3u);
    EXPECT_EQ(c.bytes(), 1200);
    c.put({3, 1, 2, 2}, embeds(200, 5.0f));  // replacing an entry re-counts its size
    EXPECT_LE(c.bytes(), 1200);
    EXPECT_EQ((*c.find({3, 1, 2, 2}))[0], 5.0f);
}

TEST(EncoderCache, ZeroCapacityOrOversizedEntryKeepsNothing) {
    EncoderCache none(0);
    none.put({1, 1, 2, 2}, embeds(1, 1.0f));
    EXPECT_EQ(none.find({1, 1, 2, 2}), nullptr);
    EncoderCache small(100);
    small.put({1, 1, 2, 2}, embeds(10, 1.0f));
    small.put({2, 1, 2, 2}, embeds(1000, 1.0f));  // larger than the cache: not kept, no eviction
    EXPECT_EQ(small.find({2, 1, 2, 2}), nullptr);
    EXPECT_NE(small.find({1, 1, 2, 2}), nullptr);
    EXPECT_EQ(small.bytes(), 40);
}

TEST(EncoderCache, EntriesOutliveEvictionWhileARequestHoldsThem) {
    EncoderCache c(400);
    c.put({1, 1, 2, 2}, embeds(100, 1.0f));
    ImageEmbeds held = c.find({1, 1, 2, 2});
    c.put({2, 1, 2, 2}, embeds(100, 2.0f));  // evicts 1
    EXPECT_EQ(c.find({1, 1, 2, 2}), nullptr);
    ASSERT_NE(held, nullptr);
    EXPECT_EQ((*held)[99], 1.0f);
}

}  // namespace
}  // namespace ag::engine
