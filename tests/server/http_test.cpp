// The whole server in-process over loopback with a FakeEngine: statuses, SSE order, usage,
// stream/non-stream agreement, and client disconnects aborting engine requests.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "fake_engine.h"
#include "server/server.h"

namespace ag::server {
namespace {

using nlohmann::json;
using testing::FakeEngine;
using testing::FakeEngineOptions;

std::shared_ptr<const tok::Tokenizer> fixture_tokenizer() {
    auto r = tok::Tokenizer::load("tests/fixtures/tokenizers/glm4");
    EXPECT_TRUE(r.ok()) << r.status().message();
    return std::make_shared<const tok::Tokenizer>(std::move(r).value());
}

class ServerTest : public ::testing::Test {
protected:
    void start(FakeEngineOptions eo = {}, std::string api_key = "") {
        tok_ = fixture_tokenizer();
        if (eo.script.empty()) eo.script = tok_->encode("Hello world, this is a test of it.");
        if (!eo.eos) eo.eos = 3000;
        engine_ = std::make_shared<FakeEngine>(eo);
        ServerOptions so;
        so.host = "127.0.0.1";
        so.port = 0;
        so.api_key = std::move(api_key);
        so.max_body_bytes = 1 << 20;
        so.n_http_threads = 16;
        so.reasoning = ReasoningParser::kGlm45;
        server_ = std::make_unique<Server>(so);
        ASSERT_TRUE(server_->start().ok());
        client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
        client_->set_read_timeout(10, 0);
    }
    void make_ready() {
        auto tmpl = std::make_shared<const chat::ChatTemplate>(
            *chat::ChatTemplate::from_source(tok_->chat_template()));
        ModelInfo info;
        info.root = "fixture";
        info.max_model_len = 512;
        info.vocab_size = tok_->vocab_size();
        server_->set_ready(engine_, tok_, tmpl, info);
    }
    void TearDown() override {
        client_.reset();
        if (server_) server_->stop();
    }
    httplib::Result post(const std::string& path, const json& body,
                         const httplib::Headers& h = {}) {
        return client_->Post(path.c_str(), h, body.dump(), "application/json");
    }
    static json chat(json extra = json::object()) {
        json body = {{"model", "autoglm-phone-9b"},
                     {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                     {"max_tokens", 6},
                     {"temperature", 0}};
        body.update(extra);
        return body;
    }
    // Waits until `n` requests were aborted in all and none is running.
    bool wait_for_abort(size_t n = 1, int ms = 3000) const {
        for (int i = 0; i < ms / 10; ++i) {
            if (engine_->aborted().size() >= n && engine_->n_active() == 0) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    std::shared_ptr<const tok::Tokenizer> tok_;
    std::shared_ptr<FakeEngine> engine_;
    std::unique_ptr<Server> server_;
    std::unique_ptr<httplib::Client> client_;
};

// The JSON payloads of an SSE body; the last event must be [DONE].
std::vector<json> sse_events(const std::string& body, bool& done) {
    std::vector<json> out;
    done = false;
    size_t start = 0;
    while (start < body.size()) {
        const size_t end = body.find("\n\n", start);
        EXPECT_NE(end, std::string::npos) << body.substr(start);
        if (end == std::string::npos) break;
        const std::string ev = body.substr(start, end - start);
        EXPECT_EQ(ev.rfind("data: ", 0), 0u) << ev;
        EXPECT_FALSE(done) << "event after [DONE]";
        if (ev == "data: [DONE]") done = true;
        else out.push_back(json::parse(ev.substr(6)));
        start = end + 2;
    }
    return out;
}

void expect_error(const httplib::Result& r, int status) {
    ASSERT_TRUE(r) << "no response";
    EXPECT_EQ(r->status, status) << r->body;
    const json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r->body;
    EXPECT_TRUE(j["error"]["message"].is_string());
    EXPECT_TRUE(j["error"]["type"].is_string());
    EXPECT_TRUE(j["error"].contains("param"));
    EXPECT_EQ(j["error"]["code"], status);
}

// The kernel's own view of a listening socket's backlog (sock_diag reports it as the write
// queue of a LISTEN socket); -1 when the query is refused or the port is not found.
int listen_backlog_of(int port) {
    const int fd = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG);
    if (fd < 0) return -1;
    struct {
        nlmsghdr nlh;
        inet_diag_req_v2 req;
    } msg{};
    msg.nlh.nlmsg_len = sizeof msg;
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.req.sdiag_family = AF_INET;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = 1u << TCP_LISTEN;
    int backlog = -1;
    if (send(fd, &msg, sizeof msg, 0) == static_cast<ssize_t>(sizeof msg)) {
        alignas(nlmsghdr) char buf[1 << 15];
        bool done = false;
        while (!done) {
            const ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            int left = static_cast<int>(n);
            for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, left);
                 h = NLMSG_NEXT(h, left)) {
                if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                    done = true;
                    break;
                }
                const auto* d = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
                if (ntohs(d->id.idiag_sport) == port) backlog = static_cast<int>(d->idiag_wqueue);
            }
        }
    }
    close(fd);
    return backlog;
}

TEST_F(ServerTest, PortInUseIsAClearErrorAndTheBacklogIsLarge) {
    start();
    ServerOptions so;
    so.host = "127.0.0.1";
    so.port = server_->port();
    Server second(so);
    const Status st = second.start();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("address already in use"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("127.0.0.1:" + std::to_string(so.port)), std::string::npos)
        << st.message();
    // The first server still answers: the second did not take the port over (no SO_REUSEPORT).
    auto r = client_->Get("/health");
    ASSERT_TRUE(r);

    int somaxconn = 4096;
    std::ifstream("/proc/sys/net/core/somaxconn") >> somaxconn;
    const int backlog = listen_backlog_of(server_->port());
    if (backlog < 0) GTEST_SKIP() << "sock_diag not available here";
    EXPECT_GE(backlog, std::min(512, somaxconn));
}

TEST_F(ServerTest, HealthIs503UntilReady) {
    start();
    auto h = client_->Get("/health");
    ASSERT_TRUE(h);
    expect_error(h, 503);  // an OpenAI-style JSON error that says why
    EXPECT_NE(json::parse(h->body)["error"]["message"].get<std::string>().find("loading"),
              std::string::npos)
        << h->body;
    expect_error(client_->Get("/ping"), 503);
    expect_error(post("/v1/chat/completions", chat()), 503);
    EXPECT_EQ(client_->Get("/metrics")->status, 200);
    EXPECT_EQ(client_->Get("/")->status, 200);
    make_ready();
    h = client_->Get("/health");
    EXPECT_EQ(h->status, 200);
    EXPECT_EQ(h->body, "");
    EXPECT_EQ(client_->Get("/ping")->status, 200);
    EXPECT_EQ(client_->Post("/ping", "", "application/json")->status, 200);
    EXPECT_EQ(json::parse(client_->Get("/version")->body)["version"], "0.1.0");
    auto status = json::parse(client_->Get("/status")->body);
    EXPECT_EQ(status["ready"], true);
}

TEST_F(ServerTest, NonStreamingChat) {
    start();
    make_ready();
    auto r = post("/v1/chat/completions", chat());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["model"], "autoglm-phone-9b");
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
    EXPECT_EQ(j["usage"]["completion_tokens"], 6);
    EXPECT_GT(j["usage"]["prompt_tokens"], 0);
    EXPECT_EQ(j["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    const auto req = engine_->requests().back();
    EXPECT_EQ(req.sampling.max_tokens, 6);
    EXPECT_EQ(*req.sampling.temperature, 0.0f);
}

TEST_F(ServerTest, StreamingOrderAndUsage) {
    start();
    make_ready();
    auto r = post("/v1/chat/completions",
                  chat({{"stream", true}, {"stream_options", {{"include_usage", true}}}}));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
    bool done = false;
    auto events = sse_events(r->body, done);
    EXPECT_TRUE(done);
    ASSERT_GE(events.size(), 3u);
    const json& first = events.front();
    EXPECT_EQ(first["object"], "chat.completion.chunk");
    EXPECT_EQ(first["choices"][0]["delta"], json({{"role", "assistant"}, {"content", ""}}));
    std::string text;
    for (size_t i = 1; i + 1 < events.size(); ++i) {
        EXPECT_EQ(events[i]["id"], first["id"]);
        EXPECT_EQ(events[i]["created"], first["created"]);
        const json& c = events[i]["choices"][0];
        if (c["delta"].contains("content")) text += c["delta"]["content"].get<std::string>();
        if (i + 2 < events.size()) {
            EXPECT_TRUE(c["finish_reason"].is_null());
        }
    }
    EXPECT_EQ(events[events.size() - 2]["choices"][0]["finish_reason"], "length");
    const json& usage = events.back();
    EXPECT_EQ(usage["choices"], json::array());
    EXPECT_EQ(usage["usage"]["completion_tokens"], 6);
    EXPECT_TRUE(usage["usage"]["prompt_tokens_details"].contains("cached_tokens"));

    auto full = json::parse(post("/v1/chat/completions", chat())->body);
    EXPECT_EQ(full["choices"][0]["message"]["content"], text);
}

TEST_F(ServerTest, Glm45ReasoningStreamAndFull) {
    FakeEngineOptions eo;
    eo.script = fixture_tokenizer()->encode("<think>let me see</think><answer>done</answer>");
    start(eo);
    make_ready();
    const json body = chat({{"max_tokens", static_cast<int>(eo.script.size())}});
    const json full = json::parse(post("/v1/chat/completions", body)->body);
    const json& msg = full["choices"][0]["message"];
    EXPECT_EQ(msg["reasoning_content"], "let me see");
    EXPECT_EQ(msg["reasoning"], "let me see");
    EXPECT_EQ(msg["content"], "<answer>done</answer>");
    bool done = false;
    json streamed = body;
    streamed["stream"] = true;
    auto events = sse_events(post("/v1/chat/completions", streamed)->body, done);
    EXPECT_TRUE(done);
    std::string reasoning, content;
    for (const auto& e : events) {
        const json& d = e["choices"][0]["delta"];
        if (d.contains("reasoning_content")) {
            EXPECT_EQ(d["reasoning"], d["reasoning_content"]);
            reasoning += d["reasoning_content"].get<std::string>();
        }
        if (d.contains("content")) content += d["content"].get<std::string>();
    }
    EXPECT_EQ(reasoning, "let me see");
    EXPECT_EQ(content, "<answer>done</answer>");
    json hidden = body;
    hidden["return_reasoning"] = false;
    const json h = json::parse(post("/v1/chat/completions", hidden)->body);
    EXPECT_TRUE(h["choices"][0]["message"]["reasoning_content"].is_null());
    EXPECT_EQ(h["choices"][0]["message"]["content"], "<answer>done</answer>");
}

TEST_F(ServerTest, StopStringAbortsAndIsNotEmitted) {
    start();
    make_ready();
    auto r = post("/v1/chat/completions", chat({{"stop", "test"}, {"max_tokens", 50}}));
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello world, this is a ");
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(j["choices"][0]["stop_reason"], "test");
    EXPECT_TRUE(wait_for_abort());
}

TEST_F(ServerTest, NChoicesGetSeedPlusI) {
    start();
    make_ready();
    auto r = post("/v1/chat/completions", chat({{"n", 3}, {"seed", 10}}));
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    ASSERT_EQ(j["choices"].size(), 3u);
    EXPECT_EQ(j["usage"]["completion_tokens"], 18);
    std::set<uint64_t> seeds;
    for (const auto& req : engine_->requests()) seeds.insert(*req.sampling.seed);
    EXPECT_EQ(seeds, (std::set<uint64_t>{10, 11, 12}));
}

TEST_F(ServerTest, LogprobsShape) {
    start();
    make_ready();
    auto r = post("/v1/chat/completions", chat({{"logprobs", true}, {"top_logprobs", 2}}));
    ASSERT_EQ(r->status, 200) << r->body;
    const json lp = json::parse(r->body)["choices"][0]["logprobs"]["content"];
    ASSERT_EQ(lp.size(), 6u);
    EXPECT_EQ(lp[0]["top_logprobs"].size(), 2u);
    EXPECT_TRUE(lp[0]["bytes"].is_array());
    auto c = post("/v1/completions", {{"prompt", "abc"}, {"max_tokens", 3}, {"logprobs", 1}});
    ASSERT_EQ(c->status, 200) << c->body;
    const json cl = json::parse(c->body)["choices"][0]["logprobs"];
    EXPECT_EQ(cl["tokens"].size(), 3u);
    EXPECT_EQ(cl["top_logprobs"][0].size(), 1u);
}

TEST_F(ServerTest, CompletionsStreamAndTokenize) {
    start();
    make_ready();
    auto r = post("/v1/completions", {{"prompt", "abc"}, {"max_tokens", 4}, {"stream", true}});
    ASSERT_EQ(r->status, 200);
    bool done = false;
    auto events = sse_events(r->body, done);
    EXPECT_TRUE(done);
    EXPECT_EQ(events.front()["object"], "text_completion");
    auto t = json::parse(post("/tokenize", {{"prompt", "Hello world"}})->body);
    EXPECT_EQ(t["count"], t["tokens"].size());
    EXPECT_EQ(t["max_model_len"], 512);
    auto d = json::parse(post("/detokenize", {{"tokens", t["tokens"]}})->body);
    EXPECT_EQ(d["prompt"], "Hello world");
    auto m = json::parse(client_->Get("/v1/models")->body);
    EXPECT_EQ(m["data"][0]["id"], "autoglm-phone-9b");
    EXPECT_EQ(m["data"][0]["max_model_len"], 512);
    // models.retrieve: the same card by id; another id (or a longer path) is a 404.
    auto one = client_->Get("/v1/models/autoglm-phone-9b");
    ASSERT_TRUE(one);
    EXPECT_EQ(one->status, 200);
    EXPECT_EQ(json::parse(one->body)["id"], "autoglm-phone-9b");
    EXPECT_EQ(json::parse(one->body)["object"], "model");
    expect_error(client_->Get("/v1/models/gpt-4"), 404);
    expect_error(client_->Get("/v1/models/autoglm-phone-9b/x"), 404);
    expect_error(client_->Post("/v1/models/autoglm-phone-9b", "{}", "application/json"), 405);
}

TEST_F(ServerTest, ErrorStatuses) {
    start();
    make_ready();
    expect_error(client_->Get("/nope"), 404);
    expect_error(client_->Get("/v1/chat/completions"), 405);
    expect_error(client_->Post("/v1/chat/completions", "{not json", "application/json"), 400);
    expect_error(post("/v1/chat/completions", chat({{"model", "gpt-4"}})), 404);
    expect_error(post("/v1/chat/completions", chat({{"temperature", -1}})), 400);
    expect_error(post("/v1/chat/completions", chat({{"max_tokens", 100000}})), 400);
    expect_error(post("/v1/chat/completions", json::array({1, 2})), 400);
    const std::string big(2 << 20, 'x');
    expect_error(client_->Post("/v1/chat/completions", big, "application/json"), 413);
    engine_->set_capacity(0);
    auto busy = post("/v1/chat/completions", chat());
    expect_error(busy, 503);
    EXPECT_FALSE(busy->get_header_value("Retry-After").empty());
}

TEST_F(ServerTest, HostileBodiesNeverCrash) {
    start();
    make_ready();
    for (const std::string& body :
         {std::string(100000, '['), std::string("\xff\xfe\x00", 3), std::string("null"),
          std::string(R"({"messages":[{"role":"user","content":[{"type":"text","text":1}]}]})"),
          std::string(R"({"messages":[{"role":"user","content":"x"}],"n":1e300})"),
          std::string(R"({"messages":[{"role":"user","content":"x"}],"seed":1.5})")}) {
        auto r = client_->Post("/v1/chat/completions", body, "application/json");
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 400) << body.substr(0, 40);
    }
    EXPECT_EQ(client_->Get("/health")->status, 200);
}

TEST_F(ServerTest, ApiKey) {
    start({}, "sekrit");
    make_ready();
    expect_error(client_->Get("/v1/models"), 401);
    expect_error(client_->Get("/v1/models", {{"Authorization", "Bearer wrong"}}), 401);
    EXPECT_EQ(client_->Get("/v1/models", {{"Authorization", "Bearer sekrit"}})->status, 200);
    EXPECT_EQ(client_->Get("/health")->status, 200);
    EXPECT_EQ(client_->Get("/version")->status, 200);
    EXPECT_EQ(client_->Get("/metrics")->status, 200);
}

// Sends a raw HTTP request and returns the socket (caller closes it).
int send_raw(int port, const std::string& path, const std::string& body) {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    EXPECT_EQ(connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::string req = "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: " +
                            "application/json\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body;
    EXPECT_EQ(write(s, req.data(), req.size()), static_cast<ssize_t>(req.size()));
    return s;
}

TEST_F(ServerTest, DisconnectWhileQueuedAborts) {
    FakeEngineOptions eo;
    eo.prefill_delay = std::chrono::milliseconds(5000);
    start(eo);
    make_ready();
    size_t n = 0;
    for (bool stream : {true, false}) {
        const int s = send_raw(server_->port(), "/v1/chat/completions",
                               chat({{"stream", stream}}).dump());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        EXPECT_EQ(engine_->n_active(), 1);
        close(s);
        EXPECT_TRUE(wait_for_abort(++n)) << "stream=" << stream;
    }
}

TEST_F(ServerTest, DisconnectMidStreamAborts) {
    FakeEngineOptions eo;
    eo.step_delay = std::chrono::milliseconds(20);
    start(eo);
    make_ready();
    const int s = send_raw(server_->port(), "/v1/chat/completions",
                           chat({{"stream", true}, {"max_tokens", 400},
                                 {"ignore_eos", true}}).dump());
    char buf[4096];
    ASSERT_GT(read(s, buf, sizeof buf), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    close(s);
    EXPECT_TRUE(wait_for_abort());
    auto metrics = client_->Get("/metrics")->body;
    const std::string running =
        "vllm:num_requests_running{model_name=\"autoglm-phone-9b\",engine=\"0\"} 0";
    EXPECT_NE(metrics.find(running), std::string::npos);
    EXPECT_NE(metrics.find("finished_reason=\"abort\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace ag::server
