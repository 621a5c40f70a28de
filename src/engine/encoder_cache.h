// EncoderCache: vision-tower outputs of recent images, keyed by the image's content hash and
// patch grid, so a screenshot sent again (the phone agent resends its last one with every
// step's history, and clients retry) is not encoded again. LRU, bounded in bytes. Engine thread
// only (not thread-safe).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

namespace ag::engine {

struct EncoderKey {
    uint64_t hash = 0;
    int32_t grid_t = 0, grid_h = 0, grid_w = 0;
    bool operator==(const EncoderKey&) const = default;
};

// [n_image_tokens, hidden] f32, shared between the cache and the requests that use it.
using ImageEmbeds = std::shared_ptr<const std::vector<float>>;

class EncoderCache {
public:
    explicit EncoderCache(int64_t capacity_bytes) : capacity_(capacity_bytes) {}

    // The cached embeddings (and marks them most recently used), or null.
    ImageEmbeds find(const EncoderKey& key);
    // Inserts (or refreshes) `key`; evicts least recently used entries beyond the capacity. An
    // entry larger than the whole capacity is not kept.
    void put(const EncoderKey& key, ImageEmbeds embeds);

    int64_t bytes() const { return bytes_; }
    size_t size() const { return map_.size(); }

private:
    struct KeyHash {
        size_t operator()(const EncoderKey& k) const {
            return static_cast<size_t>(k.hash ^ (static_cast<uint64_t>(k.grid_h) << 40) ^
                                       (static_cast<uint64_t>(k.grid_w) << 20) ^
                                       static_cast<uint64_t>(k.grid_t));
        }
    };
    struct Entry {
        EncoderKey key;
        ImageEmbeds embeds;
    };
    static int64_t size_of(const ImageEmbeds& e) {
        return static_cast<int64_t>(e->size() * sizeof(float));
    }

    int64_t capacity_;
    int64_t bytes_ = 0;
    std::list<Entry> lru_;  // most recently used first
    std::unordered_map<EncoderKey, std::list<Entry>::iterator, KeyHash> map_;
};

}  // namespace ag::engine
