// autoglm serve: the OpenAI-compatible server. Opens the port first (GET /health answers 503
// while loading), loads the model, starts the engine, then switches the API on. SIGINT/SIGTERM
// stop it cleanly. Flags use vLLM's names.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "ag/engine.h"
#include "base/log.h"
#include "base/mapped_file.h"
#include "base/process.h"
#include "chat/chat_template.h"
#include "asr/asr_worker.h"
#include "cli/cli_asr.h"
#include "cli/cli_common.h"
#include "cli/cli_media.h"
#include "server/server.h"

namespace ag::cli {

namespace {

struct ServeArgs {
    ModelArgs model;
    std::string host = "0.0.0.0";
    int port = 8000;
    std::string served_model_name = "autoglm-phone-9b";
    int max_model_len = 0;
    int max_num_seqs = 16;
    int max_num_batched_tokens = 2048;
    double kv_cache_memory_gib = 0.0;
    int block_size = 16;
    bool enable_prefix_caching = true;
    std::string reasoning_parser = "none";
    std::string api_key;
    int max_num_queued_reqs = 256;
    double mm_encoder_cache_gb = 1.0;
    std::string content_format = "auto";
    std::string limit_mm_per_prompt;
    std::string allowed_local_media_path;
    std::string mm_processor_kwargs;
    std::string positional_model;  // `vllm serve MODEL`
    bool log_requests = true;
    bool log_stats = true;
    AsrArgs asr;
    std::string asr_served_model_name;  // default: the directory's name
    double max_audio_seconds = 1800;
    std::vector<std::string> ignored;  // vLLM flags given that mean nothing here, as typed
};

// vLLM flags without a meaning on this engine. They are accepted, so that a vLLM command line
// works pasted, and each one given prints one warning saying why it is ignored.
struct IgnoredFlag {
    const char* names;  // one long name (vLLM's -tp/-pp/-dp become long names in main.cpp)
    bool takes_value;
    const char* why;
};
constexpr IgnoredFlag kIgnoredVllmFlags[] = {
    {"--gpu-memory-utilization", true,
     "the KV cache is sized by --kv-cache-memory, or by --max-model-len x --max-num-seqs"},
    {"--tensor-parallel-size", true, "one process runs the whole model"},
    {"--pipeline-parallel-size", true, "one process runs the whole model"},
    {"--data-parallel-size", true, "one process runs the whole model"},
    {"--distributed-executor-backend", true, "one process runs the whole model"},
    {"--mm-encoder-tp-mode", true, "the vision tower runs in this process, on a worker thread"},
    {"--mm-processor-cache-type", true, "vision-tower outputs are cached instead: --mm-encoder-cache-gb"},
    {"--mm-processor-cache-gb", true, "vision-tower outputs are cached instead: --mm-encoder-cache-gb"},
    {"--trust-remote-code", false, "no Python code is run; the architecture is built in"},
    {"--dtype", true, "weights keep their checkpoint dtypes (see --quantization)"},
    {"--enable-auto-tool-choice", false, "tool calls are not parsed; they stay in content"},
    {"--tool-call-parser", true, "tool calls are not parsed; they stay in content"},
    {"--enforce-eager", false, "there are no CUDA graphs"},
    {"--enable-chunked-prefill", false, "chunked prefill is always on"},
    {"--swap-space", true, "preempted sequences are recomputed, not swapped"},
    {"--seed", true, "each request's own seed is used"},
    {"--load-format", true, "the format is detected from the files"},
    {"--download-dir", true, "nothing is downloaded: --model is a local path"},
    {"--uvicorn-log-level", true, "there is no uvicorn"},
    {"--disable-uvicorn-access-log", false, "there is no uvicorn"},
    {"--enable-prompt-tokens-details", false, "usage always has prompt_tokens_details"},
};

void add_flags(CLI::App& cmd, ServeArgs& a) {
    add_model_options(cmd, a.model);
    cmd.add_option("--host", a.host, "address to listen on")->capture_default_str();
    cmd.add_option("--port", a.port, "port to listen on")->check(CLI::Range(0, 65535))
        ->capture_default_str();
    cmd.add_option("--served-model-name", a.served_model_name,
                   "the model name clients must send")->capture_default_str();
    cmd.add_option("--max-model-len", a.max_model_len,
                   "context length, prompt + completion (0: the model's)")
        ->check(CLI::Range(0, 1 << 24));
    cmd.add_option("--max-num-seqs", a.max_num_seqs, "sequences running at once")
        ->check(CLI::Range(1, 4096))->capture_default_str();
    cmd.add_option("--max-num-batched-tokens", a.max_num_batched_tokens,
                   "token budget per engine step")->check(CLI::Range(1, 1 << 24))
        ->capture_default_str();
    cmd.add_option("--kv-cache-memory", a.kv_cache_memory_gib,
                   "KV cache size in GiB (0: derived from max-model-len x max-num-seqs)")
        ->check(CLI::Range(0.0, 1e6));
    cmd.add_option("--block-size", a.block_size, "KV cache block size in tokens")
        ->check(CLI::Range(1, 1024))->capture_default_str();
    cmd.add_flag("--enable-prefix-caching,!--no-enable-prefix-caching",
                 a.enable_prefix_caching, "reuse the KV cache of shared prompt prefixes");
    cmd.add_option("--reasoning-parser", a.reasoning_parser,
                   "none: everything in content (vLLM without a parser); glm45: <think> text "
                   "in reasoning_content and reasoning")
        ->check(CLI::IsMember({"none", "glm45"}))->capture_default_str();
    cmd.add_option("--api-key", a.api_key, "require 'Authorization: Bearer KEY'")
        ->envname("AUTOGLM_API_KEY");
    cmd.add_option("--mm-encoder-cache-gb", a.mm_encoder_cache_gb,
                   "GiB of vision-tower outputs kept for repeated images (0: no encoder cache)")
        ->check(CLI::Range(0.0, 1e6))->capture_default_str();
    cmd.add_option("--max-num-queued-reqs", a.max_num_queued_reqs,
                   "waiting requests before new ones get 503")
        ->check(CLI::Range(1, 1 << 20))->capture_default_str();
    cmd.add_option("--chat-template-content-format", a.content_format,
                   "how content-part lists reach the chat template")
        ->check(CLI::IsMember({"auto", "string", "openai"}))->capture_default_str();
    cmd.add_option("--limit-mm-per-prompt", a.limit_mm_per_prompt,
                   "JSON: most items per modality in one request, e.g. '{\"image\": 10}' "
                   "(default 999 images)");
    cmd.add_option("--allowed-local-media-path", a.allowed_local_media_path,
                   "directory whose files may be sent as file:// image urls (default: none)");
    cmd.add_option("--mm-processor-kwargs", a.mm_processor_kwargs,
                   "JSON overrides of preprocessor_config.json, e.g. '{\"max_pixels\": 5000000}'");
    cmd.add_flag("--enable-log-requests,!--disable-log-requests", a.log_requests,
                 "one log line per finished request (on by default)");
    cmd.add_flag("!--disable-log-stats", a.log_stats,
                 "no periodic throughput line (every 10 s while there is work)");
    add_asr_options(cmd, a.asr, false);
    cmd.add_option("--asr-served-model-name", a.asr_served_model_name,
                   "the speech model's name in /v1/models (default: its directory's name; "
                   "'whisper-1' is always accepted)");
    cmd.add_option("--max-audio-seconds", a.max_audio_seconds,
                   "longest audio accepted (longer: 413)")
        ->check(CLI::Range(1.0, 1e6))->capture_default_str();
    cmd.add_option("model", a.positional_model,
                   "the model, as in `vllm serve MODEL` (same as --model)");
    for (const IgnoredFlag& f : kIgnoredVllmFlags) {
        const std::string first = f.names;
        const std::string why = f.why;
        CLI::Option* o = nullptr;
        if (f.takes_value) {
            o = cmd.add_option_function<std::string>(
                f.names, [&a, first, why](const std::string& v) {
                    a.ignored.push_back(fmt::format("{} {}: a vLLM flag that means nothing here ({}); "
                                                    "ignored", first, v, why));
                }, "ignored: " + why);
        } else {
            o = cmd.add_flag_callback(f.names, [&a, first, why] {
                a.ignored.push_back(
                    fmt::format("{}: a vLLM flag that means nothing here ({}); ignored", first, why));
            }, "ignored: " + why);
        }
        o->group("vLLM flags accepted and ignored");
    }
}

// --limit-mm-per-prompt: {"image": N} (other modalities are not accepted by this server).
Result<int32_t> image_limit(const std::string& text) {
    if (text.empty()) return 999;
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) {
        return Status(ErrorCode::kInvalidArgument,
                      "--limit-mm-per-prompt must be a JSON object like '{\"image\": 10}'");
    }
    int32_t limit = 999;
    for (const auto& [k, v] : j.items()) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 100000) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("--limit-mm-per-prompt: '{}' must be an integer in [0, "
                                      "100000]", k));
        }
        if (k == "image") {
            limit = v.get<int32_t>();
        } else if (k != "video" && k != "audio") {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("--limit-mm-per-prompt: unknown modality '{}'", k));
        }
    }
    return limit;
}

