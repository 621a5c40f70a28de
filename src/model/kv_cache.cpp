#include "model/kv_cache.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"

namespace ag::model {

KvStorage::KvStorage(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, int64_t block_size,
                     int64_t n_blocks, KvDType dtype)
    : n_layer_(n_layer), n_head_kv_(n_head_kv), head_dim_(head_dim), block_size_(block_size),
      dtype_(dtype), k_(static_cast<size_t>(n_layer)), v_(static_cast<size_t>(n_layer)),
      k_meta_(static_cast<size_t>(n_layer)), open_k_(static_cast<size_t>(n_layer)),
      open_v_(static_cast<size_t>(n_layer)) {
    AG_CHECK(kv_dtype_supports(dtype, head_dim), "KV dtype {} cannot hold heads of {} values",
             kv_dtype_name(dtype), head_dim);
    const auto h = static_cast<size_t>(n_head_kv);
    k_slot_bytes_ = h * kv_key_head_bytes(dtype, head_dim);
    v_slot_bytes_ = h * kv_head_bytes(dtype, head_dim);
    k_meta_bytes_ = h * kv_key_block_meta_bytes(dtype, head_dim);
    grow(n_blocks);
}

double KvStorage::bytes_per_token(int64_t n_layer, int64_t n_head_kv, int64_t head_dim,
                                  int64_t block_size, KvDType dtype) {
    const double per_head = static_cast<double>(kv_key_head_bytes(dtype, head_dim) + kv_head_bytes(dtype, head_dim)) +
                            static_cast<double>(kv_key_block_meta_bytes(dtype, head_dim)) / static_cast<double>(block_size);
    return static_cast<double>(n_layer * n_head_kv) * per_head;
}

double KvStorage::open_block_bytes(int64_t n_layer, int64_t n_head_kv, int64_t head_dim,
                                   int64_t block_size, KvDType dtype) {
    if (dtype != KvDType::kInt4) return 0.0;
    return 2.0 * 4.0 * static_cast<double>(n_layer * block_size * n_head_kv * head_dim);
}

size_t KvStorage::token_bytes() const {
    return static_cast<size_t>(std::llround(bytes_per_token(n_layer_, n_head_kv_, head_dim_, block_size_, dtype_)));
}

size_t KvStorage::bytes() const {
    const auto slots = static_cast<size_t>(n_blocks_ * block_size_);
    return static_cast<size_t>(n_layer_) *
           (slots * (k_slot_bytes_ + v_slot_bytes_) + static_cast<size_t>(n_blocks_) * k_meta_bytes_);
}

size_t KvStorage::open_bytes() const {
    size_t n = 0;
    for (size_t l = 0; l < open_k_.size(); ++l) n += 4 * (open_k_[l].size() + open_v_[l].size());
    return n;
}

void KvStorage::grow(int64_t n_blocks) {
    n_blocks_ += n_blocks;
    const auto slots = static_cast<size_t>(n_blocks_ * block_size_);
    for (auto& b : k_) b.resize(slots * k_slot_bytes_);
    for (auto& b : v_) b.resize(slots * v_slot_bytes_);
    for (auto& b : k_meta_) b.resize(static_cast<size_t>(n_blocks_) * k_meta_bytes_);
    if (dtype_ == KvDType::kInt4) open_index_.resize(static_cast<size_t>(n_blocks_), -1);
}

void KvStorage::reserve_open(int32_t n) {
    if (dtype_ != KvDType::kInt4 || n <= n_open_) return;
    for (int32_t i = n_open_; i < n; ++i) free_open_.push_back(i);
    n_open_ = n;
    const auto rows = static_cast<size_t>(n_open_ * block_size_ * n_head_kv_ * head_dim_);
    for (auto& o : open_k_) o.resize(rows);
    for (auto& o : open_v_) o.resize(rows);
}

void KvStorage::write(int64_t layer, int64_t slot, const float* k, const float* v) {
    const auto L = static_cast<size_t>(layer);
    const size_t hb = kv_head_bytes(dtype_, head_dim_);
    uint8_t* vd = v_[L].data() + static_cast<size_t>(slot) * v_slot_bytes_;
    for (int64_t h = 0; h < n_head_kv_; ++h) {
        kv_quantize_head(dtype_, v + h * head_dim_, head_dim_, vd + static_cast<size_t>(h) * hb);
    }
    if (dtype_ != KvDType::kInt4) {
        uint8_t* kd = k_[L].data() + static_cast<size_t>(slot) * k_slot_bytes_;
        for (int64_t h = 0; h < n_head_kv_; ++h) {
            kv_quantize_head(dtype_, k + h * head_dim_, head_dim_, kd + static_cast<size_t>(h) * hb);
        }
        return;
    }
    const int64_t block = slot / block_size_, t = slot % block_size_;
    int32_t& oi = open_index_[static_cast<size_t>(block)];
    if (oi < 0) {  // a block opens at its first write (any layer)
        if (free_open_.empty()) reserve_open(n_open_ + 1);
        oi = free_open_.back();
        free_open_.pop_back();
    }
    const int64_t row = static_cast<int64_t>(oi) * block_size_ + t;
    const auto n = static_cast<size_t>(n_head_kv_ * head_dim_);
    std::copy_n(k, n, open_k_[L].data() + static_cast<size_t>(row) * n);
    std::copy_n(v, n, open_v_[L].data() + static_cast<size_t>(row) * n);
    if (t == block_size_ - 1) seal(layer, block);
}

void KvStorage::seal(int64_t layer, int64_t block) {
    const auto L = static_cast<size_t>(layer);
    const int32_t oi = open_index_[static_cast<size_t>(block)];
    const int64_t row_floats = n_head_kv_ * head_dim_;
    const float* rows = open_k_[L].data() + static_cast<size_t>(oi) * static_cast<size_t>(block_size_ * row_floats);
    uint8_t* codes = k_[L].data() + static_cast<size_t>(block * block_size_) * k_slot_bytes_;
    uint8_t* meta = k_meta_[L].data() + static_cast<size_t>(block) * k_meta_bytes_;
    const size_t kb = kv_key_head_bytes(dtype_, head_dim_), mb = kv_key_block_meta_bytes(dtype_, head_dim_);
    for (int64_t h = 0; h < n_head_kv_; ++h) {
        kv_quantize_key_block(rows + h * head_dim_, row_floats, block_size_, head_dim_,
                              codes + static_cast<size_t>(h) * kb, static_cast<int64_t>(k_slot_bytes_),
                              meta + static_cast<size_t>(h) * mb);
    }
    if (layer == n_layer_ - 1) sealed_open_.push_back(static_cast<int32_t>(block));
}

void KvStorage::finish_step() {
    for (int32_t b : sealed_open_) release(b);
    sealed_open_.clear();
}

void KvStorage::release(int32_t block) {
    if (dtype_ != KvDType::kInt4) return;
    int32_t& oi = open_index_[static_cast<size_t>(block)];
    if (oi < 0) return;
    free_open_.push_back(oi);
    oi = -1;
}

KvView KvStorage::k_view(int64_t layer) const {
    const auto L = static_cast<size_t>(layer);
    if (dtype_ != KvDType::kInt4) return KvView{k_[L].data(), dtype_};
    return KvView{k_[L].data(), dtype_, k_meta_[L].data(), open_k_[L].data(), open_index_.data()};
}

KvView KvStorage::v_view(int64_t layer) const {
    const auto L = static_cast<size_t>(layer);
    if (dtype_ != KvDType::kInt4) return KvView{v_[L].data(), dtype_};
    return KvView{v_[L].data(), dtype_, nullptr, open_v_[L].data(), open_index_.data()};
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
