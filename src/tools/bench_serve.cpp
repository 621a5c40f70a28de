#include "tools/bench_serve.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

namespace ag::tools {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct RequestResult {
    bool ok = false;
    std::string error;
    double ttft = 0.0, e2el = 0.0;     // seconds
    std::vector<double> itl;           // gaps between events with choices
    int prompt_tokens = 0, output_tokens = 0;
    double start = 0.0, end = 0.0;     // seconds since benchmark start
};

// A fixed word list; prompts are random words, trimmed to the requested token count using the
// server's /tokenize when it has one (otherwise one word ≈ one token).
const char* const kWords[] = {"the", "phone", "screen", "open", "settings", "tap", "button",
                              "message", "search", "result", "agent", "task", "network", "photo",
                              "music", "weather", "today", "calendar", "map", "route", "shop",
                              "order", "friend", "video", "record", "note", "battery", "wifi"};

int count_tokens(httplib::Client& cli, const std::string& model, const std::string& text) {
    json body = {{"model", model}, {"prompt", text}};
    auto res = cli.Post("/tokenize", body.dump(), "application/json");
    if (!res || res->status != 200) return -1;
    try {
        return json::parse(res->body).value("count", -1);
    } catch (const std::exception&) {
        return -1;
    }
}

std::string make_prompt(httplib::Client& cli, const BenchServeOptions& o, std::mt19937_64& rng) {
    std::uniform_int_distribution<size_t> pick(0, std::size(kWords) - 1);
    std::vector<std::string> words;
    for (int i = 0; i < o.input_len; ++i) words.emplace_back(kWords[pick(rng)]);
    auto join = [&](size_t n) {
        std::string s;
        for (size_t i = 0; i < n; ++i) s += (i ? " " : "") + words[i];
        return s;
    };
    // Shrink until the server counts <= input_len tokens (the chat template adds its own).
    size_t n = words.size();
    std::string text = join(n);
    for (int iter = 0; iter < 8; ++iter) {
        const int c = count_tokens(cli, o.model, text);
        if (c < 0 || c <= o.input_len || n <= 1) break;
        n = std::max<size_t>(1, n * static_cast<size_t>(o.input_len) / static_cast<size_t>(c));
        text = join(n);
    }
    return text;
}

RequestResult run_one(const BenchServeOptions& o, const std::string& prompt, Clock::time_point t0) {
    RequestResult r;
    const bool chat = o.endpoint.find("chat") != std::string::npos;
    json body = {{"model", o.model}, {"stream", true},
                 {"stream_options", {{"include_usage", true}}}, {"ignore_eos", true},
                 {"temperature", 0.0}};
    if (chat) {
        body["messages"] = json::array({{{"role", "user"}, {"content", prompt}}});
        body["max_completion_tokens"] = o.output_len;
    } else {
        body["prompt"] = prompt;
        body["max_tokens"] = o.output_len;
    }
    httplib::Client cli(o.base_url);
    cli.set_read_timeout(6 * 3600);
    cli.set_connection_timeout(30);
    httplib::Headers headers;
    if (!o.api_key.empty()) headers.emplace("Authorization", "Bearer " + o.api_key);
    std::string buf;
    const auto sent = Clock::now();
    r.start = std::chrono::duration<double>(sent - t0).count();
    double last = -1.0;
    auto on_event = [&](const std::string& data) {
        if (data == "[DONE]") return;
        json ev = json::parse(data, nullptr, false);
        if (ev.is_discarded()) return;
        if (ev.contains("usage") && ev["usage"].is_object()) {
            r.output_tokens = ev["usage"].value("completion_tokens", r.output_tokens);
            r.prompt_tokens = ev["usage"].value("prompt_tokens", r.prompt_tokens);
        }
        if (!ev.contains("choices") || !ev["choices"].is_array() || ev["choices"].empty()) return;
        const double now = std::chrono::duration<double>(Clock::now() - sent).count();
        if (last < 0) r.ttft = now;
        else r.itl.push_back(now - last);
        last = now;
        r.e2el = now;
    };
    httplib::Request req;
    req.method = "POST";
    req.path = o.endpoint;
    req.headers = headers;
    req.set_header("Content-Type", "application/json");
    req.body = body.dump();
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
        buf.append(data, len);
        size_t pos;
        while ((pos = buf.find('\n')) != std::string::npos) {
            std::string line = buf.substr(0, pos);
            buf.erase(0, pos + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.rfind("data: ", 0) == 0) on_event(line.substr(6));
        }
        return true;
    };
    auto res = cli.send(req);
    r.end = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!res) {
        r.error = httplib::to_string(res.error());
    } else if (res->status != 200) {
        r.error = fmt::format("HTTP {}", res->status);
    } else if (last < 0) {
        r.error = "no chunk with choices";
    } else {
        r.ok = true;
    }
    return r;
}

struct Summary {
    double mean = 0, median = 0, p99 = 0, stddev = 0;
};

Summary summarize(std::vector<double> v) {
    Summary s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double x : v) sum += x;
    s.mean = sum / static_cast<double>(v.size());
    const size_t n = v.size();
    s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    // Linear interpolation between closest ranks (numpy's default percentile).
    const double rank = 0.99 * static_cast<double>(n - 1);
    const auto lo = static_cast<size_t>(std::floor(rank));
    const size_t hi = std::min(n - 1, lo + 1);
    s.p99 = v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
    double var = 0;
    for (double x : v) var += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(var / static_cast<double>(n));
    return s;
}

}  // namespace

