// Added tokens (tokenizer.json "added_tokens"): matched in the raw text before pre-tokenization,
// leftmost-longest, in two passes like HF: first tokens with normalized=false, then (inside the
// remaining text) tokens with normalized=true. Honours lstrip / rstrip / single_word.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/unicode_regex.h"

namespace ag::tok {

struct AddedToken {
    int32_t id = 0;
    std::string content;
    bool special = false;
    bool lstrip = false;
    bool rstrip = false;
    bool single_word = false;
    bool normalized = false;
};

// A piece of the input: either an added token (id >= 0) or plain text (id == -1).
struct TextSegment {
    size_t begin;
    size_t end;
    int32_t id;
};

class AddedVocab {
public:
    // Builds the matchers; later entries with the same content replace earlier ones.
    Status init(std::vector<AddedToken> tokens);

    // Splits valid UTF-8 `text` into plain and added-token segments covering it in order.
    std::vector<TextSegment> split(std::string_view text) const;

    const AddedToken* find_by_id(int32_t id) const;
    std::optional<int32_t> find_by_content(std::string_view content) const;
    int32_t id_limit() const { return id_limit_; }

private:
    // Byte trie over token contents of one pass.
    struct Trie {
        struct Node {
            std::unordered_map<uint8_t, int32_t> children;
            int32_t token = -1;  // index into tokens_
        };
        std::vector<Node> nodes{Node{}};
        void insert(std::string_view s, int32_t token);
        // Longest token starting at `pos`: (token index, length), or token -1.
        std::pair<int32_t, size_t> longest_at(std::string_view text, size_t pos) const;
    };
    void split_pass(const Trie& trie, std::string_view text, size_t begin, size_t end,
                    std::vector<TextSegment>& out) const;

    std::vector<AddedToken> tokens_;
    std::unordered_map<int32_t, size_t> by_id_;
    std::unordered_map<std::string, size_t> by_content_;
    Trie raw_trie_;
    Trie normalized_trie_;
    bool has_normalized_ = false;
    int32_t id_limit_ = 0;
    std::optional<UnicodeRegex> word_char_;  // Rust regex \w: one word character
    std::optional<UnicodeRegex> space_run_;  // Rust regex \s
};

}  // namespace ag::tok
