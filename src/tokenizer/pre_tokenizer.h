// Pre-tokenization (HF tokenizers semantics): a sequence of steps, each mapping the list of
// pieces of one text segment to a new list. Supported steps: Split (regex or literal pattern,
// all five delimiter behaviours, invert) and ByteLevel (add_prefix_space, use_regex).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/unicode_regex.h"

namespace ag::tok {

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct SplitStep {
    std::optional<UnicodeRegex> regex;  // set for {"Regex": ...}
    std::string literal;                // used for {"String": ...} when regex is unset
    SplitBehavior behavior = SplitBehavior::kIsolated;
    bool invert = false;
};

struct ByteLevelStep {
    bool add_prefix_space = false;
    bool use_regex = true;
};

class PreTokenizer {
public:
    void add_split(SplitStep step);
    void add_byte_level(ByteLevelStep step);
    // Compiles the GPT-2 regex used by ByteLevel(use_regex=true); called once at load.
    Status prepare();

    // Splits one segment (valid UTF-8, no added tokens) into pre-tokens for the model.
    // Empty pieces are dropped, as in HF.
    void run(std::string_view segment, std::vector<std::string>& pieces) const;

private:
    struct Step {
        bool is_split;
        SplitStep split;
        ByteLevelStep byte_level;
    };
    void apply_split(const SplitStep& step, const std::string& piece,
                     std::vector<std::string>& out) const;
    void apply_byte_level(const ByteLevelStep& step, const std::string& piece,
                          std::vector<std::string>& out) const;

    std::vector<Step> steps_;
    std::optional<UnicodeRegex> gpt2_regex_;
};

}  // namespace ag::tok
