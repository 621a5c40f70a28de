#include "model/kv_cache.h"

#include <algorithm>

#include "base/check.h"

namespace ag::model {

KvStorage::KvStorage(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, int64_t block_size,
                     int64_t n_blocks, KvDType dtype)
    : n_head_kv_(n_head_kv), head_dim_(head_dim), block_size_(block_size), dtype_(dtype),
      k_(static_cast<size_t>(n_layer)), v_(static_cast<size_t>(n_layer)) {
    AG_CHECK(kv_dtype_supports(dtype, head_dim), "KV dtype {} cannot hold heads of {} values",
             kv_dtype_name(dtype), head_dim);
    grow(n_blocks);
}

size_t KvStorage::bytes() const {
    return token_bytes() * static_cast<size_t>(n_blocks_ * block_size_);
}

void KvStorage::grow(int64_t n_blocks) {
    n_blocks_ += n_blocks;
    const size_t size = static_cast<size_t>(n_blocks_ * block_size_) * slot_bytes();
    for (auto& b : k_) b.resize(size);
    for (auto& b : v_) b.resize(size);
}

void KvStorage::write(int64_t layer, int64_t slot, const float* k, const float* v) {
    const size_t hb = kv_head_bytes(dtype_, head_dim_);
    uint8_t* kd = k_[static_cast<size_t>(layer)].data() + static_cast<size_t>(slot) * slot_bytes();
    uint8_t* vd = v_[static_cast<size_t>(layer)].data() + static_cast<size_t>(slot) * slot_bytes();
    for (int64_t h = 0; h < n_head_kv_; ++h) {
        kv_quantize_head(dtype_, k + h * head_dim_, head_dim_, kd + static_cast<size_t>(h) * hb);
        kv_quantize_head(dtype_, v + h * head_dim_, head_dim_, vd + static_cast<size_t>(h) * hb);
    }
}

KvCache::KvCache(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, KvDType dtype)
    : storage_(n_layer, n_head_kv, head_dim, kBlock, 0, dtype) {}

void KvCache::reserve_more(int64_t n_new) {
    const int64_t need_blocks = (n_tokens_ + n_new + kBlock - 1) / kBlock;
    const int64_t have = storage_.n_blocks();
    if (need_blocks <= have) return;
    const int64_t add = std::max(need_blocks - have, have);  // double
    storage_.grow(add);
    for (int64_t b = have; b < have + add; ++b) table_.push_back(static_cast<int32_t>(b));
}

}  // namespace ag::model
