#include "kv/block_pool.h"

#include <algorithm>

#include "base/check.h"

namespace ag::kv {

namespace {
uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}
}  // namespace

BlockKey make_block_key(uint64_t parent_hash, std::span<const int32_t> tokens, uint64_t extra) {
    BlockKey k;
    k.parent_hash = parent_hash;
    k.extra = extra;
    k.tokens.assign(tokens.begin(), tokens.end());
    uint64_t h = mix(0x6167676c6d6b76ull, parent_hash);
    h = mix(h, extra);
    for (int32_t t : tokens) h = mix(h, static_cast<uint32_t>(t));
    k.hash = mix(h, tokens.size());
    return k;
}

BlockPool::BlockPool(int32_t n_blocks)
    : n_blocks_(n_blocks), refs_(static_cast<size_t>(n_blocks), 0),
      free_pos_(static_cast<size_t>(n_blocks)), in_free_(static_cast<size_t>(n_blocks), false),
      keys_(static_cast<size_t>(n_blocks)) {
    AG_CHECK(n_blocks >= 2, "a block pool needs the null block and at least one more");
    for (int32_t b = 1; b < n_blocks; ++b) {
        free_pos_[static_cast<size_t>(b)] = free_.insert(free_.end(), b);
        in_free_[static_cast<size_t>(b)] = true;
        freed_.push_back(b);
    }
}

double BlockPool::usage() const {
    return 1.0 - static_cast<double>(free_.size()) / static_cast<double>(n_blocks_ - 1);
}

std::optional<int32_t> BlockPool::allocate() {
    if (free_.empty()) return std::nullopt;
    const int32_t b = free_.front();
    free_.pop_front();
    in_free_[static_cast<size_t>(b)] = false;
    if (auto& k = keys_[static_cast<size_t>(b)]; k) {  // evict its cached prefix
        auto& v = by_hash_[k->hash];
        v.erase(std::remove(v.begin(), v.end(), b), v.end());
        if (v.empty()) by_hash_.erase(k->hash);
        k.reset();
    }
    refs_[static_cast<size_t>(b)] = 1;
    return b;
}

std::optional<int32_t> BlockPool::lookup(const BlockKey& key) const {
    auto it = by_hash_.find(key.hash);
    if (it == by_hash_.end()) return std::nullopt;
    for (int32_t b : it->second) {
        if (*keys_[static_cast<size_t>(b)] == key) return b;
    }
    return std::nullopt;
}

void BlockPool::ref(int32_t b) {
    AG_CHECK(b > 0 && b < n_blocks_, "bad block id {}", b);
    if (refs_[static_cast<size_t>(b)]++ == 0 && in_free_[static_cast<size_t>(b)]) {
        free_.erase(free_pos_[static_cast<size_t>(b)]);
        in_free_[static_cast<size_t>(b)] = false;
    }
}

void BlockPool::unref(int32_t b) {
    AG_CHECK(b > 0 && b < n_blocks_ && refs_[static_cast<size_t>(b)] > 0, "unref of free block {}", b);
    if (--refs_[static_cast<size_t>(b)] == 0) {
        free_pos_[static_cast<size_t>(b)] = free_.insert(free_.end(), b);
        in_free_[static_cast<size_t>(b)] = true;
        freed_.push_back(b);
    }
}

void BlockPool::cache(int32_t b, BlockKey key) {
    if (keys_[static_cast<size_t>(b)] || lookup(key)) return;
    by_hash_[key.hash].push_back(b);
    keys_[static_cast<size_t>(b)] = std::move(key);
}

}  // namespace ag::kv
