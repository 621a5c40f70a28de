// Window bookkeeping of the long-form loop (faster-whisper's generate_segments): the zlib
// compression ratio used for the fallback, and splitting one window's tokens into segments at
// timestamp pairs with the next seek position.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ag::asr {

inline constexpr double kTimePrecision = 0.02;  // seconds per timestamp token
inline constexpr double kTimePerFrame = 0.01;   // seconds per mel frame (hop 160 at 16 kHz)
inline constexpr int64_t kInputStride = 2;      // mel frames per encoder frame

// len(utf8) / len(zlib.compress(utf8)) at zlib's default level, as faster-whisper's
// get_compression_ratio (0 for empty text).
float compression_ratio(std::string_view text);

// ASCII whitespace trimmed from both ends (Python's str.strip() for the text we produce).
std::string_view strip(std::string_view s);

struct SplitPiece {
    double start = 0, end = 0;     // seconds
    std::vector<int32_t> tokens;   // including its timestamp tokens
};

struct WindowSplit {
    std::vector<SplitPiece> pieces;
    int64_t next_seek = 0;         // mel frame where the next window starts
    bool single_timestamp_ending = false;
};

// faster-whisper's _split_segments_by_timestamps for the tokens of the window that starts at
// mel frame `seek` (`time_offset` = seek · 0.01 s) and covers `segment_size` frames:
//  - consecutive timestamp pairs close segments; with a single timestamp at the very end the
//    whole window is consumed, otherwise the next window starts at the last closing timestamp;
//  - without pairs the window is one segment (ending at the last timestamp if any, else at
//    the window's duration) and the whole window is consumed.
WindowSplit split_by_timestamps(std::span<const int32_t> tokens, int32_t timestamp_begin,
                                double time_offset, int64_t segment_size, int64_t seek);

}  // namespace ag::asr
