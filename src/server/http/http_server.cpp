#include "server/http/http_server.h"

#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/log.h"
#include "server/http/connection_probe.h"

namespace ag::server::http {

namespace {

// httplib's compiled default sets SO_REUSEPORT, which lets a second server bind the same port
// and silently share its connections. SO_REUSEADDR alone still allows a restart while old
// connections sit in TIME_WAIT, but never two listeners.
void socket_options(int fd) {
    const int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

// Why binding host:port fails, asked of the kernel directly (httplib only reports false).
std::string bind_failure(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* res = nullptr;
    const std::string service = std::to_string(port);
    const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints,
                               &res);
    if (rc != 0) return std::string("cannot resolve host: ") + gai_strerror(rc);
    std::string why = "unknown error";
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        const int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        socket_options(fd);
        const bool ok = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
        const int err = errno;
        close(fd);
        if (ok) continue;
        why = err == EADDRINUSE ? "address already in use (is another server running there?)"
                                : std::strerror(err);
        break;
    }
    freeaddrinfo(res);
    return why;
}

std::string host_port(const std::string& host, int port) {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

class SinkWriter final : public StreamWriter {
public:
    SinkWriter(httplib::DataSink& sink, const std::atomic<bool>& stopping)
        : sink_(sink), stopping_(stopping) {}
    bool write(std::string_view data) override {
        if (!ok_ || stopping_.load()) return false;
        if (data.empty()) return alive();
        ok_ = sink_.is_writable() && sink_.write(data.data(), data.size());
        return ok_;
    }
    bool alive() override {
        ok_ = ok_ && !stopping_.load() && sink_.is_writable();
        return ok_;
    }
    bool ok() const { return ok_; }

private:
    httplib::DataSink& sink_;
    const std::atomic<bool>& stopping_;
    bool ok_ = true;
};

HttpRequest convert(const httplib::Request& req, std::shared_ptr<std::atomic<bool>> stopping) {
    HttpRequest out;
    out.method = req.method;
    out.path = req.path;
    out.body = req.body;
    for (const auto& [name, f] : req.files) {
        FormPart p;
        p.name = name;
        if (!f.filename.empty()) p.filename = f.filename;
        p.content_type = f.content_type;
        p.data = f.content;
        out.form.push_back(std::move(p));
    }
    for (const auto& [k, v] : req.headers) out.headers.emplace_back(k, v);
    auto probe = std::make_shared<ConnectionProbe>(req.remote_addr, req.remote_port,
                                                   req.local_port);
    out.client_alive = [probe, stopping] { return !stopping->load() && probe->alive(); };
    return out;
}

void apply(HttpResponse&& resp, httplib::Response& res,
           std::shared_ptr<std::atomic<bool>> stopping) {
    res.status = resp.status;
    for (const auto& [k, v] : resp.headers) res.set_header(k, v);
    if (!resp.stream) {
        res.set_content(std::move(resp.body), resp.content_type);
        return;
    }
    auto fn = std::make_shared<std::function<void(StreamWriter&)>>(std::move(resp.stream));
    auto provider = [fn, stopping](size_t, httplib::DataSink& sink) {
        SinkWriter writer(sink, *stopping);
        (*fn)(writer);
        if (!writer.ok()) return false;
        sink.done();
        return true;
    };
    res.set_chunked_content_provider(resp.content_type, std::move(provider));
}

}  // namespace

// httplib::Server with access to its listening socket (protected there), so that the listen
// backlog can be raised past the CPPHTTPLIB_LISTEN_BACKLOG (5) compiled into the library.
class ListeningServer final : public httplib::Server {
public:
    int listening_fd() const { return static_cast<int>(svr_sock_.load()); }
};

std::string HttpRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) return v;
    }
    return {};
}

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)), svr_(std::make_unique<ListeningServer>()) {
    svr_->set_socket_options(socket_options);
    svr_->set_payload_max_length(options_.max_body_bytes);
    svr_->set_read_timeout(options_.read_timeout_s, 0);
    svr_->set_write_timeout(options_.write_timeout_s, 0);
    svr_->set_keep_alive_timeout(5);
    const int n_threads = std::max(1, options_.n_threads);
    svr_->new_task_queue = [n_threads] {
        return new httplib::ThreadPool(static_cast<size_t>(n_threads));
    };
    // httplib calls this for every status >= 400; fill only the bodies it produced itself
    // (413 over the body limit, 400 unparsable HTTP).
    httplib::Server::HandlerWithResponse on_error = [this](const httplib::Request&,
                                                           httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const char* msg = res.status == 413 ? "request body exceeds the size limit"
                                            : "malformed HTTP request";
        HttpResponse r = error(res.status, msg);
        for (const auto& [k, v] : r.headers) res.set_header(k, v);
        res.set_content(r.body, r.content_type);
        return httplib::Server::HandlerResponse::Handled;
    };
    svr_->set_error_handler(std::move(on_error));
    auto adapter = [this](const httplib::Request& req, httplib::Response& res) {
        apply(dispatch(convert(req, stopping_)), res, stopping_);
    };
    svr_->Get(".*", adapter);
    svr_->Post(".*", adapter);
    svr_->Put(".*", adapter);
    svr_->Delete(".*", adapter);
    svr_->Patch(".*", adapter);
    svr_->Options(".*", adapter);
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(const std::string& method, const std::string& path, Handler handler) {
    routes_[path][method] = std::move(handler);
}

HttpResponse HttpServer::error(int status, std::string message) const {
    if (options_.error_formatter) return options_.error_formatter(status, std::move(message));
    HttpResponse r;
    r.status = status;
    r.content_type = "text/plain";
    r.body = std::move(message);
    return r;
}

HttpResponse HttpServer::dispatch(const HttpRequest& req) const {
    auto path_it = routes_.find(req.path);
    if (path_it == routes_.end()) {  // the longest "PREFIX*" route that PREFIX-matches
        size_t best = 0;
        for (auto it = routes_.begin(); it != routes_.end(); ++it) {
            const std::string& p = it->first;
            if (p.empty() || p.back() != '*') continue;
            const size_t n = p.size() - 1;
            if (req.path.size() > n && req.path.compare(0, n, p, 0, n) == 0 && n > best) {
                best = n;
                path_it = it;
            }
        }
    }
    if (path_it == routes_.end()) return error(404, "Not Found: " + req.path);
    const std::string method = req.method == "HEAD" ? "GET" : req.method;
    auto it = path_it->second.find(method);
    if (it == path_it->second.end()) {
        HttpResponse r = error(405, "Method Not Allowed: " + req.method + " " + req.path);
        std::string allow;
        for (const auto& [m, h] : path_it->second) allow += (allow.empty() ? "" : ", ") + m;
        r.headers.emplace_back("Allow", allow);
        return r;
    }
    try {
        return it->second(req);
    } catch (const std::exception& e) {
        log::error("handler for {} {} failed: {}", req.method, req.path, e.what());
        return error(500, std::string("internal error: ") + e.what());
    }
}

Status HttpServer::start() {
    bool bound = false;
    if (options_.port == 0) {
        port_ = svr_->bind_to_any_port(options_.host);
        bound = port_ > 0;
    } else {
        bound = svr_->bind_to_port(options_.host, options_.port);
        port_ = options_.port;
    }
    if (!bound) {
        return Status(ErrorCode::kIoError,
                      "cannot listen on " + host_port(options_.host, options_.port) + ": " +
                          bind_failure(options_.host, options_.port));
    }
    // Listening again on a listening socket only changes its backlog (Linux, BSD).
    if (::listen(svr_->listening_fd(), kListenBacklog) != 0) {
        log::warn("cannot raise the listen backlog to {}: {}", kListenBacklog,
                  std::strerror(errno));
    }
    listener_ = std::thread([this] { svr_->listen_after_bind(); });
    for (int i = 0; i < 5000 && !svr_->is_running(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (svr_->is_running()) return Status::ok_status();
    stop();
    return Status(ErrorCode::kIoError, "the HTTP listener did not start");
}

void HttpServer::stop() {
    stopping_->store(true);
    if (svr_) svr_->stop();
    if (listener_.joinable()) listener_.join();
}

}  // namespace ag::server::http
