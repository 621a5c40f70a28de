#include "engine/encoder_cache.h"

namespace ag::engine {

ImageEmbeds EncoderCache::find(const EncoderKey& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->embeds;
}

void EncoderCache::put(const EncoderKey& key, ImageEmbeds embeds) {
    if (!embeds) return;
    if (auto it = map_.find(key); it != map_.end()) {
        bytes_ -= size_of(it->second->embeds);
        lru_.erase(it->second);
        map_.erase(it);
    }
    const int64_t size = size_of(embeds);
    if (size > capacity_) return;
    while (bytes_ + size > capacity_ && !lru_.empty()) {
        bytes_ -= size_of(lru_.back().embeds);
        map_.erase(lru_.back().key);
        lru_.pop_back();
    }
    lru_.push_front({key, std::move(embeds)});
    map_.emplace(key, lru_.begin());
    bytes_ += size;
}

}  // namespace ag::engine
