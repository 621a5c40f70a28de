#include "asr/transcript_format.h"

#include <fmt/format.h>

#include <cmath>

#include "asr/language_names.h"

namespace ag::asr {

namespace {

std::string trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.remove_suffix(1);
    return std::string(s);
}

// Cue blocks of srt/vtt: one per segment with text (empty segments are skipped).
// JSON text for output: invalid UTF-8 replaced, never throws.
std::string dump(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string cues(const Transcript& t, bool srt) {
    std::string out;
    int64_t n = 0;
    for (const Segment& s : t.segments) {
        const std::string text = trimmed(s.text);
        if (text.empty()) continue;
        ++n;
        if (srt) out += fmt::format("{}\n", n);
        const char mark = srt ? ',' : '.';
        out += fmt::format("{} --> {}\n{}\n\n", format_timestamp(s.start, mark),
                           format_timestamp(s.end, mark), text);
    }
    return out;
}

}  // namespace

nlohmann::json verbose_json(const Transcript& t, std::string_view task) {
    nlohmann::json segments = nlohmann::json::array();
    for (const Segment& s : t.segments) {
        segments.push_back({{"id", s.id},
                            {"seek", s.seek},
                            {"start", s.start},
                            {"end", s.end},
                            {"text", s.text},
                            {"tokens", s.tokens},
                            {"temperature", s.temperature},
                            {"avg_logprob", s.avg_logprob},
                            {"compression_ratio", s.compression_ratio},
                            {"no_speech_prob", s.no_speech_prob}});
    }
    const std::string language = language_name(t.language).value_or(t.language);
    return {{"task", task},
            {"language", language},
            {"duration", t.duration},
            {"text", t.text},
            {"segments", std::move(segments)},
            {"usage", duration_usage(t.duration)}};
}

std::optional<TranscriptFormat> parse_transcript_format(std::string_view s) {
    if (s == "json") return TranscriptFormat::kJson;
    if (s == "text") return TranscriptFormat::kText;
    if (s == "srt") return TranscriptFormat::kSrt;
    if (s == "vtt") return TranscriptFormat::kVtt;
    if (s == "verbose_json") return TranscriptFormat::kVerboseJson;
    return std::nullopt;
}

bool needs_timestamps(TranscriptFormat f) {
    return f == TranscriptFormat::kSrt || f == TranscriptFormat::kVtt ||
           f == TranscriptFormat::kVerboseJson;
}

std::string format_timestamp(double seconds, char decimal_marker) {
    const int64_t ms = std::llround(std::max(0.0, seconds) * 1000.0);
    return fmt::format("{:02}:{:02}:{:02}{}{:03}", ms / 3'600'000, ms / 60'000 % 60,
                       ms / 1000 % 60, decimal_marker, ms % 1000);
}

nlohmann::json duration_usage(double seconds) {
    return {{"type", "duration"}, {"seconds", static_cast<int64_t>(std::ceil(seconds))}};
}

FormattedTranscript format_transcript(const Transcript& t, TranscriptFormat f,
                                      std::string_view task) {
    switch (f) {
        case TranscriptFormat::kText: return {t.text + "\n", "text/plain; charset=utf-8"};
        case TranscriptFormat::kSrt: return {cues(t, true), "text/plain; charset=utf-8"};
        case TranscriptFormat::kVtt: return {"WEBVTT\n\n" + cues(t, false), "text/vtt; charset=utf-8"};
        case TranscriptFormat::kJson:
            return {dump({{"text", t.text}, {"usage", duration_usage(t.duration)}}),
                    "application/json"};
        case TranscriptFormat::kVerboseJson: break;
    }
    return {dump(verbose_json(t, task)), "application/json"};
}

}  // namespace ag::asr
