// Thin wrapper over cpp-httplib: a route table of exact paths and "PREFIX*" paths (the longest
// matching prefix wins when no exact path matches; 404 unknown path, 405 wrong method), a body-size limit (413), chunked streaming bodies with client-disconnect detection.
// Nothing above this folder includes httplib.h, so swapping the HTTP library touches only here.
//
// Threading: handlers run on the HTTP thread pool, one connection per thread; a streaming
// body's producer runs on that same thread after the handler returned. Routes must be added
// before start().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ag::server::http {

/// Connections the kernel queues before accept() (capped by net.core.somaxconn); vLLM's
/// uvicorn uses 2048.
inline constexpr int kListenBacklog = 2048;
class ListeningServer;

/// One field of a multipart/form-data body (RFC 7578), as the `openai` SDK uploads files.
struct FormPart {
    std::string name;
    std::optional<std::string> filename;  ///< set for file fields
    std::string content_type;             ///< the part's Content-Type ("" when absent)
    std::string data;
};

struct HttpRequest {
    std::string method;
    std::string path;
    std::string body;                     ///< empty for multipart bodies: see `form`
    /// The fields of a multipart/form-data body, parsed by the HTTP layer (a malformed one is
    /// answered 400 before any handler runs).
    std::vector<FormPart> form;
    std::vector<std::pair<std::string, std::string>> headers;
    /// True while the client's connection is open (polls the socket; cheap).
    std::function<bool()> client_alive;

    /// Case-insensitive header lookup; "" if absent.
    std::string header(std::string_view name) const;
};

/// Where a streaming body goes. write() returns false once the client is gone.
class StreamWriter {
public:
    virtual ~StreamWriter() = default;
    virtual bool write(std::string_view data) = 0;
    virtual bool alive() = 0;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    /// When set, the body is produced by this function (chunked transfer encoding) after the
    /// status and headers were sent. Whatever it captures is destroyed when the connection
    /// is done with it, including when it never ran because the client left first.
    std::function<void(StreamWriter&)> stream;
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;
/// Builds the body for errors the HTTP layer itself produces (404, 405, 413, bad HTTP).
using ErrorFormatter = std::function<HttpResponse(int status, std::string message)>;

struct HttpServerOptions {
    std::string host = "127.0.0.1";
    int port = 8000;               ///< 0: any free port (see HttpServer::port())
    size_t max_body_bytes = 64u << 20;
    int n_threads = 64;            ///< connections served at once
    int read_timeout_s = 600;
    int write_timeout_s = 600;
    ErrorFormatter error_formatter;
};

class HttpServer {
public:
    explicit HttpServer(HttpServerOptions options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    void route(const std::string& method, const std::string& path, Handler handler);

    /// Binds the socket and starts serving on a background thread; returns once listening.
    [[nodiscard]] Status start();
    /// Stops accepting, ends requests in flight (their client_alive() / StreamWriter turn
    /// false) and joins the connection threads. Idempotent.
    void stop();
    /// The bound port (useful with port 0); valid after start().
    int port() const { return port_; }

private:
    HttpResponse dispatch(const HttpRequest& req) const;
    HttpResponse error(int status, std::string message) const;

    HttpServerOptions options_;
    std::unique_ptr<ListeningServer> svr_;
    std::map<std::string, std::map<std::string, Handler>> routes_;  // path -> method -> handler
    std::thread listener_;
    int port_ = 0;
    // Set by stop(): streams and waits in flight see their client as gone and end.
    std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace ag::server::http
