#include "server/http/http_server.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "base/log.h"
#include "server/http/connection_probe.h"

namespace ag::server::http {

namespace {

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

std::string HttpRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) return v;
    }
    return {};
}

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)), svr_(std::make_unique<httplib::Server>()) {
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
        return Status(ErrorCode::kIoError, "cannot listen on " + options_.host + ":" +
                                               std::to_string(options_.port) +
                                               " (address in use or not available?)");
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