Result<server::MediaOptions> media_options(const ServeArgs& a, const LoadedModel& lm,
                                           const model::Model& m) {
    server::MediaOptions mo;
    auto limit = image_limit(a.limit_mm_per_prompt);
    if (!limit.ok()) return limit.status();
    mo.limit_images = *limit;
    if (!a.allowed_local_media_path.empty()) {
        std::error_code ec;
        const auto dir = std::filesystem::canonical(a.allowed_local_media_path, ec);
        if (ec || !std::filesystem::is_directory(dir, ec)) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("--allowed-local-media-path '{}' is not an existing "
                                      "directory", a.allowed_local_media_path));
        }
        mo.allowed_local_media_path = dir.string();
    }
    const model::VisionModel* vm = m.vision();
    if (vm == nullptr) return mo;
    auto pc = image_processor_config(lm, a.mm_processor_kwargs);
    if (!pc.ok()) return pc.status();
    if (pc->patch_dim() != vm->patch_dim() || pc->merge_size != vm->spatial_merge()) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("preprocessor_config.json (patch {}, merge {}) does not match "
                                  "the vision tower (patch dim {}, merge {})",
                                  pc->patch_size, pc->merge_size, vm->patch_dim(),
                                  vm->spatial_merge()));
    }
    mo.enabled = true;
    mo.image_token_id = vm->image_token_id();
    mo.processor = *pc;
    return mo;
}


