#include "server/server.h"

#include <algorithm>

#include "base/log.h"
#include "base/process.h"
#include "base/thread_pool.h"
#include "server/openai/api_error.h"
#include "server/openai/audio/transcriptions.h"
#include "server/openai/chat_completions/serving.h"
#include "server/openai/completions/serving.h"
#include "server/openai/models/models.h"
#include "server/openai/serving_common.h"
#include "server/openai/tokenize/tokenize.h"
#include "server/status_page/status_page.h"

namespace ag::server {

namespace {

http::HttpServerOptions http_options(const ServerOptions& o) {
    http::HttpServerOptions h;
    h.host = o.host;
    h.port = o.port;
    h.max_body_bytes = o.max_body_bytes;
    h.n_threads = o.n_http_threads;
    h.error_formatter = [](int status, std::string message) {
        return openai::error_response({status, std::move(message), ""});
    };
    return h;
}

// Constant-time comparison, so response timing does not leak the key.
bool same_secret(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
    }
    return diff == 0;
}

const char* reasoning_name(ReasoningParser r) {
    return r == ReasoningParser::kGlm45 ? "glm45" : "none";
}

const char* content_format_name(ContentFormat f) {
    switch (f) {
        case ContentFormat::kAuto: return "auto";
        case ContentFormat::kString: return "string";
        case ContentFormat::kOpenai: return "openai";
    }
    return "auto";
}

}  // namespace

Result<ReasoningParser> parse_reasoning_parser(const std::string& s) {
    if (s == "none" || s.empty()) return ReasoningParser::kNone;
    if (s == "glm45") return ReasoningParser::kGlm45;
    return Status(ErrorCode::kInvalidArgument,
                  "--reasoning-parser must be 'none' or 'glm45', got '" + s + "'");
}

Result<ContentFormat> parse_content_format(const std::string& s) {
    if (s == "auto") return ContentFormat::kAuto;
    if (s == "string") return ContentFormat::kString;
    if (s == "openai") return ContentFormat::kOpenai;
    return Status(ErrorCode::kInvalidArgument,
                  "--chat-template-content-format must be auto, string or openai, got '" + s +
                      "'");
}

Server::Server(ServerOptions options)
    : options_(std::move(options)),
      metrics_(options_.served_model_name),
      http_(http_options(options_)),
      started_(std::chrono::steady_clock::now()),
      created_(openai::unix_now()) {
    add_routes();
}

Server::~Server() { stop(); }

Status Server::start() { return http_.start(); }

void Server::stop() { http_.stop(); }

bool Server::ready() const {
    std::lock_guard lock(mu_);
    return ctx_ != nullptr;
}

std::shared_ptr<const ServingContext> Server::context() const {
    std::lock_guard lock(mu_);
    return ctx_;
}

void Server::set_ready(std::shared_ptr<EngineClient> engine,
                       std::shared_ptr<const tok::Tokenizer> tokenizer,
                       std::shared_ptr<const chat::ChatTemplate> chat_template, ModelInfo model,
                       MediaOptions media, AudioOptions audio) {
    auto ctx = std::make_shared<ServingContext>();
    ctx->engine = std::move(engine);
    ctx->tokenizer = std::move(tokenizer);
    ctx->chat_template = std::move(chat_template);
    ctx->model = std::move(model);
    ctx->model.served_name = options_.served_model_name;
    ctx->reasoning = options_.reasoning;
    ctx->content_format = options_.content_format;
    ctx->media = std::move(media);
    ctx->audio = std::move(audio);
    ctx->metrics = &metrics_;
    ctx->created = created_;
    ctx->log_requests = options_.log_requests;
    std::lock_guard lock(mu_);
    ctx_ = std::move(ctx);
}

bool Server::authorized(const http::HttpRequest& req) const {
    if (options_.api_key.empty()) return true;
    const std::string h = req.header("Authorization");
    constexpr std::string_view kBearer = "bearer ";
    if (h.size() < kBearer.size()) return false;
    std::string scheme = h.substr(0, kBearer.size());
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return scheme == kBearer && same_secret(h.substr(kBearer.size()), options_.api_key);
}

void Server::add_api_route(const std::string& method, const std::string& path,
                           ServingHandler handler) {
    http_.route(method, path, [this, handler](const http::HttpRequest& req) {
        if (!authorized(req)) {
            return openai::error_response({401, "Unauthorized: invalid or missing API key", ""});
        }
        std::shared_ptr<const ServingContext> ctx = context();
        if (!ctx) return openai::error_response(openai::unavailable("the model is loading"));
        return handler(*ctx, req);
    });
}

