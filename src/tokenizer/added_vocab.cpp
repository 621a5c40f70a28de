#include "tokenizer/added_vocab.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace ag::tok {

void AddedVocab::Trie::insert(std::string_view s, int32_t token) {
    int32_t node = 0;
    for (char c : s) {
        const auto b = static_cast<uint8_t>(c);
        auto it = nodes[node].children.find(b);
        if (it == nodes[node].children.end()) {
            nodes.emplace_back();
            const auto child = static_cast<int32_t>(nodes.size() - 1);
            nodes[node].children.emplace(b, child);
            node = child;
        } else {
            node = it->second;
        }
    }
    nodes[node].token = token;
}

std::pair<int32_t, size_t> AddedVocab::Trie::longest_at(std::string_view text, size_t pos) const {
    int32_t node = 0;
    std::pair<int32_t, size_t> best{-1, 0};
    for (size_t i = pos; i < text.size(); ++i) {
        auto it = nodes[node].children.find(static_cast<uint8_t>(text[i]));
        if (it == nodes[node].children.end()) break;
        node = it->second;
        if (nodes[node].token >= 0) best = {nodes[node].token, i + 1 - pos};
    }
    return best;
}

Status AddedVocab::init(std::vector<AddedToken> tokens) {
    for (auto& t : tokens) {
        if (t.content.empty()) continue;  // HF ignores empty added tokens
        auto it = by_content_.find(t.content);
        if (it != by_content_.end()) {
            by_id_.erase(tokens_[it->second].id);
            tokens_[it->second] = std::move(t);
            by_id_[tokens_[it->second].id] = it->second;
            continue;
        }
        by_id_[t.id] = tokens_.size();
        by_content_.emplace(t.content, tokens_.size());
        tokens_.push_back(std::move(t));
    }
    for (size_t i = 0; i < tokens_.size(); ++i) {
        const AddedToken& t = tokens_[i];
        (t.normalized ? normalized_trie_ : raw_trie_).insert(t.content, static_cast<int32_t>(i));
        has_normalized_ = has_normalized_ || t.normalized;
        id_limit_ = std::max(id_limit_, t.id + 1);
    }
    auto word = UnicodeRegex::compile(R"([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}])");
    if (!word.ok()) return word.status();
    word_char_ = std::move(word).value();
    auto space = UnicodeRegex::compile(R"(\s)");
    if (!space.ok()) return space.status();
    space_run_ = std::move(space).value();
    return Status::ok_status();
}

const AddedToken* AddedVocab::find_by_id(int32_t id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedVocab::find_by_content(std::string_view content) const {
    auto it = by_content_.find(std::string(content));
    if (it == by_content_.end()) return std::nullopt;
    return tokens_[it->second].id;
}

// HF AddedVocabulary::find_matches on text[begin, end).
void AddedVocab::split_pass(const Trie& trie, std::string_view text, size_t begin, size_t end,
                            std::vector<TextSegment>& out) const {
    const std::string_view sentence = text.substr(begin, end - begin);
    auto is_space_at = [&](size_t pos) {  // code point at pos (< size) is whitespace
        size_t next = pos;
        next_code_point(sentence, next);
        return space_run_->search(sentence.substr(pos, next - pos));
    };
    size_t start_offset = 0;
    size_t pos = 0;
    while (pos < sentence.size()) {
        const auto [token_index, length] = trie.longest_at(sentence, pos);
        if (token_index < 0) {
            ++pos;
            continue;
        }
        size_t start = pos;
        size_t stop = pos + length;
        pos = stop;  // matches never overlap, even when one is discarded below
        const AddedToken& t = tokens_[token_index];
        if (t.single_word) {
            bool word_before = false;
            bool word_after = false;
            if (start > 0) {
                size_t cp_start = 0;
                prev_code_point(sentence, start, cp_start);
                word_before = word_char_->search(sentence.substr(cp_start, start - cp_start));
            }
            if (stop < sentence.size()) {
                size_t cp_end = stop;
                next_code_point(sentence, cp_end);
                word_after = word_char_->search(sentence.substr(stop, cp_end - stop));
            }
            if (word_before || word_after) continue;
        }
        if (t.lstrip) {
            size_t new_start = start;
            while (new_start > 0) {
                size_t cp_start = 0;
                prev_code_point(sentence, new_start, cp_start);
                if (!is_space_at(cp_start)) break;
                new_start = cp_start;
            }
            start = std::max(new_start, start_offset);
        }
        if (t.rstrip) {
            while (stop < sentence.size() && is_space_at(stop)) {
                next_code_point(sentence, stop);
            }
        }
        if (start_offset < start) out.push_back({begin + start_offset, begin + start, -1});
        out.push_back({begin + start, begin + stop, t.id});
        start_offset = stop;
    }
    if (start_offset < sentence.size()) out.push_back({begin + start_offset, end, -1});
}

std::vector<TextSegment> AddedVocab::split(std::string_view text) const {
    std::vector<TextSegment> first;
    if (tokens_.empty()) {
        if (!text.empty()) first.push_back({0, text.size(), -1});
        return first;
    }
    split_pass(raw_trie_, text, 0, text.size(), first);
    if (!has_normalized_) return first;
    std::vector<TextSegment> second;
    for (const TextSegment& s : first) {
        if (s.id >= 0) {
            second.push_back(s);
        } else {
            split_pass(normalized_trie_, text, s.begin, s.end, second);
        }
    }
    return second;
}

}  // namespace ag::tok
