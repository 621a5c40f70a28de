// Band-limited resampling with libsoxr (one call over the whole signal, float32 in and out).
#include <soxr.h>

#include <cmath>

#include <fmt/format.h>

#include "audio/audio.h"

namespace ag::audio {

Result<std::vector<float>> resample(std::span<const float> in, int from_rate, int to_rate) {
    constexpr int kMaxRate = 768000;
    if (from_rate <= 0 || to_rate <= 0 || from_rate > kMaxRate || to_rate > kMaxRate) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("resample: rates must be within 1..{} Hz, got {} -> {}",
                                  kMaxRate, from_rate, to_rate));
    }
    if (from_rate == to_rate || in.empty()) return std::vector<float>(in.begin(), in.end());
    const double ratio = double(to_rate) / double(from_rate);
    // soxr_oneshot flushes, producing about n * ratio samples; a little slack on top.
    std::vector<float> out(size_t(std::ceil(double(in.size()) * ratio)) + 64);
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
    size_t done_in = 0, done_out = 0;
    const soxr_error_t err = soxr_oneshot(double(from_rate), double(to_rate), 1, in.data(),
                                          in.size(), &done_in, out.data(), out.size(), &done_out,
                                          &io, &quality, nullptr);
    if (err) {
        return Status(ErrorCode::kInternal, fmt::format("resample {} -> {} Hz: soxr: {}",
                                                        from_rate, to_rate, err));
    }
    out.resize(done_out);
    return out;
}

}  // namespace ag::audio
