// KV storage shared by all sequences: per layer, K and V slots [n_slots, n_head_kv, head_dim] f32
// (n_slots = n_blocks · block_size), keys stored after rotation. Which slots belong to which
// sequence is decided elsewhere (kv/ for the server; KvCache below for a single sequence) and
// reaches the model as per-sequence block tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ag::model {

class KvStorage {
public:
    KvStorage(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, int64_t block_size,
              int64_t n_blocks);

    int64_t block_size() const { return block_size_; }
    int64_t n_blocks() const { return n_blocks_; }
    int64_t row_size() const { return n_head_kv_ * head_dim_; }  // floats per slot
    size_t bytes() const;
    // Adds blocks (existing contents are kept; pointers from k()/v() are invalidated).
    void grow(int64_t n_blocks);

    float* k(int64_t layer) { return k_[static_cast<size_t>(layer)].data(); }
    float* v(int64_t layer) { return v_[static_cast<size_t>(layer)].data(); }

private:
    int64_t n_head_kv_, head_dim_, block_size_, n_blocks_ = 0;
    std::vector<std::vector<float>> k_, v_;
};

// One sequence's cache for single-request use (CLI, tests): storage plus an identity block table
// that grows geometrically, so appending is amortised O(1) per token.
class KvCache {
public:
    KvCache(int64_t n_layer, int64_t n_head_kv, int64_t head_dim);

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
