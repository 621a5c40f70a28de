// BlockPool: the KV cache's physical blocks as integer ids with reference counts and a prefix
// cache. Pure bookkeeping: no tensors (the model's KvStorage holds the data).
//
// Invariants: block 0 is the null block and is never handed out. A block with ref count 0 is in
// the free queue; it may still hold a cached prefix (findable by hash) until it is reused.
// The free queue is LRU: blocks freed last are reused last.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ag::kv {

// Identity of a full block's contents: the chained hash and, to rule out collisions, the
// parent's hash and the block's tokens (and an optional extra key, e.g. an image hash).
struct BlockKey {
    uint64_t hash = 0;
    uint64_t parent_hash = 0;
    uint64_t extra = 0;
    std::vector<int32_t> tokens;
    bool operator==(const BlockKey&) const = default;
};

// hash(parent_hash, tokens, extra): 64-bit, order-sensitive (splitmix-style mixing).
BlockKey make_block_key(uint64_t parent_hash, std::span<const int32_t> tokens, uint64_t extra = 0);

class BlockPool {
public:
    explicit BlockPool(int32_t n_blocks);

    int32_t n_blocks() const { return n_blocks_; }
    int32_t n_free() const { return static_cast<int32_t>(free_.size()); }
    // Fraction of usable blocks (all but the null block) with a reference.
    double usage() const;

    // Takes the least recently freed block (dropping its cached key), ref count 1.
    std::optional<int32_t> allocate();
    // A cached block for `key`, if any (ref count untouched).
    std::optional<int32_t> lookup(const BlockKey& key) const;
    void ref(int32_t block);    // 0 -> 1 takes the block out of the free queue
    void unref(int32_t block);  // 1 -> 0 appends it to the free queue (cache kept)
    int32_t ref_count(int32_t block) const { return refs_[static_cast<size_t>(block)]; }
    // Blocks whose ref count reached 0 since the last call (the storage drops per-block state of
    // unfinished blocks, e.g. int4's open rows).
    std::vector<int32_t> take_freed() { return std::exchange(freed_, {}); }
    // Registers a full, computed block under `key` (no-op if the key is already cached).
    void cache(int32_t block, BlockKey key);

private:
    int32_t n_blocks_;
    std::vector<int32_t> refs_;
    std::list<int32_t> free_;
    std::vector<std::list<int32_t>::iterator> free_pos_;
    std::vector<bool> in_free_;
    std::vector<int32_t> freed_;
    std::vector<std::optional<BlockKey>> keys_;           // per block
    std::unordered_map<uint64_t, std::vector<int32_t>> by_hash_;
};

}  // namespace ag::kv
