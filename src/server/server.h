// The OpenAI-compatible HTTP server: wires the HTTP layer, the endpoints, metrics and the status
// page. start() listens at once (GET /health answers 503 and the API 503 "loading") so load
// balancers and users see the server while the model loads; set_ready() switches it on.
//
// Public without an API key: /health, /version, /metrics, / and /status. Everything else needs
// `Authorization: Bearer <key>` when ServerOptions::api_key is set.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "ag/engine.h"
#include "base/status.h"
#include "chat/chat_template.h"
#include "server/http/http_server.h"
#include "server/metrics/metrics.h"
#include "server/openai/serving_context.h"
#include "tokenizer/tokenizer.h"

namespace ag::server {

struct ServerOptions {
    std::string host = "0.0.0.0";
    int port = 8000;                      ///< 0: any free port
    std::string served_model_name = "autoglm-phone-9b";
    std::string api_key;                  ///< empty: no authentication
    ReasoningParser reasoning = ReasoningParser::kNone;
    ContentFormat content_format = ContentFormat::kAuto;
    size_t max_body_bytes = 64u << 20;    ///< larger bodies get 413
    int n_http_threads = 64;              ///< connections served at once
    std::string version = "0.1.0";
    bool log_requests = false;            ///< one log line per finished request
};

/// Parses the flag spellings ("none"/"glm45", "auto"/"string"/"openai").
Result<ReasoningParser> parse_reasoning_parser(const std::string& s);
Result<ContentFormat> parse_content_format(const std::string& s);

class Server {
public:
    explicit Server(ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds and starts serving (health 503 until set_ready).
    [[nodiscard]] Status start();
    /// Makes the API live. `chat_template` may be null (chat endpoints then answer 400).
    void set_ready(std::shared_ptr<EngineClient> engine,
                   std::shared_ptr<const tok::Tokenizer> tokenizer,
                   std::shared_ptr<const chat::ChatTemplate> chat_template, ModelInfo model,
                   MediaOptions media = {}, AudioOptions audio = {});
    /// Stops listening and waits for the listener. Streams in flight end when their
    /// connections close. Idempotent.
    void stop();

    int port() const { return http_.port(); }
    bool ready() const;

private:
    using ServingHandler =
        http::HttpResponse (*)(const ServingContext&, const http::HttpRequest&);
    void add_routes();
    void add_api_route(const std::string& method, const std::string& path, ServingHandler h);
    std::shared_ptr<const ServingContext> context() const;
    bool authorized(const http::HttpRequest& req) const;
    http::HttpResponse status_json() const;
    http::HttpResponse metrics_text() const;

    ServerOptions options_;
    metrics::Metrics metrics_;
    http::HttpServer http_;
    std::chrono::steady_clock::time_point started_;
    int64_t created_ = 0;
    mutable std::mutex mu_;
    std::shared_ptr<const ServingContext> ctx_;  // null while loading

    // Token counters sampled by /status (at most one a second, the last 60 s) for its rates.
    struct RateSample {
        std::chrono::steady_clock::time_point t;
        int64_t prompt_tokens = 0, generation_tokens = 0;
    };
    nlohmann::json token_rates(const EngineStats& s) const;
    mutable std::mutex rate_mu_;
    mutable std::deque<RateSample> rate_samples_;
};

}  // namespace ag::server
