// Whisper's language codes and their English names (the 100 of large-v3: the `<|xx|>` tokens of
// a multilingual vocabulary). verbose_json reports the name, as OpenAI does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ag::asr {

// "en" -> "english"; nullopt for a code Whisper does not know.
std::optional<std::string> language_name(std::string_view code);
// A code or an English name (case-insensitive: "EN", "English") -> the code; nullopt if unknown.
std::optional<std::string> language_code(std::string_view code_or_name);

}  // namespace ag::asr
