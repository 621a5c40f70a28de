// Prometheus text format with vLLM's names.
#include <gtest/gtest.h>

#include "server/metrics/metrics.h"

namespace ag::server::metrics {
namespace {

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Metrics, RendersVllmNamesWithLabels) {
    Metrics m("autoglm-phone-9b");
    m.observe_ttft(0.003);
    m.observe_inter_token(0.02);
    m.observe_finished("stop", 1.2);
    m.observe_finished("length", 0.4);
    EngineStats s;
    s.n_running = 2;
    s.n_waiting = 1;
    s.kv_usage = 0.25;
    s.prefix_hits_tokens = 7;
    const std::string text = m.render(&s);
    const std::string l = "model_name=\"autoglm-phone-9b\",engine=\"0\"";
    EXPECT_TRUE(has_line(text, "vllm:num_requests_running{" + l + "} 2"));
    EXPECT_TRUE(has_line(text, "vllm:num_requests_waiting{" + l + "} 1"));
    EXPECT_TRUE(has_line(text, "vllm:kv_cache_usage_perc{" + l + "} 0.25"));
    EXPECT_TRUE(has_line(text, "vllm:gpu_cache_usage_perc{" + l + "} 0.25"));
    EXPECT_TRUE(has_line(text, "vllm:prefix_cache_hits_total{" + l + "} 7"));
    EXPECT_TRUE(has_line(text, "vllm:request_success_total{" + l + ",finished_reason=\"stop\"} 1"));
    EXPECT_TRUE(has_line(text, "# TYPE vllm:time_to_first_token_seconds histogram"));
    EXPECT_TRUE(has_line(text, "vllm:time_to_first_token_seconds_bucket{" + l +
                                   ",le=\"0.001\"} 0"));
    EXPECT_TRUE(has_line(text, "vllm:time_to_first_token_seconds_bucket{" + l +
                                   ",le=\"0.005\"} 1"));
    EXPECT_TRUE(has_line(text, "vllm:time_to_first_token_seconds_bucket{" + l +
                                   ",le=\"+Inf\"} 1"));
    EXPECT_TRUE(has_line(text, "vllm:time_to_first_token_seconds_count{" + l + "} 1"));
    EXPECT_TRUE(has_line(text, "vllm:inter_token_latency_seconds_count{" + l + "} 1"));
    EXPECT_TRUE(has_line(text, "vllm:time_per_output_token_seconds_count{" + l + "} 1"));
    EXPECT_TRUE(has_line(text, "vllm:e2e_request_latency_seconds_count{" + l + "} 2"));
    for (const char* name : {"vllm:prompt_tokens_total", "vllm:generation_tokens_total",
                             "vllm:num_preemptions_total", "vllm:prefix_cache_queries_total"}) {
        EXPECT_NE(text.find(std::string("# TYPE ") + name + " counter"), std::string::npos);
    }
}

TEST(Metrics, EveryLineIsCommentOrSample) {
    Metrics m("a\"b");
    const std::string text = m.render(nullptr);
    size_t start = 0;
    while (start < text.size()) {
        const size_t end = text.find('\n', start);
        ASSERT_NE(end, std::string::npos);
        const std::string line = text.substr(start, end - start);
        EXPECT_TRUE(line.rfind("# ", 0) == 0 || line.rfind("vllm:", 0) == 0 ||
                    line.rfind("autoglm:", 0) == 0)
            << line;
        start = end + 1;
    }
    EXPECT_NE(text.find("model_name=\"a\\\"b\""), std::string::npos);
}

TEST(Histogram, BucketsAreCumulative) {
    Histogram h({1.0, 2.0});
    h.observe(0.5);
    h.observe(1.5);
    h.observe(5.0);
    std::string out;
    h.render(out, "x", "a=\"b\"");
    EXPECT_NE(out.find("x_bucket{a=\"b\",le=\"1\"} 1\n"), std::string::npos);
    EXPECT_NE(out.find("x_bucket{a=\"b\",le=\"2\"} 2\n"), std::string::npos);
    EXPECT_NE(out.find("x_bucket{a=\"b\",le=\"+Inf\"} 3\n"), std::string::npos);
    EXPECT_NE(out.find("x_sum{a=\"b\"} 7\n"), std::string::npos);
}

}  // namespace
}  // namespace ag::server::metrics
