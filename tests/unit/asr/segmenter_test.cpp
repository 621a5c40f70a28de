// Compression ratio (values from faster-whisper's get_compression_ratio) and the window
// splitting / seeking arithmetic of faster-whisper's _split_segments_by_timestamps.
#include <gtest/gtest.h>

#include <vector>

#include "asr/segmenter.h"

namespace ag::asr {
namespace {

TEST(CompressionRatio, MatchesPythonZlib) {
    EXPECT_NEAR(compression_ratio("hello world"), 0.5789473684210527, 1e-6);
    EXPECT_NEAR(compression_ratio("the the the the the the the the the the the the the the"),
                3.6666666666666665, 1e-6);
    EXPECT_NEAR(compression_ratio("Ein kurzer Satz auf Deutsch."), 0.7777777777777778, 1e-6);
    EXPECT_NEAR(compression_ratio("你好，世界。你好，世界。"), 1.1612903225806452, 1e-6);
    EXPECT_EQ(compression_ratio(""), 0.0f);
}

TEST(Strip, AsciiWhitespace) {
    EXPECT_EQ(strip("  a b \n"), "a b");
    EXPECT_EQ(strip(" \t "), "");
}

constexpr int32_t kTs = 100;  // timestamp_begin

TEST(SplitByTimestamps, NoTimestampsIsOneSegmentOverTheWindow) {
    const std::vector<int32_t> tokens = {1, 2, 3};
    const WindowSplit s = split_by_timestamps(tokens, kTs, 12.5, 1234, 1250);
    ASSERT_EQ(s.pieces.size(), 1u);
    EXPECT_DOUBLE_EQ(s.pieces[0].start, 12.5);
    EXPECT_DOUBLE_EQ(s.pieces[0].end, 12.5 + 12.34);
    EXPECT_EQ(s.pieces[0].tokens, tokens);
    EXPECT_EQ(s.next_seek, 1250 + 1234);
    EXPECT_FALSE(s.single_timestamp_ending);
}

TEST(SplitByTimestamps, PairsCloseSegmentsAndSeekToTheLastClosingTimestamp) {
    // <|0.00|> a b <|1.00|><|1.00|> c <|2.50|><|2.50|> d (unfinished)
    const std::vector<int32_t> tokens = {kTs, 1, 2, kTs + 50, kTs + 50, 3, kTs + 125, kTs + 125, 4};
    const WindowSplit s = split_by_timestamps(tokens, kTs, 30.0, 3000, 3000);
    ASSERT_EQ(s.pieces.size(), 2u);
    EXPECT_DOUBLE_EQ(s.pieces[0].start, 30.0);
    EXPECT_DOUBLE_EQ(s.pieces[0].end, 31.0);
    EXPECT_EQ(s.pieces[0].tokens, (std::vector<int32_t>{kTs, 1, 2, kTs + 50}));
    EXPECT_DOUBLE_EQ(s.pieces[1].start, 31.0);
    EXPECT_DOUBLE_EQ(s.pieces[1].end, 32.5);
    EXPECT_EQ(s.pieces[1].tokens, (std::vector<int32_t>{kTs + 50, 3, kTs + 125}));
    EXPECT_EQ(s.next_seek, 3000 + 125 * 2);  // 2.50 s = 250 frames
    EXPECT_FALSE(s.single_timestamp_ending);
}

TEST(SplitByTimestamps, SingleTimestampEndingConsumesTheWindow) {
    const std::vector<int32_t> tokens = {kTs, 1, kTs + 40, kTs + 40, 2, kTs + 90};
    const WindowSplit s = split_by_timestamps(tokens, kTs, 0.0, 2000, 0);
    ASSERT_TRUE(s.single_timestamp_ending);
    ASSERT_EQ(s.pieces.size(), 2u);
    EXPECT_EQ(s.pieces[1].tokens, (std::vector<int32_t>{kTs + 40, 2, kTs + 90}));
    EXPECT_DOUBLE_EQ(s.pieces[1].end, 1.8);
    EXPECT_EQ(s.next_seek, 2000);
}

TEST(SplitByTimestamps, LoneTimestampsSetTheEndOfTheOnlySegment) {
    const std::vector<int32_t> tokens = {kTs, 1, 2, kTs + 70};
    const WindowSplit s = split_by_timestamps(tokens, kTs, 5.0, 900, 500);
    ASSERT_EQ(s.pieces.size(), 1u);
    EXPECT_DOUBLE_EQ(s.pieces[0].end, 5.0 + 1.4);
    EXPECT_EQ(s.next_seek, 1400);
    // only <|0.00|>: the window's duration
    const std::vector<int32_t> zero = {1, kTs};
    EXPECT_DOUBLE_EQ(split_by_timestamps(zero, kTs, 0.0, 900, 0).pieces[0].end, 9.0);
}

}  // namespace
}  // namespace ag::asr
