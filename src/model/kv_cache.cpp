#include "model/kv_cache.h"

#include <algorithm>

namespace ag::model {

KvStorage::KvStorage(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, int64_t block_size,
                     int64_t n_blocks)
    : n_head_kv_(n_head_kv), head_dim_(head_dim), block_size_(block_size),
      k_(static_cast<size_t>(n_layer)), v_(static_cast<size_t>(n_layer)) {
    grow(n_blocks);
}

size_t KvStorage::bytes() const {
    return 2 * k_.size() * static_cast<size_t>(n_blocks_ * block_size_ * row_size()) * sizeof(float);
}

void KvStorage::grow(int64_t n_blocks) {
    n_blocks_ += n_blocks;
    const size_t elems = static_cast<size_t>(n_blocks_ * block_size_ * row_size());
    for (auto& b : k_) b.resize(elems);
    for (auto& b : v_) b.resize(elems);
}

KvCache::KvCache(int64_t n_layer, int64_t n_head_kv, int64_t head_dim)
    : storage_(n_layer, n_head_kv, head_dim, kBlock, 0) {}

void KvCache::reserve_more(int64_t n_new) {
    const int64_t need_blocks = (n_tokens_ + n_new + kBlock - 1) / kBlock;
    const int64_t have = storage_.n_blocks();
    if (need_blocks <= have) return;
    const int64_t add = std::max(need_blocks - have, have);  // double
    storage_.grow(add);
    for (int64_t b = have; b < have + add; ++b) table_.push_back(static_cast<int32_t>(b));
}

}  // namespace ag::model
