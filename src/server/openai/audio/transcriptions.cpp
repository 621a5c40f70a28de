#include "server/openai/audio/transcriptions.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <memory>

#include "asr/language_names.h"
#include "base/log.h"
#include "server/http/sse.h"
#include "server/openai/api_error.h"
#include "server/openai/audio/audio_input.h"
#include "asr/transcript_format.h"
#include "server/openai/serving_common.h"

namespace ag::server::openai {

namespace {

using asr::duration_usage;
using asr::format_transcript;
using asr::FormattedTranscript;
using asr::needs_timestamps;
using asr::parse_transcript_format;
using asr::TranscriptFormat;

struct AudioRequest {
    std::string file_bytes, filename;
    bool has_file = false;
    std::optional<std::string> model;
    TranscriptFormat format = TranscriptFormat::kJson;
    bool stream = false;
    asr::TranscribeOptions options;
};

std::optional<bool> parse_bool(const std::string& s) {
    if (s == "true" || s == "True" || s == "1") return true;
    if (s == "false" || s == "False" || s == "0" || s.empty()) return false;
    return std::nullopt;
}

std::optional<ApiError> parse_temperature(const std::string& s, asr::TranscribeOptions& o) {
    double t = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), t);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(t) || t < 0 || t > 1) {
        return bad_request(
            fmt::format("'temperature' must be a number between 0 and 1, got '{}'", s),
            "temperature");
    }
    // As openai-whisper: start at `t`, step 0.2 up to 1.0 when a window fails the thresholds.
    o.temperatures.clear();
    for (double v = t; v <= 1.0 + 1e-6; v += 0.2) o.temperatures.push_back(static_cast<float>(v));
    return std::nullopt;
}

std::optional<ApiError> parse_field(const http::FormPart& p, bool translate, AudioRequest& r) {
    const std::string& v = p.data;
    if (p.name == "file") {
        r.file_bytes = v;
        r.filename = p.filename.value_or("file");
        r.has_file = true;
    } else if (p.name == "model") {
        r.model = v;
    } else if (p.name == "language") {
        if (v.empty()) return std::nullopt;
        auto code = asr::language_code(v);
        if (!code) {
            return bad_request(fmt::format("unknown language '{}': use an ISO-639-1 code such as "
                                           "'en' or 'zh'", v), "language");
        }
        r.options.language = *code;
    } else if (p.name == "prompt") {
        r.options.initial_prompt = v;
    } else if (p.name == "response_format") {
        auto f = parse_transcript_format(v);
        if (!f) {
            return bad_request(fmt::format("'response_format' must be json, text, srt, vtt or "
                                           "verbose_json, got '{}'", v), "response_format");
        }
        r.format = *f;
    } else if (p.name == "temperature") {
        return parse_temperature(v, r.options);
    } else if (p.name == "timestamp_granularities[]" || p.name == "timestamp_granularities") {
        if (v == "word") {
            return bad_request("word timestamps are not supported; use 'segment'",
                               "timestamp_granularities");
        }
        if (v != "segment") {
            return bad_request(fmt::format("unknown timestamp granularity '{}'", v),
                               "timestamp_granularities");
        }
    } else if (p.name == "stream") {
        auto b = parse_bool(v);
        if (!b) return bad_request("'stream' must be true or false", "stream");
        r.stream = *b;
    } else if (p.name == "task" && !translate) {
        // Not an OpenAI field; accepted so that one endpoint can also translate.
        if (v != "transcribe" && v != "translate") {
            return bad_request("'task' must be transcribe or translate", "task");
        }
        r.options.task = v;
    }
    return std::nullopt;  // other fields (chunking_strategy, include[], ...) are ignored
}

std::optional<ApiError> parse_request(const ServingContext& ctx, const http::HttpRequest& req,
                                      bool translate, AudioRequest& r) {
    const std::string type = req.header("Content-Type");
    if (type.find("multipart/form-data") == std::string::npos) {
        return bad_request(fmt::format("expected a multipart/form-data body (fields 'file', "
                                       "'model', ...), got Content-Type '{}'",
                                       type.empty() ? "(none)" : type));
    }
    if (translate) r.options.task = "translate";
    for (const http::FormPart& p : req.form) {
        if (auto e = parse_field(p, translate, r)) return e;
    }
    if (!r.has_file) return bad_request("the 'file' field (the audio file) is required", "file");
    if (r.model && !r.model->empty() && *r.model != ctx.audio.served_name &&
        *r.model != "whisper-1") {
        return not_found(fmt::format("The model `{}` does not exist.", *r.model));
    }
    r.options.timestamps = needs_timestamps(r.format);
    return std::nullopt;
}