Status run_bench_serve(const BenchServeOptions& o) {
    if (o.num_prompts <= 0) return Status(ErrorCode::kInvalidArgument, "--num-prompts must be > 0");
    if (o.input_len <= 0 || o.output_len <= 0) {
        return Status(ErrorCode::kInvalidArgument, "--input-len and --output-len must be > 0");
    }
    if (o.model.empty()) return Status(ErrorCode::kInvalidArgument, "--model is required");
    httplib::Client probe(o.base_url);
    probe.set_connection_timeout(10);
    if (!probe.is_valid()) return Status(ErrorCode::kInvalidArgument, "bad --base-url " + o.base_url);

    std::mt19937_64 rng(o.seed);
    std::vector<std::string> prompts;
    for (int i = 0; i < o.num_prompts; ++i) prompts.push_back(make_prompt(probe, o, rng));

    // Arrival offsets: exponential gaps (Poisson process) at request_rate, or all at t = 0.
    std::vector<double> arrival(static_cast<size_t>(o.num_prompts), 0.0);
    if (o.request_rate > 0 && std::isfinite(o.request_rate)) {
        std::exponential_distribution<double> gap(o.request_rate);
        double t = 0;
        for (auto& a : arrival) {
            a = t;
            t += gap(rng);
        }
    }

    std::vector<RequestResult> results(prompts.size());
    std::mutex mu;
    std::condition_variable cv;
    int in_flight = 0;
    const int cap = o.max_concurrency > 0 ? o.max_concurrency : o.num_prompts;
    std::vector<std::thread> threads;
    const auto t0 = Clock::now();
    for (size_t i = 0; i < prompts.size(); ++i) {
        std::this_thread::sleep_until(t0 + std::chrono::duration<double>(arrival[i]));
        {
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return in_flight < cap; });
            ++in_flight;
        }
        threads.emplace_back([&, i] {
            results[i] = run_one(o, prompts[i], t0);
            std::lock_guard lock(mu);
            --in_flight;
            cv.notify_one();
        });
    }
    for (auto& t : threads) t.join();
    const double duration = std::chrono::duration<double>(Clock::now() - t0).count();

    std::vector<double> ttft, tpot, itl, e2el;
    int completed = 0;
    int64_t in_tok = 0, out_tok = 0;
    std::string first_error;
    for (const auto& r : results) {
        if (!r.ok) {
            if (first_error.empty()) first_error = r.error;
            continue;
        }
        ++completed;
        in_tok += r.prompt_tokens;
        const int out = r.output_tokens > 0 ? r.output_tokens : static_cast<int>(r.itl.size()) + 1;
        out_tok += out;
        ttft.push_back(r.ttft);
        e2el.push_back(r.e2el);
        if (out > 1) tpot.push_back((r.e2el - r.ttft) / (out - 1));
        itl.insert(itl.end(), r.itl.begin(), r.itl.end());
    }
    const Summary s_ttft = summarize(ttft), s_tpot = summarize(tpot), s_itl = summarize(itl),
                  s_e2el = summarize(e2el);
    auto ms = [](const Summary& s) {
        return json{{"mean", s.mean * 1e3}, {"median", s.median * 1e3}, {"p99", s.p99 * 1e3},
                    {"std", s.stddev * 1e3}};
    };
    json out = {{"completed", completed},
                {"failed", o.num_prompts - completed},
                {"duration_s", duration},
                {"total_input_tokens", in_tok},
                {"total_output_tokens", out_tok},
                {"request_throughput", completed / duration},
                {"output_throughput", static_cast<double>(out_tok) / duration},
                {"total_token_throughput", static_cast<double>(in_tok + out_tok) / duration},
                {"ttft_ms", ms(s_ttft)}, {"tpot_ms", ms(s_tpot)}, {"itl_ms", ms(s_itl)},
                {"e2el_ms", ms(s_e2el)},
                {"max_concurrency", o.max_concurrency}, {"request_rate", o.request_rate},
                {"input_len", o.input_len}, {"output_len", o.output_len}};
    if (!first_error.empty()) out["first_error"] = first_error;
    if (o.json) {
        std::printf("%s\n", out.dump(2).c_str());
    } else {
        std::printf("============ Serving Benchmark Result ============\n");
        std::printf("%-40s %d\n%-40s %d\n%-40s %.2f\n", "Successful requests:", completed,
                    "Failed requests:", o.num_prompts - completed, "Benchmark duration (s):", duration);
        std::printf("%-40s %lld\n%-40s %lld\n", "Total input tokens:", static_cast<long long>(in_tok),
                    "Total generated tokens:", static_cast<long long>(out_tok));
        std::printf("%-40s %.2f\n%-40s %.2f\n%-40s %.2f\n", "Request throughput (req/s):",
                    completed / duration, "Output token throughput (tok/s):",
                    static_cast<double>(out_tok) / duration, "Total token throughput (tok/s):",
                    static_cast<double>(in_tok + out_tok) / duration);
        const std::pair<const char*, Summary> rows[] = {
            {"TTFT", s_ttft}, {"TPOT", s_tpot}, {"ITL", s_itl}, {"E2EL", s_e2el}};
        for (const auto& [name, s] : rows) {
            std::printf("%-40s %.2f\n%-40s %.2f\n%-40s %.2f\n", fmt::format("Mean {} (ms):", name).c_str(),
                        s.mean * 1e3, fmt::format("Median {} (ms):", name).c_str(), s.median * 1e3,
                        fmt::format("P99 {} (ms):", name).c_str(), s.p99 * 1e3);
        }
        if (!first_error.empty()) std::printf("first error: %s\n", first_error.c_str());
        std::printf("==================================================\n");
    }
    return {};
}

}  // namespace ag::tools
