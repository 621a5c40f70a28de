// autoglm transcribe: speech recognition of audio files with a Whisper model (HF or
// faster-whisper/CTranslate2 directory); text, JSON (with token ids), SRT or WebVTT out.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "asr/transcriber.h"
#include "audio/audio.h"
#include "base/mapped_file.h"
#include "base/thread_pool.h"
#include "cli/cli_common.h"

namespace ag::cli {

namespace {

struct TranscribeArgs {
    std::string model;
    std::vector<std::string> files;
    std::string language;
    std::string task = "transcribe";
    std::string format = "text";
    int threads = 0;
    bool timestamps = false;
    std::vector<float> temperatures;
    bool no_condition = false;
    std::string initial_prompt;
    int max_new_tokens = 0;
    uint64_t seed = 0;
};

// "HH:MM:SS,mmm" (SRT) / "HH:MM:SS.mmm" (VTT).
std::string clock(double s, char sep) {
    const int64_t ms = std::llround(std::max(s, 0.0) * 1000.0);
    return fmt::format("{:02}:{:02}:{:02}{}{:03}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                       sep, ms % 1000);
}

std::string trim(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\n");
    if (a == std::string::npos) return {};
    return s.substr(a, s.find_last_not_of(" \t\n") - a + 1);
}

nlohmann::json to_json(const std::string& file, const asr::Transcript& t) {
    nlohmann::json segs = nlohmann::json::array();
    for (const asr::Segment& s : t.segments) {
        segs.push_back({{"id", s.id}, {"seek", s.seek}, {"start", s.start}, {"end", s.end},
                        {"text", s.text}, {"tokens", s.tokens}, {"temperature", s.temperature},
                        {"avg_logprob", s.avg_logprob}, {"compression_ratio", s.compression_ratio},
                        {"no_speech_prob", s.no_speech_prob}});
    }
    return {{"file", file}, {"text", t.text}, {"language", t.language},
            {"language_probability", t.language_probability}, {"duration", t.duration},
            {"segments", segs},
            {"timings", {{"mel_seconds", t.mel_seconds}, {"encoder_seconds", t.encoder_seconds},
                         {"decoder_seconds", t.decoder_seconds}, {"windows", t.windows},
                         {"decoded_tokens", t.decoded_tokens}}}};
}

void print_subtitles(const asr::Transcript& t, bool srt) {
    if (!srt) std::printf("WEBVTT\n\n");
    for (const asr::Segment& s : t.segments) {
        if (srt) std::printf("%lld\n", static_cast<long long>(s.id));
        const char sep = srt ? ',' : '.';
        std::printf("%s --> %s\n%s\n\n", clock(s.start, sep).c_str(), clock(s.end, sep).c_str(),
                    trim(s.text).c_str());
    }
}

Status run(const TranscribeArgs& a) {
    ThreadPool::set_global_threads(a.threads);
    auto tr = asr::Transcriber::load(a.model);
    if (!tr.ok()) return tr.status();
    asr::TranscribeOptions o;
    o.language = a.language;
    o.task = a.task;
    o.timestamps = a.timestamps || a.format == "srt" || a.format == "vtt";
    if (!a.temperatures.empty()) o.temperatures = a.temperatures;
    o.condition_on_previous_text = !a.no_condition;
    o.initial_prompt = a.initial_prompt;
    o.max_new_tokens = a.max_new_tokens;
    o.seed = a.seed;
    nlohmann::json all = nlohmann::json::array();
    for (const std::string& f : a.files) {
        auto file = MappedFile::open(f);
        if (!file.ok()) return file.status();
        auto pcm = audio::load_16k({file->data(), file->size()}, f);
        if (!pcm.ok()) return pcm.status();
        auto t = (*tr)->transcribe(*pcm, o);
        if (!t.ok()) return Status(t.status().code(), f + ": " + t.status().message());
        if (a.format == "json") {
            all.push_back(to_json(f, *t));
        } else if (a.format == "text") {
            std::printf("%s\n", t->text.c_str());
        } else {
            print_subtitles(*t, a.format == "srt");
        }
        std::fprintf(stderr,
                     "[INFO] %s: %.2f s of audio, language %s (%.2f); mel %.3fs, encoder %.3fs "
                     "(%lld windows), decoder %.3fs (%lld tokens)\n",
                     f.c_str(), t->duration, t->language.c_str(), t->language_probability,
                     t->mel_seconds, t->encoder_seconds, static_cast<long long>(t->windows),
                     t->decoder_seconds, static_cast<long long>(t->decoded_tokens));
    }
    if (a.format == "json") {
        const nlohmann::json& out = all.size() == 1 ? all[0] : all;
        std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    }
    std::fflush(stdout);
    return {};
}

}  // namespace

void add_transcribe_command(CLI::App& app, int& rc) {
    auto args = std::make_shared<TranscribeArgs>();
    CLI::App* cmd = app.add_subcommand("transcribe", "Speech to text with a Whisper model");
    cmd->add_option("--asr-model", args->model,
                    "Whisper directory: Hugging Face WhisperForConditionalGeneration or "
                    "faster-whisper (CTranslate2), with tokenizer.json")
        ->required();
    cmd->add_option("files", args->files, "Audio files (WAV, FLAC, OGG/Vorbis, Opus, MP3)")->required();
    cmd->add_option("--language", args->language, "ISO code (en, zh, ...); default: detect");
    cmd->add_option("--task", args->task, "transcribe or translate (to English)")
        ->check(CLI::IsMember({"transcribe", "translate"}));
    cmd->add_option("--output-format", args->format, "text, json (segments with token ids), srt or vtt")
        ->check(CLI::IsMember({"text", "json", "srt", "vtt"}));
    cmd->add_option("--threads", args->threads, "CPU threads (default: all cores)")->check(CLI::Range(0, 1024));
    cmd->add_flag("--timestamps", args->timestamps,
                  "Decode with timestamp tokens (segments with times; implied by srt/vtt)");
    cmd->add_option("--temperature", args->temperatures,
                    "Temperature fallback ladder (default 0 0.2 0.4 0.6 0.8 1; 0 alone: greedy)")
        ->delimiter(',');
    cmd->add_flag("--no-condition-on-previous-text", args->no_condition,
                  "Do not prompt each window with the previous window's text");
    cmd->add_option("--initial-prompt", args->initial_prompt, "Text given as context to the first window");
    cmd->add_option("--max-new-tokens", args->max_new_tokens, "Per window (default: half the context)")
        ->check(CLI::Range(0, 100000));
    cmd->add_option("--seed", args->seed, "Seed of the sampling at temperatures > 0");
    cmd->callback([args, &rc] {
        Status s = run(*args);
        rc = s.ok() ? 0 : report(s);
    });
}

}  // namespace ag::cli
