// Transcript response formats against OpenAI's shapes: srt/vtt cue syntax, json/verbose_json
// fields, text's trailing newline, duration usage rounding.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "asr/transcript_format.h"

namespace ag::asr {
namespace {

Transcript sample() {
    Transcript t;
    t.text = "Hello there. General Kenobi.";
    t.language = "en";
    t.duration = 4.2;
    Segment a;
    a.id = 0;
    a.start = 0.0;
    a.end = 1.5;
    a.text = " Hello there.";
    a.tokens = {50364, 2425, 50439};
    Segment b;
    b.id = 1;
    b.start = 1.5;
    b.end = 3661.007;
    b.text = " General Kenobi.";
    b.avg_logprob = -0.25f;
    Segment empty;
    empty.id = 2;
    empty.start = 3661.007;
    empty.end = 3662;
    t.segments = {a, b, empty};
    return t;
}

TEST(TranscriptFormat, Names) {
    EXPECT_EQ(parse_transcript_format("verbose_json"), TranscriptFormat::kVerboseJson);
    EXPECT_EQ(parse_transcript_format("srt"), TranscriptFormat::kSrt);
    EXPECT_FALSE(parse_transcript_format("xml").has_value());
    EXPECT_TRUE(needs_timestamps(TranscriptFormat::kVtt));
    EXPECT_FALSE(needs_timestamps(TranscriptFormat::kText));
}

TEST(TranscriptFormat, Timestamps) {
    EXPECT_EQ(format_timestamp(0, ','), "00:00:00,000");
    EXPECT_EQ(format_timestamp(3661.0074, '.'), "01:01:01.007");
    EXPECT_EQ(format_timestamp(59.9996, ','), "00:01:00,000");
    EXPECT_EQ(format_timestamp(-1, ','), "00:00:00,000");
}

TEST(TranscriptFormat, SrtAndVttCues) {
    const auto srt = format_transcript(sample(), TranscriptFormat::kSrt, "transcribe");
    EXPECT_EQ(srt.body,
              "1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n"
              "2\n00:00:01,500 --> 01:01:01,007\nGeneral Kenobi.\n\n");
    const auto vtt = format_transcript(sample(), TranscriptFormat::kVtt, "transcribe");
    EXPECT_EQ(vtt.body,
              "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n\n"
              "00:00:01.500 --> 01:01:01.007\nGeneral Kenobi.\n\n");
}

TEST(TranscriptFormat, JsonTextAndVerbose) {
    const auto text = format_transcript(sample(), TranscriptFormat::kText, "transcribe");
    EXPECT_EQ(text.body, "Hello there. General Kenobi.\n");
    const auto j = nlohmann::json::parse(
        format_transcript(sample(), TranscriptFormat::kJson, "transcribe").body);
    EXPECT_EQ(j["text"], "Hello there. General Kenobi.");
    EXPECT_EQ(j["usage"], (nlohmann::json{{"type", "duration"}, {"seconds", 5}}));
    const auto v = nlohmann::json::parse(
        format_transcript(sample(), TranscriptFormat::kVerboseJson, "translate").body);
    EXPECT_EQ(v["task"], "translate");
    EXPECT_EQ(v["language"], "english");
    EXPECT_DOUBLE_EQ(v["duration"].get<double>(), 4.2);
    ASSERT_EQ(v["segments"].size(), 3u);
    EXPECT_EQ(v["segments"][0]["tokens"], (nlohmann::json{50364, 2425, 50439}));
    EXPECT_EQ(v["segments"][1]["text"], " General Kenobi.");
    EXPECT_FLOAT_EQ(v["segments"][1]["avg_logprob"].get<float>(), -0.25f);
    for (const char* k : {"id", "seek", "start", "end", "temperature", "compression_ratio",
                          "no_speech_prob"}) {
        EXPECT_TRUE(v["segments"][0].contains(k)) << k;
    }
}

}  // namespace
}  // namespace ag::asr
