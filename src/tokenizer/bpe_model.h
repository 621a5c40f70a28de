// Byte-pair-encoding model (HF tokenizers "BPE"): vocab + ranked merges, applied to one
// pre-token at a time. Thread-safe: the only mutable state is the result cache, behind a lock.
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ag::tok {

// Hash that lets unordered_map<std::string, ...> be queried with a string_view.
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringIdMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct BpeOptions {
    bool ignore_merges = false;  // a pre-token that is itself in the vocab maps to that id
    std::optional<int32_t> unk_id;
    bool fuse_unk = false;
};

class BpeModel {
public:
    // `merges` hold (left, right) token strings in rank order; both parts and their
    // concatenation must be in `vocab` (checked by the caller, which reports file errors).
    BpeModel(StringIdMap vocab, const std::vector<std::pair<int32_t, int32_t>>& merge_ids,
             const std::vector<int32_t>& merge_results, BpeOptions options);
    BpeModel(const BpeModel&) = delete;
    BpeModel& operator=(const BpeModel&) = delete;

    // Appends the ids of one pre-token (a string over the model's alphabet) to `out`.
    void tokenize(std::string_view word, std::vector<int32_t>& out) const;

    std::optional<int32_t> token_to_id(std::string_view token) const;
    // The vocab string of `id`, or nullptr if the vocab has no such id.
    const std::string* id_to_token(int32_t id) const;
    // Largest id in the vocab + 1.
    int32_t id_limit() const { return static_cast<int32_t>(id_to_token_.size()); }

private:
    struct MergeInfo {
        int32_t rank;
        int32_t new_id;
    };
    static uint64_t pair_key(int32_t a, int32_t b) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
    }
    void merge_word(std::string_view word, std::vector<int32_t>& out) const;

    StringIdMap vocab_;
    std::vector<const std::string*> id_to_token_;  // points into vocab_ keys; nullptr = hole
    std::unordered_map<uint64_t, MergeInfo> merges_;
    BpeOptions options_;

    // Cache of merge results per pre-token. Bounded: stops growing at kCacheCapacity entries.
    static constexpr size_t kCacheCapacity = 16384;
    static constexpr size_t kMaxCachedWordBytes = 256;
    mutable std::shared_mutex cache_mutex_;
    mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>>
        cache_;
};

}  // namespace ag::tok
