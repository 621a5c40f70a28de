// GPT-2 byte-level alphabet: every byte maps to one printable code point (e.g. ' ' -> U+0120 'Ġ',
// '\n' -> U+010A 'Ċ'); printable Latin-1 bytes map to themselves.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ag::tok {

// Appends the byte-level form (UTF-8 of the mapped code points) of the bytes `in` to `out`.
void append_byte_level(std::string_view in, std::string& out);

// The byte that code point `cp` stands for, or -1 if `cp` is not in the alphabet.
int byte_level_byte(char32_t cp);

// Appends the bytes a byte-level token string stands for. Like HF's ByteLevel decoder, a token
// containing any code point outside the alphabet is appended unchanged instead.
void append_byte_level_decoded(std::string_view token, std::string& out);

}  // namespace ag::tok
