#include "tokenizer/bpe_model.h"

#include <mutex>
#include <queue>

#include "tokenizer/utf8.h"

namespace ag::tok {

BpeModel::BpeModel(StringIdMap vocab, const std::vector<std::pair<int32_t, int32_t>>& merge_ids,
                   const std::vector<int32_t>& merge_results, BpeOptions options)
    : vocab_(std::move(vocab)), options_(options) {
    int32_t max_id = -1;
    for (const auto& [token, id] : vocab_) max_id = std::max(max_id, id);
    id_to_token_.assign(static_cast<size_t>(max_id + 1), nullptr);
    for (const auto& [token, id] : vocab_) {
        if (id >= 0) id_to_token_[id] = &token;
    }
    merges_.reserve(merge_ids.size());
    for (size_t i = 0; i < merge_ids.size(); ++i) {
        // Like HF, a repeated pair keeps its last rank.
        merges_[pair_key(merge_ids[i].first, merge_ids[i].second)] =
            MergeInfo{static_cast<int32_t>(i), merge_results[i]};
    }
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
    auto it = vocab_.find(token);
    if (it == vocab_.end()) return std::nullopt;
    return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
    if (id < 0 || id >= id_limit()) return nullptr;
    return id_to_token_[id];
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
    if (word.empty()) return;
    if (options_.ignore_merges) {
        if (auto id = token_to_id(word)) {
            out.push_back(*id);
            return;
        }
    }
    const bool cacheable = word.size() <= kMaxCachedWordBytes;
    if (cacheable) {
        std::shared_lock lock(cache_mutex_);
        auto it = cache_.find(word);
        if (it != cache_.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    const size_t mark = out.size();
    merge_word(word, out);
    if (cacheable) {
        std::unique_lock lock(cache_mutex_);
        if (cache_.size() < kCacheCapacity) {
            cache_.try_emplace(std::string(word), out.begin() + static_cast<ptrdiff_t>(mark),
                               out.end());
        }
    }
}

// Mirrors HF's Word::merge_all exactly (same queue order, same staleness test) so that results
// agree even when two different pairs produce the same token.
void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& out) const {
    struct Symbol {
        int32_t id;
        int32_t prev;
        int32_t next;
        bool alive;
    };
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    size_t pos = 0;
    bool last_was_unk = false;
    while (pos < word.size()) {
        const size_t start = pos;
        next_code_point(word, pos);
        auto id = token_to_id(word.substr(start, pos - start));
        if (!id) {
            if (!options_.unk_id) continue;  // HF drops characters it cannot represent
            if (options_.fuse_unk && last_was_unk) continue;
            id = options_.unk_id;
            last_was_unk = true;
        } else {
            last_was_unk = false;
        }
        const auto index = static_cast<int32_t>(symbols.size());
        symbols.push_back(Symbol{*id, index - 1, index + 1, true});
    }
    if (symbols.empty()) return;
    symbols.back().next = -1;

    struct Merge {
        int32_t pos;
        int32_t rank;
        int32_t new_id;
    };
    auto lower_priority = [](const Merge& a, const Merge& b) {
        return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
    };
    std::priority_queue<Merge, std::vector<Merge>, decltype(lower_priority)> queue(lower_priority);
    auto find_merge = [this](int32_t a, int32_t b) -> const MergeInfo* {
        auto it = merges_.find(pair_key(a, b));
        return it == merges_.end() ? nullptr : &it->second;
    };
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        if (const MergeInfo* m = find_merge(symbols[i].id, symbols[i + 1].id)) {
            queue.push(Merge{static_cast<int32_t>(i), m->rank, m->new_id});
        }
    }
    while (!queue.empty()) {
        const Merge top = queue.top();
        queue.pop();
        Symbol& cur = symbols[top.pos];
        if (!cur.alive || cur.next < 0) continue;
        const int32_t right_pos = cur.next;
        const Symbol right = symbols[right_pos];
        const MergeInfo* m = find_merge(cur.id, right.id);
        if (m == nullptr || m->new_id != top.new_id) continue;  // stale entry
        cur.id = top.new_id;
        cur.next = right.next;
        symbols[right_pos].alive = false;
        if (right.next >= 0) symbols[right.next].prev = top.pos;
        if (cur.prev >= 0) {
            if (const MergeInfo* pm = find_merge(symbols[cur.prev].id, cur.id)) {
                queue.push(Merge{cur.prev, pm->rank, pm->new_id});
            }
        }
        if (cur.next >= 0) {
            if (const MergeInfo* nm = find_merge(cur.id, symbols[cur.next].id)) {
                queue.push(Merge{top.pos, nm->rank, nm->new_id});
            }
        }
    }
    for (int32_t i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
}

}  // namespace ag::tok
