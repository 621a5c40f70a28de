// autoglm bench asr: speech recognition speed on one audio file (or a generated signal): the
// real-time factor and where the time goes (log-mel, encoder, decoder).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "audio/audio.h"
#include "base/thread_pool.h"
#include "cli/cli_asr.h"
#include "cli/cli_common.h"

namespace ag::cli {

namespace {

struct BenchAsrArgs {
    AsrArgs asr;
    std::string audio;       // empty: a generated signal of `seconds`
    double seconds = 60;
    int threads = 0;
    int repetitions = 1;
    int warmup = 1;
    std::string language = "en";
    bool timestamps = false;
    bool json = false;
    bool no_condition = false;
};

// A deterministic, speech-band signal (a gliding harmonic tone with syllable-rate amplitude
// modulation): no words, so the transcript means nothing; use --audio for real speech.
std::vector<float> generated(double seconds) {
    const auto n = static_cast<size_t>(seconds * audio::kWhisperSampleRate);
    std::vector<float> x(n);
    double phase = 0;
    for (size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / audio::kWhisperSampleRate;
        const double f0 = 140 + 40 * std::sin(2 * M_PI * 0.3 * t);
        phase += 2 * M_PI * f0 / audio::kWhisperSampleRate;
        const double env = 0.5 + 0.5 * std::sin(2 * M_PI * 4.0 * t);
        x[i] = static_cast<float>(0.2 * env *
                                  (std::sin(phase) + 0.5 * std::sin(2 * phase) +
                                   0.25 * std::sin(3 * phase)));
    }
    return x;
}

Status run(const BenchAsrArgs& a) {
    ThreadPool::set_global_threads(a.threads);
    auto t = load_transcriber(a.asr);
    if (!t.ok()) return t.status();
    std::vector<float> samples;
    if (a.audio.empty()) {
        samples = generated(a.seconds);
    } else {
        auto pcm = audio::decode_file(a.audio);
        if (!pcm.ok()) return pcm.status();
        auto r = audio::resample(pcm->samples, pcm->sample_rate, audio::kWhisperSampleRate);
        if (!r.ok()) return r.status();
        samples = std::move(r).value();
    }
    asr::TranscribeOptions opt;
    opt.language = a.language;
    opt.timestamps = a.timestamps;
    opt.temperatures = {0.0f};  // timing a fixed amount of work: no fallback
    opt.condition_on_previous_text = !a.no_condition;
    const double audio_s = static_cast<double>(samples.size()) / audio::kWhisperSampleRate;
    std::vector<double> totals;
    asr::Transcript last;
    for (int w = 0; w < a.warmup; ++w) {
        auto tr = (*t)->transcribe(samples, opt);
        if (!tr.ok()) return tr.status();
    }
    for (int rep = 0; rep < a.repetitions; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        auto tr = (*t)->transcribe(samples, opt);
        if (!tr.ok()) return tr.status();
        totals.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        last = std::move(tr).value();
    }
    std::sort(totals.begin(), totals.end());
    const double total = totals[totals.size() / 2];
    const nlohmann::json out = {
        {"asr_model", a.asr.model},
        {"audio", a.audio.empty() ? "generated" : a.audio},
        {"audio_seconds", audio_s},
        {"threads", ThreadPool::global().n_threads()},
        {"repetitions", a.repetitions},
        {"warmup", a.warmup},
        {"windows", last.windows},
        {"decoded_tokens", last.decoded_tokens},
        {"total_seconds", total},
        {"mel_seconds", last.mel_seconds},
        {"encoder_seconds", last.encoder_seconds},
        {"decoder_seconds", last.decoder_seconds},
        {"real_time_factor", total / audio_s},
        {"times_real_time", audio_s / total},
        {"text", last.text}};
    if (a.json) {
        std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return {};
    }
    std::printf("audio %.1f s, %lld windows, %lld tokens, %d threads\n"
                "total %.3f s (median of %d): log-mel %.3f s, encoder %.3f s, decoder %.3f s\n"
                "real-time factor %.4f (%.1fx real time)\n",
                audio_s, static_cast<long long>(last.windows),
                static_cast<long long>(last.decoded_tokens), ThreadPool::global().n_threads(),
                total, a.repetitions, last.mel_seconds, last.encoder_seconds, last.decoder_seconds,
                total / audio_s, audio_s / total);
    return {};
}

}  // namespace

void add_bench_asr_command(CLI::App& bench, int& rc) {
    auto args = std::make_shared<BenchAsrArgs>();
    CLI::App* cmd = bench.add_subcommand(
        "asr", "Speech recognition speed: real-time factor, log-mel / encoder / decoder time");
    add_asr_options(*cmd, args->asr, true);
    cmd->add_option("--audio", args->audio,
                    "audio file (WAV, FLAC, OGG, Opus, MP3); default: a generated signal");
    cmd->add_option("--seconds", args->seconds, "length of the generated signal")
        ->check(CLI::Range(0.1, 36000.0))->capture_default_str();
    cmd->add_option("--threads", args->threads, "CPU threads (default: all cores)")
        ->check(CLI::Range(0, 1024));
    cmd->add_option("--repetitions", args->repetitions, "timed runs (the median is reported)")
        ->check(CLI::Range(1, 100))->capture_default_str();
    cmd->add_option("--warmup", args->warmup, "untimed runs first")
        ->check(CLI::Range(0, 100))->capture_default_str();
    cmd->add_option("--language", args->language, "language code (empty: detect)")
        ->capture_default_str();
    cmd->add_flag("--timestamps", args->timestamps, "decode with timestamp tokens");
    cmd->add_flag("--no-condition-on-previous-text", args->no_condition,
                  "do not prompt each window with the previous window's text");
    cmd->add_flag("--json", args->json, "print one JSON object (with the transcript)");
    cmd->callback([args, &rc] {
        const Status s = run(*args);
        rc = s.ok() ? 0 : report(s);
    });
}

}  // namespace ag::cli
