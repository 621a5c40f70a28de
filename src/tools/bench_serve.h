// `autoglm bench serve`: an online-serving benchmark that measures what `vllm bench serve`
// measures (TTFT, TPOT, ITL, E2E latency, request and token throughput) against any
// OpenAI-compatible server, with Poisson arrivals and an optional concurrency cap.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace ag::tools {

struct BenchServeOptions {
    std::string base_url = "http://127.0.0.1:8000";
    std::string model;                 // served model name
    std::string endpoint = "/v1/chat/completions";  // or /v1/completions
    int num_prompts = 100;
    double request_rate = 0.0;         // requests/s; <= 0 or inf: all at t = 0
    int input_len = 128;               // prompt tokens (measured with the server's /tokenize)
    int output_len = 128;              // max_completion_tokens, with ignore_eos
    int max_concurrency = 0;           // 0: unbounded
    uint64_t seed = 0;
    std::string api_key;               // Authorization: Bearer, if set
    bool json = false;                 // print the result as JSON
};

[[nodiscard]] Status run_bench_serve(const BenchServeOptions& opts);

}  // namespace ag::tools
