// UTF-8 helpers for the tokenizer: validation, lossy decoding with U+FFFD (maximal-subpart rule,
// identical to Python's errors='replace' and Rust's String::from_utf8_lossy), code point access.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ag::tok {

// Appends the valid UTF-8 form of `in` to `out`, replacing each maximal subpart of an ill-formed
// sequence with U+FFFD. When `final` is false, a trailing sequence that is an incomplete (but so
// far well-formed) prefix is left unconsumed. Returns the number of bytes of `in` consumed.
size_t append_utf8_lossy(std::string_view in, std::string& out, bool final);

// The whole of `in` with ill-formed sequences replaced by U+FFFD.
std::string to_utf8_lossy(std::string_view in);

bool is_valid_utf8(std::string_view in);

// Decodes one code point of valid UTF-8 starting at `pos`; advances `pos`.
char32_t next_code_point(std::string_view s, size_t& pos);

// Decodes the code point ending at `end` (exclusive) of valid UTF-8; returns its start in `start`.
char32_t prev_code_point(std::string_view s, size_t end, size_t& start);

void append_code_point(char32_t cp, std::string& out);

}  // namespace ag::tok
