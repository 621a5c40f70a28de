#include "server/openai/audio/audio_input.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "audio/audio.h"
#include "multimodal/data_url.h"
#include "multimodal/image_source.h"

namespace ag::server::openai {

namespace {

std::string lower_prefix(const std::string& s, size_t n) {
    std::string out = s.substr(0, std::min(n, s.size()));
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

std::optional<ApiError> check_audio_enabled(const ServingContext& ctx, const std::string& param) {
    if (ctx.audio.worker) return std::nullopt;
    return bad_request(
        "speech input is not enabled on this server: start it with --asr-model DIR (a Whisper "
        "checkpoint: Hugging Face WhisperForConditionalGeneration or a CTranslate2/faster-whisper "
        "directory)",
        param);
}

std::optional<ApiError> decode_audio(const ServingContext& ctx, const std::string& bytes,
                                     const std::string& what, const std::string& param,
                                     std::vector<float>& samples) {
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    auto r = audio::load_16k({data, bytes.size()}, what, ctx.audio.max_seconds);
    if (!r.ok()) {
        const ErrorCode c = r.status().code();
        const int status = c == ErrorCode::kResourceExhausted || c == ErrorCode::kOutOfRange ? 413 : 400;
        return ApiError{status, fmt::format("{}: {}", what, r.status().message()), param};
    }
    samples = std::move(r).value();
    return std::nullopt;
}

std::optional<ApiError> read_audio_source(const ServingContext& ctx, const AudioPart& a,
                                          std::string& bytes) {
    auto fail = [&](const std::string& why) {
        return bad_request(fmt::format("{}: {}", a.where, why), "messages");
    };
    if (a.source.empty()) return fail("empty audio URL");
    if (mm::is_data_url(a.source)) {
        mm::ImageLimits limits;
        limits.max_encoded_bytes = ctx.audio.max_bytes;
        auto d = mm::parse_data_url(a.source, limits);
        if (!d.ok()) return fail(d.status().message());
        if (!d->mime_type.empty() && !d->mime_type.starts_with("audio/") &&
            d->mime_type != "application/octet-stream" && !d->mime_type.starts_with("video/")) {
            return fail(fmt::format("data URL media type '{}' is not audio", d->mime_type));
        }
        bytes = std::move(d->data);
        return std::nullopt;
    }
    const std::string scheme = lower_prefix(a.source, 8);
    if (scheme.starts_with("http://") || scheme.starts_with("https://")) {
        return fail("http(s) audio URLs are not supported: this server does not access the "
                    "network; send the audio inline (input_audio, or a data:audio/...;base64 "
                    "URL)");
    }
    auto path = mm::local_media_path(a.source, ctx.media.allowed_local_media_path, "audio");
    if (!path.ok()) return fail(path.status().message());
    std::ifstream f(*path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    if (!f.good() && !f.eof()) return fail(fmt::format("cannot read '{}'", *path));
    bytes = ss.str();
    return std::nullopt;
}

std::optional<ApiError> transcribe_audio_parts(const ServingContext& ctx,
                                               std::vector<chat::Message>& messages,
                                               const std::vector<AudioPart>& audio,
                                               const std::function<bool()>& alive) {
    if (audio.empty()) return std::nullopt;
    if (auto e = check_audio_enabled(ctx, "messages")) return e;
    for (const AudioPart& a : audio) {
        std::string bytes;
        if (auto e = read_audio_source(ctx, a, bytes)) return e;
        std::vector<float> samples;
        if (auto e = decode_audio(ctx, bytes, a.where, "messages", samples)) return e;
        std::string().swap(bytes);
        auto task = ctx.audio.worker->submit(std::move(samples), {});
        auto t = task->wait(alive);
        if (!t.ok()) {
            return internal_error(fmt::format("{}: transcription failed: {}", a.where,
                                              t.status().message()));
        }
        std::string text = t->text;
        while (!text.empty() && text.front() == ' ') text.erase(text.begin());
        messages.at(a.message).parts.at(a.part).text = std::move(text);
    }
    return std::nullopt;
}

}  // namespace ag::server::openai
