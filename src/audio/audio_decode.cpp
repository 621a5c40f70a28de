// Decoding through libsndfile's virtual I/O over a memory buffer, downmix to mono, and
// load_16k (decode + duration limit + resample).
#include <sndfile.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>

#include <fmt/format.h>

#include "audio/audio.h"

namespace ag::audio {
namespace {

// Sample rates accepted from a file header: anything outside is corrupt or not speech audio.
constexpr int kMinSampleRate = 1000;
constexpr int kMaxSampleRate = 768000;
constexpr int kMaxChannels = 256;

struct MemReader {
    const uint8_t* data;
    sf_count_t size;
    sf_count_t pos;
};

sf_count_t vio_get_filelen(void* user) { return static_cast<MemReader*>(user)->size; }

sf_count_t vio_seek(sf_count_t offset, int whence, void* user) {
    auto* r = static_cast<MemReader*>(user);
    sf_count_t base = 0;
    switch (whence) {
        case SEEK_SET: base = 0; break;
        case SEEK_CUR: base = r->pos; break;
        case SEEK_END: base = r->size; break;
        default: return -1;
    }
    if ((offset > 0 && base > std::numeric_limits<sf_count_t>::max() - offset) ||
        base + offset < 0) {
        return -1;
    }
    // Seeking past the end is allowed (as for files); reads there return 0 bytes.
    r->pos = base + offset;
    return r->pos;
}

sf_count_t vio_read(void* ptr, sf_count_t count, void* user) {
    auto* r = static_cast<MemReader*>(user);
    if (count <= 0 || r->pos >= r->size) return 0;
    const sf_count_t n = std::min(count, r->size - r->pos);
    std::memcpy(ptr, r->data + r->pos, size_t(n));
    r->pos += n;
    return n;
}

sf_count_t vio_write(const void*, sf_count_t, void*) { return 0; }
sf_count_t vio_tell(void* user) { return static_cast<MemReader*>(user)->pos; }

struct SndfileCloser {
    void operator()(SNDFILE* f) const { sf_close(f); }
};

Status invalid(std::string_view name, std::string_view what) {
    return {ErrorCode::kInvalidArgument, fmt::format("{}: {}", name, what)};
}

// Decodes at most max_seconds of audio (0: no limit) and sets `over_limit` when the file has
// more (the samples then stop just past the limit). `header_frames` is the frame count the
// header announces (0 when unknown; for messages only, MP3 headers estimate it).
Result<Pcm> decode_limited(std::span<const uint8_t> bytes, std::string_view name,
                           double max_seconds, bool& over_limit, int64_t& header_frames) {
    over_limit = false;
    header_frames = 0;
    if (bytes.empty()) return invalid(name, "audio file is empty");
    MemReader reader{bytes.data(), sf_count_t(bytes.size()), 0};
    SF_VIRTUAL_IO vio{vio_get_filelen, vio_seek, vio_read, vio_write, vio_tell};
    SF_INFO info{};
    std::unique_ptr<SNDFILE, SndfileCloser> sf(sf_open_virtual(&vio, SFM_READ, &info, &reader));
    if (!sf) {
        // sf_strerror(nullptr) reports the failure of the last sf_open* (process-wide).
        return invalid(name, fmt::format("not a recognised audio format ({})",
                                         sf_strerror(nullptr)));
    }
    if (info.samplerate < kMinSampleRate || info.samplerate > kMaxSampleRate) {
        return invalid(name, fmt::format("sample rate {} Hz is outside {}..{} Hz", info.samplerate,
                                         kMinSampleRate, kMaxSampleRate));
    }
    if (info.channels < 1 || info.channels > kMaxChannels) {
        return invalid(name, fmt::format("{} channels (1..{} supported)", info.channels,
                                         kMaxChannels));
    }
    if (info.frames > 0 && info.frames < SF_COUNT_MAX) header_frames = info.frames;
    // max_seconds * rate frames; a bound beyond int64 is no bound.
    const double limit = max_seconds * info.samplerate;
    const int64_t max_frames =
        max_seconds > 0 && limit < 9.0e18 ? int64_t(std::floor(limit)) : int64_t(0);

    Pcm pcm;
    pcm.sample_rate = info.samplerate;
    if (header_frames > 0) {
        const int64_t expect = max_frames > 0 ? std::min(header_frames, max_frames) : header_frames;
        // The header may lie; reserve only a bounded amount up front (16 M frames).
        pcm.samples.reserve(size_t(std::min<int64_t>(expect, int64_t(1) << 24)));
    }
    const int ch = info.channels;
    constexpr sf_count_t kChunk = 4096;
    std::vector<float> buf(size_t(kChunk) * size_t(ch));
    for (;;) {
        const sf_count_t got = sf_readf_float(sf.get(), buf.data(), kChunk);
        if (got <= 0) break;
        for (sf_count_t i = 0; i < got; ++i) {
            const float* frame = buf.data() + size_t(i) * size_t(ch);
            float s = 0.0f;
            for (int c = 0; c < ch; ++c) s += frame[c];
            if (ch > 1) s /= float(ch);
            pcm.samples.push_back(std::isfinite(s) ? s : 0.0f);  // NaN/Inf in float files
        }
        if (max_frames > 0 && int64_t(pcm.samples.size()) > max_frames) {
            over_limit = true;
            return pcm;
        }
    }
    if (pcm.samples.empty()) {
        const int err = sf_error(sf.get());
        if (err != SF_ERR_NO_ERROR) {
            return invalid(name, fmt::format("corrupt audio data ({})", sf_strerror(sf.get())));
        }
        return invalid(name, "contains no samples");
    }
    return pcm;
}

}  // namespace

Result<Pcm> decode(std::span<const uint8_t> bytes, std::string_view name) {
    bool over = false;
    int64_t header_frames = 0;
    return decode_limited(bytes, name, 0.0, over, header_frames);
}

Result<Pcm> decode_file(const std::string& path) {
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        if (err == ENOENT || err == ENOTDIR) {
            return Status(ErrorCode::kNotFound, fmt::format("{}: no such audio file", path));
        }
        return Status(ErrorCode::kIoError,
                      fmt::format("{}: cannot open ({})", path, std::strerror(err)));
    }
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    if (in.bad()) return Status(ErrorCode::kIoError, fmt::format("{}: read failed", path));
    return decode(bytes, path);
}

Result<std::vector<float>> load_16k(std::span<const uint8_t> bytes, std::string_view name,
                                    double max_seconds) {
    if (std::isnan(max_seconds) || max_seconds < 0) {
        return invalid(name, fmt::format("max_seconds must be >= 0, got {}", max_seconds));
    }
    // The limit is enforced while decoding (a long file is never decoded in full), so before
    // resampling.
    bool over = false;
    int64_t header_frames = 0;
    Result<Pcm> pcm = decode_limited(bytes, name, max_seconds, over, header_frames);
    if (!pcm.ok()) return pcm.status();
    if (over) {
        const double seconds =
            double(std::max<int64_t>(int64_t(pcm->samples.size()), header_frames)) /
            pcm->sample_rate;
        // No `name` prefix: this message is meant for the user as is.
        return Status(ErrorCode::kResourceExhausted,
                      fmt::format("audio is {:.1f} s, longer than the limit of {:g} s", seconds,
                                  max_seconds));
    }
    return resample(pcm->samples, pcm->sample_rate, kWhisperSampleRate);
}

}  // namespace ag::audio
