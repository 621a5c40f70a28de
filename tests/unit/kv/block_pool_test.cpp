// BlockPool: null block, reference counts, LRU reuse, prefix-cache lookup and eviction.
#include <gtest/gtest.h>

#include "kv/block_pool.h"

namespace ag::kv {
namespace {

TEST(BlockPool, NullBlockNeverHandedOut) {
    BlockPool p(4);
    EXPECT_EQ(p.n_free(), 3);
    std::vector<int32_t> got;
    while (auto b = p.allocate()) got.push_back(*b);
    EXPECT_EQ(got, (std::vector<int32_t>{1, 2, 3}));
    EXPECT_DOUBLE_EQ(p.usage(), 1.0);
}

TEST(BlockPool, RefCountsAndLruOrder) {
    BlockPool p(5);
    const int32_t a = *p.allocate(), b = *p.allocate(), c = *p.allocate();
    p.ref(b);
    p.unref(b);
    EXPECT_EQ(p.ref_count(b), 1);
    p.unref(c);  // freed first -> reused first after the never-used block 4
    p.unref(a);
    EXPECT_EQ(*p.allocate(), 4);
    EXPECT_EQ(*p.allocate(), c);
    EXPECT_EQ(*p.allocate(), a);
    EXPECT_FALSE(p.allocate().has_value());
}

// take_freed reports each block whose count reached 0 (the storage drops its per-block state,
// int4's open rows, before the block is written again), once.
TEST(BlockPool, TakeFreedReportsBlocksWhoseCountReachedZero) {
    BlockPool p(5);
    EXPECT_EQ(p.take_freed(), (std::vector<int32_t>{1, 2, 3, 4}));  // all free at the start
    const int32_t a = *p.allocate(), b = *p.allocate();
    p.ref(b);
    p.unref(b);  // 2 -> 1: still held
    EXPECT_TRUE(p.take_freed().empty());
    p.unref(b);
    p.unref(a);
    EXPECT_EQ(p.take_freed(), (std::vector<int32_t>{b, a}));
    EXPECT_TRUE(p.take_freed().empty());
}

TEST(BlockPool, CachedBlocksStayFindableUntilReused) {
    BlockPool p(3);
    const std::vector<int32_t> t = {1, 2, 3, 4};
    const BlockKey k = make_block_key(0, t);
    const int32_t b = *p.allocate();
    p.cache(b, k);
    EXPECT_EQ(p.lookup(k), b);
    p.unref(b);
    EXPECT_EQ(p.lookup(k), b);   // free but cached
    p.ref(b);                    // a hit takes it back out of the free queue
    EXPECT_EQ(p.n_free(), 1);
    p.unref(b);
    const int32_t other = *p.allocate();  // the never-cached block first
    EXPECT_NE(other, b);
    EXPECT_EQ(*p.allocate(), b);          // reuse evicts the cached key
    EXPECT_FALSE(p.lookup(k).has_value());
}

TEST(BlockPool, KeysChainAndCompareExactly) {
    const std::vector<int32_t> t = {5, 6};
    const BlockKey a = make_block_key(0, t), b = make_block_key(a.hash, t);
    EXPECT_NE(a.hash, b.hash);
    EXPECT_NE(make_block_key(0, t, /*extra=*/7).hash, a.hash);  // e.g. a different image
    BlockPool p(4);
    const int32_t x = *p.allocate();
    p.cache(x, a);
    BlockKey forged = b;
    forged.hash = a.hash;  // a colliding hash with different contents is not a hit
    EXPECT_FALSE(p.lookup(forged).has_value());
}

}  // namespace
}  // namespace ag::kv
