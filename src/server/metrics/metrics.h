// Prometheus text exposition with vLLM's metric names (so existing vLLM dashboards work):
// request-level histograms and counters kept here, engine gauges and token counters read from
// ag::EngineStats at scrape time. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ag/engine.h"

namespace ag::server::metrics {

class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double v);
    /// Appends `name_bucket{...,le=...}`, `name_sum`, `name_count` lines.
    void render(std::string& out, std::string_view name, std::string_view labels) const;
    uint64_t count() const { return count_; }
    double sum() const { return sum_; }

private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;  // per bucket (not cumulative)
    double sum_ = 0.0;
    uint64_t count_ = 0;
};

class Metrics {
public:
    explicit Metrics(std::string model_name);

    void observe_ttft(double seconds);
    void observe_inter_token(double seconds);
    /// One finished request (one choice): reason "stop" | "length" | "abort" | "error".
    void observe_finished(std::string_view reason, double e2e_seconds);

    /// The whole /metrics body. `stats` null: the engine is not up yet (gauges read 0).
    std::string render(const EngineStats* stats) const;
    /// A compact JSON view for the status page.
    nlohmann::json snapshot(const EngineStats* stats) const;

private:
    std::string labels_;  // model_name="...",engine="0"
    mutable std::mutex mu_;
    Histogram ttft_, itl_, e2e_;
    std::map<std::string, uint64_t, std::less<>> finished_;
};

/// Prometheus label-value escaping (backslash, quote, newline).
std::string escape_label(std::string_view v);

}  // namespace ag::server::metrics
