#include "server/metrics/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace ag::server::metrics {

namespace {

// vLLM's bucket boundaries (vllm/v1/metrics/loggers.py).
const std::vector<double> kTtftBuckets = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,
                                          0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
                                          40.0, 80.0, 160.0, 640.0, 2560.0};
const std::vector<double> kItlBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4,
                                         0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0};
const std::vector<double> kE2eBuckets = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0,
                                         20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
                                         960.0, 1920.0, 7680.0};

std::string num(double v) { return fmt::format("{}", v); }

void header(std::string& out, std::string_view name, std::string_view type,
            std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void sample(std::string& out, std::string_view name, std::string_view labels, double v) {
    out += fmt::format("{}{{{}}} {}\n", name, labels, num(v));
}

void gauge(std::string& out, std::string_view name, std::string_view help,
           std::string_view labels, double v) {
    header(out, name, "gauge", help);
    sample(out, name, labels, v);
}

void counter(std::string& out, std::string_view name, std::string_view help,
             std::string_view labels, double v) {
    header(out, name, "counter", help);
    sample(out, name, labels, v);
}

}  // namespace

std::string escape_label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    ++counts_[static_cast<size_t>(it - bounds_.begin())];
    sum_ += v;
    ++count_;
}

void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
    uint64_t cum = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
        cum += counts_[i];
        out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, num(bounds_[i]), cum);
    }
    out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, count_);
    out += fmt::format("{}_sum{{{}}} {}\n", name, labels, num(sum_));
    out += fmt::format("{}_count{{{}}} {}\n", name, labels, count_);
}

Metrics::Metrics(std::string model_name)
    : labels_(fmt::format("model_name=\"{}\",engine=\"0\"", escape_label(model_name))),
      ttft_(kTtftBuckets), itl_(kItlBuckets), e2e_(kE2eBuckets) {
    for (const char* r : {"stop", "length", "abort", "error"}) finished_[r] = 0;
}

void Metrics::observe_ttft(double s) {
    std::lock_guard lock(mu_);
    ttft_.observe(s);
}

void Metrics::observe_inter_token(double s) {
    std::lock_guard lock(mu_);
    itl_.observe(s);
}

void Metrics::observe_finished(std::string_view reason, double e2e_seconds) {
    std::lock_guard lock(mu_);
    auto it = finished_.find(reason);
    if (it == finished_.end()) it = finished_.emplace(std::string(reason), 0).first;
    ++it->second;
    e2e_.observe(e2e_seconds);
}

