// KV storage shared by all sequences: per layer, K and V slots [n_slots, n_head_kv] of head
// records in the cache's KvDType (tensor/kv_quant.h: f32, bf16, f16, int8 + scale, int4 + group
// scales; n_slots = n_blocks · block_size), keys stored after rotation. Which slots belong to
// which sequence is decided elsewhere (kv/ for the server; KvCache below for a single sequence)
// and reaches the model as per-sequence block tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/kv_quant.h"

namespace ag::model {

class KvStorage {
public:
    KvStorage(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, int64_t block_size,
              int64_t n_blocks, KvDType dtype = KvDType::kF32);

    KvDType dtype() const { return dtype_; }
    int64_t block_size() const { return block_size_; }
    int64_t n_blocks() const { return n_blocks_; }
    // Bytes of one slot of one layer's K (or V): n_head_kv head records.
    size_t slot_bytes() const { return static_cast<size_t>(n_head_kv_) * kv_head_bytes(dtype_, head_dim_); }
    // K and V bytes of one token over every layer.
    size_t token_bytes() const { return 2 * k_.size() * slot_bytes(); }
    size_t bytes() const;
    // Adds blocks (existing contents are kept; pointers from k()/v() are invalidated).
    void grow(int64_t n_blocks);

    // Stores one token's keys and values ([n_head_kv, head_dim] f32 each) in `slot` of `layer`.
    void write(int64_t layer, int64_t slot, const float* k, const float* v);

    const void* k(int64_t layer) const { return k_[static_cast<size_t>(layer)].data(); }
    const void* v(int64_t layer) const { return v_[static_cast<size_t>(layer)].data(); }

private:
    int64_t n_head_kv_, head_dim_, block_size_, n_blocks_ = 0;
    KvDType dtype_;
    std::vector<std::vector<uint8_t>> k_, v_;
};

// One sequence's cache for single-request use (CLI, tests): storage plus an identity block table
// that grows geometrically, so appending is amortised O(1) per token.
class KvCache {
public:
    KvCache(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, KvDType dtype = KvDType::kF32);

    int64_t n_tokens() const { return n_tokens_; }
    // Makes room for n_new more tokens.
    void reserve_more(int64_t n_new);
    void commit(int64_t n_new) { n_tokens_ += n_new; }
    KvStorage& storage() { return storage_; }
    const std::vector<int32_t>& block_table() const { return table_; }

private:
    static constexpr int64_t kBlock = 64;
    KvStorage storage_;
    std::vector<int32_t> table_;
    int64_t n_tokens_ = 0;
};

}  // namespace ag::model