void progress(int step, int n_steps, const std::string& what) {
    constexpr int kWidth = 30;
    const int filled = kWidth * step / n_steps;
    std::fprintf(stderr, "[INFO] Loading [%s%s] %3d%% %s\n", std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, '.').c_str(), 100 * step / n_steps, what.c_str());
}

// SIGINT/SIGTERM: while the model loads they exit at once (nothing to clean up yet);
// afterwards they wake wait_for_stop(). A handler (not sigwait) so that it works whichever
// thread the kernel picks, including threads started before serve ran.
std::atomic<bool> g_loading{true};
std::atomic<int> g_stop_signal{0};

extern "C" void on_stop_signal(int sig) {
    if (g_loading.load()) {
        constexpr char kMsg[] = "[INFO] interrupted while loading\n";
        [[maybe_unused]] const ssize_t n = write(2, kMsg, sizeof kMsg - 1);
        _exit(130);
    }
    g_stop_signal.store(sig);
}

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

// Seconds between throughput lines: AUTOGLM_LOG_STATS_INTERVAL (vLLM: VLLM_LOG_STATS_INTERVAL),
// default 10.
std::chrono::milliseconds stats_interval() {
    const char* env = std::getenv("AUTOGLM_LOG_STATS_INTERVAL");
    double s = 10.0;
    if (env != nullptr) {
        char* end = nullptr;
        const double v = std::strtod(env, &end);
        if (end != env && *end == '\0' && v > 0 && v < 1e6) {
            s = v;
        } else {
            log::warn("AUTOGLM_LOG_STATS_INTERVAL='{}' is not a positive number of seconds; "
                      "using 10", env);
        }
    }
    return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

// Waits for SIGINT/SIGTERM. With log_stats, every interval in which there was work it logs a
// line as vLLM's: prompt and generation throughput over the interval, running and waiting
// requests, KV cache use, prefix cache hit rate.
int wait_for_stop(const EngineClient& engine, bool log_stats) {
    using Clock = std::chrono::steady_clock;
    const auto kInterval = stats_interval();
    EngineStats prev = engine.stats();
    auto last = Clock::now();
    while (g_stop_signal.load() == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (!log_stats || Clock::now() - last < kInterval) continue;
        const EngineStats cur = engine.stats();
        const double dt = std::chrono::duration<double>(Clock::now() - last).count();
        last = Clock::now();
        const int64_t prompt = cur.prompt_tokens_total - prev.prompt_tokens_total;
        const int64_t gen = cur.generation_tokens_total - prev.generation_tokens_total;
        const int64_t queries = cur.prefix_queries_tokens - prev.prefix_queries_tokens;
        const int64_t hits = cur.prefix_hits_tokens - prev.prefix_hits_tokens;
        const bool busy = cur.n_running + cur.n_waiting + cur.n_encoding > 0;
        prev = cur;
        if (prompt == 0 && gen == 0 && !busy) continue;
        log::info("Avg prompt throughput: {:.1f} tokens/s, Avg generation throughput: {:.1f} "
                  "tokens/s, Running: {} reqs, Waiting: {} reqs, Encoding images: {} reqs, KV "
                  "cache usage: {:.1f}%, Prefix cache hit rate: {:.1f}%",
                  static_cast<double>(prompt) / dt, static_cast<double>(gen) / dt, cur.n_running,
                  cur.n_waiting, cur.n_encoding, 100.0 * cur.kv_usage,
                  queries > 0 ? 100.0 * static_cast<double>(hits) / static_cast<double>(queries)
                              : 0.0);
    }
    return g_stop_signal.load();
}

EngineConfig engine_config(const ServeArgs& a) {
    EngineConfig c;
    c.max_model_len = a.max_model_len;
    c.max_num_seqs = a.max_num_seqs;
    c.max_num_batched_tokens = a.max_num_batched_tokens;
    c.block_size = a.block_size;
    c.kv_cache_memory_gib = a.kv_cache_memory_gib;
    c.kv_cache_dtype = a.model.kv_dtype();
    c.enable_prefix_caching = a.enable_prefix_caching;
    c.max_num_queued_reqs = a.max_num_queued_reqs;
    c.encoder_cache_bytes = static_cast<int64_t>(a.mm_encoder_cache_gb * (1ull << 30));
    return c;
}

server::ModelInfo model_info(const ServeArgs& a, const LoadedModel& lm,
                             const model::ModelConfig& mc, const EngineConfig& ec) {
    server::ModelInfo info;
    info.root = lm.builtin ? "builtin" : lm.dir;
    info.max_model_len = ec.max_model_len > 0 ? ec.max_model_len
                                              : static_cast<int32_t>(
                                                    mc.text.max_position_embeddings);
    info.vocab_size = static_cast<int32_t>(mc.text.vocab_size);
    info.has_vision = mc.has_vision;
    info.generation_config = mc.generation_config;
    info.settings = {{"architecture", mc.architecture},
                     {"max_num_seqs", ec.max_num_seqs},
                     {"max_num_batched_tokens", ec.max_num_batched_tokens},
                     {"block_size", ec.block_size},
                     {"kv_cache_memory_gib", ec.kv_cache_memory_gib},
                     {"kv_cache_dtype", std::string(kv_dtype_name(ec.kv_cache_dtype))},
                     {"enable_prefix_caching", ec.enable_prefix_caching},
                     {"max_num_queued_reqs", ec.max_num_queued_reqs},
                     {"threads", a.model.threads}};
    return info;
}

// The speech model and its worker (--asr-model); an empty AudioOptions without one.
Result<server::AudioOptions> audio_options(const ServeArgs& a) {
    server::AudioOptions ao;
    ao.max_seconds = a.max_audio_seconds;
    if (a.asr.model.empty()) return ao;
    auto t = load_transcriber(a.asr);
    if (!t.ok()) return t.status();
    namespace fs = std::filesystem;
    ao.root = a.asr.model;
    ao.served_name = a.asr_served_model_name;
    if (ao.served_name.empty()) {
        fs::path p = fs::path(a.asr.model).lexically_normal();
        if (p.filename().empty()) p = p.parent_path();
        ao.served_name = p.filename().string();
    }
    ao.worker = std::make_shared<asr::AsrWorker>(std::move(t).value(), a.model.threads);
    log::info("speech model '{}' loaded from {} (transcriptions run on their own thread pool)",
              ao.served_name, a.asr.model);
    return ao;
}

Status load_and_serve(const ServeArgs& a, server::Server& srv) {
    const auto t0 = std::chrono::steady_clock::now();
    progress(0, 3, "reading weights and tokenizer");
    auto lm = load_model(a.model, true);
    if (!lm.ok()) return lm.status();
    auto media = media_options(a, *lm, *lm->model);
    if (!media.ok()) return media.status();
    progress(1, 3, "weights and tokenizer loaded");
    std::shared_ptr<const model::Model> model(std::move(lm->model));
    const EngineConfig requested = engine_config(a);
    auto engine = EngineClient::create(model, requested);
    if (!engine.ok()) return engine.status();
    std::shared_ptr<EngineClient> client(std::move(engine).value());
    progress(2, 3, "engine and KV cache ready");
    const std::string src = chat_template_source(*lm);
    std::shared_ptr<const chat::ChatTemplate> tmpl;
    if (!src.empty()) {
        auto parsed = chat::ChatTemplate::from_source(src);
        if (parsed.ok()) {
            tmpl = std::make_shared<const chat::ChatTemplate>(std::move(parsed).value());
        } else {  // /v1/completions still works; chat endpoints answer 400
            log::warn("the chat template cannot be used: {}", parsed.status().message());
        }
    } else {
        log::warn("the model has no chat template: /v1/chat/completions will answer 400");
    }
    auto tokenizer = std::make_shared<const tok::Tokenizer>(std::move(*lm->tokenizer));
    auto audio = audio_options(a);
    if (!audio.ok()) return audio.status();
    progress(3, 3, a.asr.model.empty() ? "chat template ready" : "chat template and speech model ready");
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log::info("Model loaded in {:.1f}s | Memory: {:.1f} GB", secs, static_cast<double>(resident_bytes()) / 1e9);
    server::ModelInfo info = model_info(a, *lm, model->config(), client->config());
    srv.set_ready(client, tokenizer, tmpl, info, std::move(media).value(),
                  std::move(audio).value());
    log::info("Server running at http://{}:{}", a.host, srv.port());
    std::fprintf(stderr, "[SUCCESS] engine started with async API support\n");
    g_loading.store(false);
    const int sig = wait_for_stop(*client, a.log_stats);
    log::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    srv.stop();
    return Status::ok_status();
}

Status run(ServeArgs& a) {
    for (const std::string& w : a.ignored) log::warn("{}", w);
    if (!a.positional_model.empty()) {
        if (!a.model.model.empty() && a.model.model != a.positional_model) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("two models given: '{}' (positional) and --model '{}'",
                                      a.positional_model, a.model.model));
        }
        a.model.model = a.positional_model;
    }
    auto reasoning = server::parse_reasoning_parser(a.reasoning_parser);
    if (!reasoning.ok()) return reasoning.status();
    auto format = server::parse_content_format(a.content_format);
    if (!format.ok()) return format.status();
    install_stop_handlers();
    server::ServerOptions so;
    so.host = a.host;
    so.port = a.port;
    so.served_model_name = a.served_model_name;
    so.api_key = a.api_key;
    so.reasoning = *reasoning;
    so.content_format = *format;
    so.log_requests = a.log_requests;
    so.n_http_threads = std::min(4096, a.max_num_seqs + a.max_num_queued_reqs + 16);
    log::info("Initializing {} ...", a.model.model.empty() ? "the built-in model" : a.model.model);
    server::Server srv(so);
    AG_RETURN_IF_ERROR(srv.start());
    log::info("Listening on http://{}:{} (GET /health answers 503 until the model is loaded)",
              a.host, srv.port());
    return load_and_serve(a, srv);
}

}  // namespace

void add_serve_command(CLI::App& app, int& rc) {
    auto args = std::make_shared<ServeArgs>();
    CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server");
    add_flags(*cmd, *args);
    cmd->callback([args, &rc] {
        const Status s = run(*args);
        rc = s.ok() ? 0 : report(s);
    });
}

}  // namespace ag::cli