std::string Metrics::render(const EngineStats* stats) const {
    const EngineStats s = stats ? *stats : EngineStats{};
    std::string out;
    const std::string& l = labels_;
    gauge(out, "vllm:num_requests_running", "Number of requests in model execution batches.", l,
          s.n_running);
    gauge(out, "vllm:num_requests_waiting", "Number of requests waiting to be processed.", l,
          s.n_waiting);
    gauge(out, "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", l,
          s.kv_usage);
    gauge(out, "vllm:gpu_cache_usage_perc",
          "KV-cache usage. 1 means 100 percent usage. Deprecated: use vllm:kv_cache_usage_perc.",
          l, s.kv_usage);
    counter(out, "vllm:prefix_cache_queries_total",
            "Prefix cache queries, in terms of number of queried tokens.", l,
            static_cast<double>(s.prefix_queries_tokens));
    counter(out, "vllm:prefix_cache_hits_total",
            "Prefix cache hits, in terms of number of cached tokens.", l,
            static_cast<double>(s.prefix_hits_tokens));
    counter(out, "vllm:num_preemptions_total", "Cumulative number of preemption from the engine.",
            l, static_cast<double>(s.n_preemptions));
    counter(out, "vllm:prompt_tokens_total", "Number of prefill tokens processed.", l,
            static_cast<double>(s.prompt_tokens_total));
    counter(out, "vllm:generation_tokens_total", "Number of generation tokens processed.", l,
            static_cast<double>(s.generation_tokens_total));
    if (stats != nullptr) {  // vLLM's info gauge: the cache configuration in labels, value 1
        gauge(out, "vllm:cache_config_info", "Information of the LLMEngine CacheConfig", fmt::format(
              "{},block_size=\"{}\",cache_dtype=\"{}\",num_gpu_blocks=\"{}\","
              "bytes_per_token=\"{}\",capacity_tokens=\"{}\"", l, s.block_size,
              escape_label(s.kv_cache_dtype), s.n_blocks, s.kv_bytes_per_token,
              s.kv_capacity_tokens), 1.0);
        gauge(out, "autoglm:kv_cache_bytes_per_token",
              "KV cache bytes per token (K and V, every layer, in the cache dtype).", l,
              static_cast<double>(s.kv_bytes_per_token));
        gauge(out, "autoglm:kv_cache_capacity_tokens", "Tokens the KV cache holds.", l,
              static_cast<double>(s.kv_capacity_tokens));
        gauge(out, "autoglm:kv_cache_open_rows_bytes",
              "Bytes of f32 rows kept for open int4 KV blocks (0 for other dtypes).", l,
              static_cast<double>(s.kv_open_rows_bytes));
    }
    counter(out, "autoglm:prompt_tokens_computed_total",
            "Prompt tokens run through the model (prompt tokens minus prefix-cache hits).", l,
            static_cast<double>(s.prompt_tokens_computed_total));
    gauge(out, "autoglm:num_requests_encoding", "Requests waiting for the image encoder.", l,
          s.n_encoding);
    counter(out, "autoglm:mm_images_encoded_total", "Images run through the vision tower.", l,
            static_cast<double>(s.images_encoded_total));
    counter(out, "autoglm:mm_encoder_cache_hits_total",
            "Images whose vision-tower output came from the encoder cache.", l,
            static_cast<double>(s.encoder_cache_hits_total));
    counter(out, "autoglm:mm_images_prefix_cached_total",
            "Images not encoded because the prefix cache held the KV of all their tokens.", l,
            static_cast<double>(s.images_prefix_cached_total));
    gauge(out, "autoglm:mm_encoder_cache_bytes", "Bytes held by the encoder cache.", l,
          static_cast<double>(s.encoder_cache_bytes));
    std::lock_guard lock(mu_);
    header(out, "vllm:request_success_total", "counter",
           "Count of successfully processed requests.");
    for (const auto& [reason, n] : finished_) {
        sample(out, "vllm:request_success_total",
               fmt::format("{},finished_reason=\"{}\"", l, escape_label(reason)),
               static_cast<double>(n));
    }
    header(out, "vllm:time_to_first_token_seconds", "histogram",
           "Histogram of time to first token in seconds.");
    ttft_.render(out, "vllm:time_to_first_token_seconds", l);
    for (const char* name :
         {"vllm:time_per_output_token_seconds", "vllm:inter_token_latency_seconds"}) {
        header(out, name, "histogram", "Histogram of inter-token latency in seconds.");
        itl_.render(out, name, l);
    }
    header(out, "vllm:e2e_request_latency_seconds", "histogram",
           "Histogram of e2e request latency in seconds.");
    e2e_.render(out, "vllm:e2e_request_latency_seconds", l);
    return out;
}

nlohmann::json Metrics::snapshot(const EngineStats* stats) const {
    const EngineStats s = stats ? *stats : EngineStats{};
    std::lock_guard lock(mu_);
    auto mean = [](const Histogram& h) { return h.count() ? h.sum() / h.count() : 0.0; };
    return {{"num_requests_running", s.n_running},
            {"num_requests_waiting", s.n_waiting},
            {"kv_cache_usage_perc", s.kv_usage},
            {"prefix_cache_queries_total", s.prefix_queries_tokens},
            {"prefix_cache_hits_total", s.prefix_hits_tokens},
            {"num_preemptions_total", s.n_preemptions},
            {"prompt_tokens_total", s.prompt_tokens_total},
            {"kv_cache_dtype", s.kv_cache_dtype},
            {"kv_cache_bytes_per_token", s.kv_bytes_per_token},
            {"kv_cache_capacity_tokens", s.kv_capacity_tokens},
            {"kv_cache_open_rows_bytes", s.kv_open_rows_bytes},
            {"generation_tokens_total", s.generation_tokens_total},
            {"images_encoded_total", s.images_encoded_total},
            {"encoder_cache_hits_total", s.encoder_cache_hits_total},
            {"images_prefix_cached_total", s.images_prefix_cached_total},
            {"request_success_total", finished_},
            {"mean_time_to_first_token_seconds", mean(ttft_)},
            {"mean_inter_token_latency_seconds", mean(itl_)},
            {"mean_e2e_request_latency_seconds", mean(e2e_)}};
}

}  // namespace ag::server::metrics
