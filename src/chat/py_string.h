// Python `str` semantics on UTF-8 text, as chat templates see them: code-point length and
// indexing, str.strip/split/title/upper/lower, repr() and json.dumps string quoting.
// Invalid UTF-8 bytes are treated as single code points U+FFFD-like units (kept as bytes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ag::chat::jinja {

std::u32string utf8_decode(std::string_view s);
std::string utf8_encode(std::u32string_view s);
void utf8_append(std::string& out, char32_t c);

bool is_py_space(char32_t c);  // str.isspace()

/// str.strip / lstrip / rstrip; `chars` unset = Unicode whitespace.
std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left,
                     bool right);
/// str.split / rsplit. `sep` unset = runs of whitespace (empty strings dropped). maxsplit < 0:
/// no limit. Throws TemplateError on an empty separator.
std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit, bool from_right);
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_title(std::string_view s);
std::string py_capitalize(std::string_view s);
std::string py_replace(std::string_view s, std::string_view old, std::string_view repl,
                       int64_t count);
size_t py_count(std::string_view s, std::string_view sub);
int64_t py_find(std::string_view s, std::string_view sub, bool from_right);  // code points

std::string py_repr(std::string_view s);                  // 'text' with Python's escapes
std::string json_quote(std::string_view s, bool ensure_ascii);  // json.dumps of a str

}  // namespace ag::chat::jinja