void log_done(const ServingContext& ctx, const std::string& id, const asr::Transcript& t,
              std::chrono::steady_clock::time_point t0) {
    if (!ctx.log_requests) return;
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log::info("{}: {:.1f} s of audio transcribed in {:.2f} s ({} windows, {} tokens, language "
              "{})", id, t.duration, secs, t.windows, t.decoded_tokens, t.language);
}

http::HttpResponse stream_response(const ServingContext& ctx, std::shared_ptr<asr::AsrTask> task,
                                   std::string id, std::chrono::steady_clock::time_point t0) {
    http::HttpResponse res;
    res.content_type = "text/event-stream";
    res.headers.emplace_back("Cache-Control", "no-cache");
    res.stream = [ctx, task, id, t0](http::StreamWriter& w) {
        bool first = true;
        for (;;) {
            asr::Segment seg;
            const auto ev = task->next(&seg, std::chrono::milliseconds(100));
            if (ev == asr::AsrTask::Event::kTimeout) {
                if (!w.alive()) return task->cancel();
                continue;
            }
            if (ev == asr::AsrTask::Event::kDone) break;
            std::string delta = seg.text;
            if (first) {
                while (!delta.empty() && delta.front() == ' ') delta.erase(delta.begin());
            }
            if (delta.empty()) continue;
            first = false;
            const nlohmann::json e = {{"type", "transcript.text.delta"}, {"delta", delta}};
            if (!w.write(http::sse_event(dump(e)))) return task->cancel();
        }
        const auto& r = task->result();
        if (!r.ok()) {
            w.write(http::sse_event(dump(error_json(internal_error(r.status().message())))));
            return;
        }
        log_done(ctx, id, *r, t0);
        const nlohmann::json done = {{"type", "transcript.text.done"},
                                     {"text", r->text},
                                     {"usage", duration_usage(r->duration)}};
        if (w.write(http::sse_event(dump(done)))) w.write(http::sse_done());
    };
    return res;
}

http::HttpResponse handle(const ServingContext& ctx, const http::HttpRequest& req,
                          bool translate) {
    const auto t0 = std::chrono::steady_clock::now();
    if (auto e = check_audio_enabled(ctx, "file")) return error_response(*e);
    AudioRequest r;
    if (auto e = parse_request(ctx, req, translate, r)) return error_response(*e);
    std::vector<float> samples;
    if (auto e = decode_audio(ctx, r.file_bytes, r.filename, "file", samples)) {
        return error_response(*e);
    }
    std::string().swap(r.file_bytes);
    const std::string id = random_id(translate ? "trsl-" : "trsc-");
    auto task = ctx.audio.worker->submit(std::move(samples), r.options, r.stream);
    if (r.stream) return stream_response(ctx, std::move(task), id, t0);
    auto t = task->wait(req.client_alive);
    if (!t.ok()) {
        const ErrorCode c = t.status().code();
        if (c == ErrorCode::kInvalidArgument || c == ErrorCode::kNotFound) {
            return error_response(bad_request(t.status().message()));
        }
        return error_response(internal_error(t.status().message()));
    }
    log_done(ctx, id, *t, t0);
    FormattedTranscript out = format_transcript(*t, r.format, r.options.task);
    http::HttpResponse res;
    res.content_type = std::move(out.content_type);
    res.body = std::move(out.body);
    return res;
}

}  // namespace

http::HttpResponse handle_transcriptions(const ServingContext& ctx, const http::HttpRequest& req) {
    return handle(ctx, req, false);
}

http::HttpResponse handle_translations(const ServingContext& ctx, const http::HttpRequest& req) {
    return handle(ctx, req, true);
}

}  // namespace ag::server::openai
