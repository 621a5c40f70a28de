// A Transcript in OpenAI's response formats (the server's /v1/audio/* and `autoglm transcribe`): json ({"text", "usage"}), text, srt, vtt,
// verbose_json (task, language name, duration, segments with times and decoding statistics).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "asr/transcriber.h"

namespace ag::asr {

enum class TranscriptFormat { kJson, kText, kSrt, kVtt, kVerboseJson };

std::optional<TranscriptFormat> parse_transcript_format(std::string_view s);
// Formats that need segment times (decoded with timestamps).
bool needs_timestamps(TranscriptFormat f);

// "HH:MM:SS,mmm" (srt) or "HH:MM:SS.mmm" (vtt).
std::string format_timestamp(double seconds, char decimal_marker);

// {"type": "duration", "seconds": whole seconds, rounded up}, as OpenAI bills audio.
nlohmann::json duration_usage(double seconds);

// The response body and its content type.
struct FormattedTranscript {
    std::string body;
    std::string content_type;
};
FormattedTranscript format_transcript(const Transcript& t, TranscriptFormat f,
                                      std::string_view task);
// verbose_json as an object (the CLI adds to it).
nlohmann::json verbose_json(const Transcript& t, std::string_view task);

}  // namespace ag::asr
