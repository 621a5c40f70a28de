#include "asr/segmenter.h"

#include <zlib.h>

#include <vector>

namespace ag::asr {

float compression_ratio(std::string_view text) {
    if (text.empty()) return 0.0f;
    uLongf n = compressBound(static_cast<uLong>(text.size()));
    std::vector<Bytef> out(n);
    if (compress2(out.data(), &n, reinterpret_cast<const Bytef*>(text.data()),
                  static_cast<uLong>(text.size()), Z_DEFAULT_COMPRESSION) != Z_OK || n == 0) {
        return 0.0f;
    }
    return static_cast<float>(static_cast<double>(text.size()) / static_cast<double>(n));
}

std::string_view strip(std::string_view s) {
    const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    while (!s.empty() && ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && ws(s.back())) s.remove_suffix(1);
    return s;
}

WindowSplit split_by_timestamps(std::span<const int32_t> tokens, int32_t timestamp_begin,
                                double time_offset, int64_t segment_size, int64_t seek) {
    WindowSplit out;
    const auto is_ts = [&](int32_t t) { return t >= timestamp_begin; };
    const size_t n = tokens.size();
    out.single_timestamp_ending = n >= 2 && !is_ts(tokens[n - 2]) && is_ts(tokens[n - 1]);
    std::vector<size_t> slices;
    for (size_t i = 1; i < n; ++i) {
        if (is_ts(tokens[i]) && is_ts(tokens[i - 1])) slices.push_back(i);
    }
    if (!slices.empty()) {
        if (out.single_timestamp_ending) slices.push_back(n);
        size_t last = 0;
        for (size_t cur : slices) {
            SplitPiece p;
            p.tokens.assign(tokens.begin() + static_cast<std::ptrdiff_t>(last),
                            tokens.begin() + static_cast<std::ptrdiff_t>(cur));
            p.start = time_offset + (p.tokens.front() - timestamp_begin) * kTimePrecision;
            p.end = time_offset + (p.tokens.back() - timestamp_begin) * kTimePrecision;
            out.pieces.push_back(std::move(p));
            last = cur;
        }
        if (out.single_timestamp_ending) {
            out.next_seek = seek + segment_size;
        } else {
            out.next_seek = seek + int64_t(tokens[last - 1] - timestamp_begin) * kInputStride;
        }
        return out;
    }
    double duration = static_cast<double>(segment_size) * kTimePerFrame;
    int32_t last_ts = -1;
    for (int32_t t : tokens) {
        if (is_ts(t)) last_ts = t;
    }
    if (last_ts >= 0 && last_ts != timestamp_begin) {
        duration = (last_ts - timestamp_begin) * kTimePrecision;
    }
    SplitPiece p;
    p.start = time_offset;
    p.end = time_offset + duration;
    p.tokens.assign(tokens.begin(), tokens.end());
    out.pieces.push_back(std::move(p));
    out.next_seek = seek + segment_size;
    return out;
}

}  // namespace ag::asr
