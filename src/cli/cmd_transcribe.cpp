// autoglm transcribe: speech recognition of audio files with a Whisper model (HF or
// faster-whisper/CTranslate2 directory); text, JSON (with token ids), SRT or WebVTT out.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "asr/transcript_format.h"
#include "asr/transcriber.h"
#include "audio/audio.h"
#include "base/mapped_file.h"
#include "base/thread_pool.h"
#include "cli/cli_asr.h"
#include "cli/cli_common.h"

namespace ag::cli {

namespace {

struct TranscribeArgs {
    AsrArgs asr;
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

// verbose_json plus what a command line wants: the file, the language code and probability,
// the timings.
nlohmann::json to_json(const std::string& file, const asr::Transcript& t, const std::string& task) {
    nlohmann::json j = asr::verbose_json(t, task);
    j["file"] = file;
    j["language_code"] = t.language;
    j["language_probability"] = t.language_probability;
    j["timings"] = {{"mel_seconds", t.mel_seconds}, {"encoder_seconds", t.encoder_seconds},
                    {"decoder_seconds", t.decoder_seconds}, {"windows", t.windows},
                    {"decoded_tokens", t.decoded_tokens}};
    return j;
}

Status run(const TranscribeArgs& a) {
    ThreadPool::set_global_threads(a.threads);
    auto tr = load_transcriber(a.asr);
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
            all.push_back(to_json(f, *t, a.task));
        } else {
            const auto fmt = *asr::parse_transcript_format(a.format);
            std::fputs(asr::format_transcript(*t, fmt, a.task).body.c_str(), stdout);
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
    add_asr_options(*cmd, args->asr, true);
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
