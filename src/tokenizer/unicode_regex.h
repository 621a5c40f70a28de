// A compiled PCRE2 pattern (UTF + UCP, JIT when available) used by the pre-tokenizers.
// Immutable after construction; find_all() may be called from many threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ag::tok {

class UnicodeRegex {
public:
    // Compiles an Oniguruma-style pattern as found in tokenizer.json. `\s`/`\S` are rewritten to
    // the Unicode White_Space property, which is what Oniguruma's `\s` means.
    static Result<UnicodeRegex> compile(std::string_view pattern);

    // Non-overlapping matches in `text` (valid UTF-8), left to right, as byte ranges
    // [first, second). Empty matches are reported; the search then moves on by one code point.
    void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;

    // Whether the pattern matches somewhere in `text`.
    bool search(std::string_view text) const;

private:
    struct Code;
    std::shared_ptr<const Code> code_;
};

}  // namespace ag::tok