void Server::add_routes() {
    // vLLM: 200 with an empty body once serving; while loading a 503 that says so.
    const auto health = [this](const http::HttpRequest&) {
        if (!ready()) {
            return openai::error_response(openai::unavailable(
                "the model is loading; /health answers 200 once requests are served"));
        }
        http::HttpResponse r;
        r.content_type = "text/plain";
        return r;
    };
    http_.route("GET", "/health", health);
    http_.route("GET", "/ping", health);   // SageMaker's name, as vLLM has it
    http_.route("POST", "/ping", health);
    http_.route("GET", "/version", [this](const http::HttpRequest&) {
        return openai::json_response({{"version", options_.version}});
    });
    http_.route("GET", "/metrics", [this](const http::HttpRequest&) { return metrics_text(); });
    http_.route("GET", "/status", [this](const http::HttpRequest&) { return status_json(); });
    http_.route("GET", "/", [](const http::HttpRequest&) {
        http::HttpResponse r;
        r.content_type = "text/html; charset=utf-8";
        r.body = std::string(status_page_html());
        return r;
    });
    add_api_route("POST", "/v1/chat/completions", &openai::handle_chat_completions);
    add_api_route("POST", "/v1/completions", &openai::handle_completions);
    add_api_route("GET", "/v1/models", &openai::handle_models);
    add_api_route("GET", "/v1/models/*", &openai::handle_model);
    add_api_route("POST", "/v1/audio/transcriptions", &openai::handle_transcriptions);
    add_api_route("POST", "/v1/audio/translations", &openai::handle_translations);
    add_api_route("POST", "/tokenize", &openai::handle_tokenize);
    add_api_route("POST", "/detokenize", &openai::handle_detokenize);
}

http::HttpResponse Server::metrics_text() const {
    std::shared_ptr<const ServingContext> ctx = context();
    EngineStats stats;
    if (ctx) stats = ctx->engine->stats();
    http::HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.render(ctx ? &stats : nullptr);
    return r;
}

// Prompt and generation tokens per second over the last 10 s of /status samples (null until two
// samples a second apart exist).
nlohmann::json Server::token_rates(const EngineStats& s) const {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point now = Clock::now();
    std::lock_guard lock(rate_mu_);
    if (rate_samples_.empty() || now - rate_samples_.back().t >= std::chrono::seconds(1)) {
        rate_samples_.push_back({now, s.prompt_tokens_total, s.generation_tokens_total});
    }
    while (rate_samples_.size() > 1 && now - rate_samples_.front().t > std::chrono::seconds(60)) {
        rate_samples_.pop_front();
    }
    const RateSample& last = rate_samples_.back();
    const RateSample* first = &rate_samples_.front();
    for (const RateSample& r : rate_samples_) {
        if (last.t - r.t <= std::chrono::seconds(10)) {
            first = &r;
            break;
        }
    }
    if (first == &last && rate_samples_.size() > 1) first = &rate_samples_[rate_samples_.size() - 2];
    const double dt = std::chrono::duration<double>(last.t - first->t).count();
    if (dt <= 0) return {{"prompt_tokens_per_s", nullptr}, {"generation_tokens_per_s", nullptr}};
    return {{"prompt_tokens_per_s",
             static_cast<double>(last.prompt_tokens - first->prompt_tokens) / dt},
            {"generation_tokens_per_s",
             static_cast<double>(last.generation_tokens - first->generation_tokens) / dt}};
}

http::HttpResponse Server::status_json() const {
    std::shared_ptr<const ServingContext> ctx = context();
    EngineStats stats;
    if (ctx) stats = ctx->engine->stats();
    const double uptime =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    nlohmann::json model = {{"served_name", options_.served_model_name}};
    nlohmann::json settings = {{"reasoning_parser", reasoning_name(options_.reasoning)},
                               {"chat_template_content_format",
                                content_format_name(options_.content_format)},
                               {"api_key", options_.api_key.empty() ? "off" : "on"},
                               {"version", options_.version}};
    nlohmann::json live = metrics_.snapshot(ctx ? &stats : nullptr);
    live["memory_rss_gib"] = static_cast<double>(resident_bytes()) / (1 << 30);
    if (ctx) {
        model["root"] = ctx->model.root;
        model["max_model_len"] = ctx->model.max_model_len;
        model["vision"] = ctx->model.has_vision;
        if (ctx->audio.worker) {
            model["asr"] = {{"served_name", ctx->audio.served_name},
                            {"root", ctx->audio.root},
                            {"pending_transcriptions", ctx->audio.worker->pending()}};
            settings["max_audio_seconds"] = ctx->audio.max_seconds;
        }
        if (ctx->model.settings.is_object()) settings.update(ctx->model.settings);
        settings["threads"] = ThreadPool::global().n_threads();  // the effective count
        settings["kv_cache_size_gib"] = (static_cast<double>(stats.kv_capacity_tokens) *
                                             static_cast<double>(stats.kv_bytes_per_token) +
                                         static_cast<double>(stats.kv_open_rows_bytes)) /
                                        (1 << 30);
        live.update(token_rates(stats));
    }
    return openai::json_response({{"ready", ctx != nullptr},
                                  {"uptime_s", uptime},
                                  {"model", model},
                                  {"settings", settings},
                                  {"metrics", live}});
}

}  // namespace ag::server
