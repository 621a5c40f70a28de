// autoglm bench serve: online-serving benchmark against an OpenAI-compatible server.
#include <cmath>
#include <memory>

#include "cli/cli_common.h"
#include "tools/bench_serve.h"

namespace ag::cli {

void add_bench_command(CLI::App& app, int& rc) {
    CLI::App* bench = app.add_subcommand("bench", "Benchmarks");
    bench->require_subcommand(1);
    auto o = std::make_shared<tools::BenchServeOptions>();
    auto rate = std::make_shared<std::string>("inf");
    CLI::App* serve = bench->add_subcommand(
        "serve", "Serving benchmark (TTFT/TPOT/ITL/E2EL, throughput), as `vllm bench serve`");
    serve->add_option("--base-url", o->base_url, "Server URL")->capture_default_str();
    serve->add_option("--model", o->model, "Served model name")->required();
    serve->add_option("--endpoint", o->endpoint, "/v1/chat/completions or /v1/completions")
        ->capture_default_str();
    serve->add_option("--num-prompts", o->num_prompts)->capture_default_str()->check(CLI::PositiveNumber);
    serve->add_option("--request-rate", *rate, "Requests/s (Poisson arrivals) or inf")
        ->capture_default_str();
    serve->add_option("--input-len", o->input_len)->capture_default_str()->check(CLI::PositiveNumber);
    serve->add_option("--output-len", o->output_len)->capture_default_str()->check(CLI::PositiveNumber);
    serve->add_option("--max-concurrency", o->max_concurrency, "Cap on in-flight requests")
        ->check(CLI::NonNegativeNumber);
    serve->add_option("--seed", o->seed)->capture_default_str();
    serve->add_option("--api-key", o->api_key, "Bearer token (default: $OPENAI_API_KEY)")
        ->envname("OPENAI_API_KEY");
    serve->add_flag("--json", o->json, "Print the result as JSON");
    serve->callback([o, rate, &rc] {
        if (*rate == "inf") {
            o->request_rate = 0.0;
        } else {
            try {
                o->request_rate = std::stod(*rate);
            } catch (const std::exception&) {
                rc = report(Status(ErrorCode::kInvalidArgument, "--request-rate: '" + *rate +
                                                                    "' is not a number or inf"));
                return;
            }
            if (!(o->request_rate > 0) || !std::isfinite(o->request_rate)) {
                rc = report(Status(ErrorCode::kInvalidArgument, "--request-rate must be > 0 or inf"));
                return;
            }
        }
        Status s = tools::run_bench_serve(*o);
        rc = s.ok() ? 0 : report(s);
    });
}

}  // namespace ag::cli
