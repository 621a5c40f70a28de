#include "model/kv_cache.h"

#include <algorithm>

namespace ag::model {

KvCache::KvCache(int64_t n_layer, int64_t n_head_kv, int64_t head_dim)
    : n_head_kv_(n_head_kv), head_dim_(head_dim),
      k_(static_cast<size_t>(n_layer)), v_(static_cast<size_t>(n_layer)) {}

void KvCache::reserve_more(int64_t n_new) {
    const int64_t need = n_tokens_ + n_new;
    if (need <= capacity_) return;
    capacity_ = std::max<int64_t>({need, capacity_ * 2, 64});
    const size_t elems = static_cast<size_t>(capacity_ * row_size());
    for (auto& b : k_) b.resize(elems);
    for (auto& b : v_) b.resize(elems);
}

}  // namespace ag::model
