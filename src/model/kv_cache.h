// Contiguous per-sequence KV cache: for each layer, K and V rows [capacity, n_head_kv, head_dim]
// f32, keys stored after rotation. Grows geometrically, so appending is amortised O(1) per token.
// (The paged, shared cache of the server replaces this for batched serving.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ag::model {

class KvCache {
public:
    KvCache(int64_t n_layer, int64_t n_head_kv, int64_t head_dim);

    int64_t n_tokens() const { return n_tokens_; }
    int64_t row_size() const { return n_head_kv_ * head_dim_; }

    // Makes room for `n_new` more tokens (all layers).
    void reserve_more(int64_t n_new);
    // Rows [0, n_tokens + n_new) of layer `l`; the new rows start at n_tokens().
    float* k(int64_t l) { return k_[static_cast<size_t>(l)].data(); }
    float* v(int64_t l) { return v_[static_cast<size_t>(l)].data(); }
    // Marks n_new rows as filled (after every layer has written them).
    void commit(int64_t n_new) { n_tokens_ += n_new; }
    // Drops everything after the first n tokens.
    void truncate(int64_t n) { n_tokens_ = n < n_tokens_ ? n : n_tokens_; }

private:
    int64_t n_head_kv_, head_dim_;
    int64_t n_tokens_ = 0;
    int64_t capacity_ = 0;
    std::vector<std::vector<float>> k_, v_;
};

}  // namespace ag::model
