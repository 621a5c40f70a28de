// autoglm bench serve: online-serving benchmark against an OpenAI-compatible server.
// autoglm bench model: offline prompt/generation speed of one model (llama-bench's method).
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/thread_pool.h"
#include "cli/cli_common.h"
#include "tools/bench_model.h"
#include "tools/bench_serve.h"

namespace ag::cli {

namespace {

struct BenchModelArgs {
    ModelArgs model;
    tools::BenchModelOptions opts;
    int bandwidth_runs = 5;
    bool json = false;
};

void print_bench_model(const BenchModelArgs& a, const LoadedModel& lm,
                       const tools::BenchModelResult& r, const Result<uint64_t>& wbytes,
                       double bandwidth, const std::string& isa) {
    const tools::BenchModelOptions& o = a.opts;
    const int threads = ThreadPool::global().n_threads();
    const bool have_roof = wbytes.ok() && *wbytes > 0 && bandwidth > 0 && o.gen_len > 0;
    const double roof_tps = have_roof ? bandwidth / static_cast<double>(*wbytes) : 0.0;
    const double roof_pct = have_roof ? 100.0 * r.gen_tokens_per_s.mean / roof_tps : 0.0;
    if (a.json) {
        nlohmann::json j = {
            {"model", lm.dir},
            {"architecture", lm.model->config().architecture},
            {"threads", threads},
            {"kernel_isa", isa},
            {"prompt_len", o.prompt_len},
            {"gen_len", o.gen_len},
            {"repetitions", o.repetitions},
            {"batch", o.batch},
            {"depth", o.depth},
            {"kv_cache_dtype", std::string(kv_dtype_name(o.kv_dtype))},
            {"prompt_tokens_per_s", r.prompt_tokens_per_s.mean},
            {"prompt_tokens_per_s_stddev", r.prompt_tokens_per_s.stddev},
            {"gen_tokens_per_s", r.gen_tokens_per_s.mean},
            {"gen_tokens_per_s_stddev", r.gen_tokens_per_s.stddev},
            {"weight_bytes_per_token", wbytes.ok() ? nlohmann::json(*wbytes) : nlohmann::json()},
            {"read_bandwidth_bytes_per_s", bandwidth},
            {"gen_roofline_tokens_per_s", have_roof ? nlohmann::json(roof_tps) : nlohmann::json()},
            {"gen_roofline_pct", have_roof ? nlohmann::json(roof_pct) : nlohmann::json()},
        };
        if (o.batch > 1) {
            j["batch_gen_tokens_per_s"] = r.batch_gen_tokens_per_s.mean;
            j["batch_gen_tokens_per_s_stddev"] = r.batch_gen_tokens_per_s.stddev;
            j["batch_speedup"] = r.gen_tokens_per_s.mean > 0
                                     ? r.batch_gen_tokens_per_s.mean / r.gen_tokens_per_s.mean
                                     : 0.0;
        }
        std::printf("%s\n", j.dump(2).c_str());
        return;
    }
    std::string out = fmt::format("model:     {} ({})\n", lm.dir, lm.model->config().architecture);
    out += fmt::format("threads:   {}{}\n", threads, isa.empty() ? "" : ", kernels " + isa);
    out += fmt::format("kv cache:  {}{}\n", kv_dtype_name(o.kv_dtype),
                       o.depth > 0 ? fmt::format(", tg after {} tokens", o.depth) : "");
    if (wbytes.ok()) {
        out += fmt::format("weights:   {:.3f} GiB read per generated token\n",
                           static_cast<double>(*wbytes) / (1 << 30));
    } else {
        out += fmt::format("weights:   unknown ({})\n", wbytes.status().message());
    }
    out += fmt::format("bandwidth: {:.1f} GB/s read (best of {}, {} threads)\n", bandwidth / 1e9,
                       a.bandwidth_runs, threads);
    const std::string reps = fmt::format("(mean ± sd of {} runs)", o.repetitions);
    if (o.prompt_len > 0) {
        out += fmt::format("pp{:<6} {:9.2f} ± {:.2f} tok/s {}\n", o.prompt_len,
                           r.prompt_tokens_per_s.mean, r.prompt_tokens_per_s.stddev, reps);
    }
    if (o.gen_len > 0) {
        out += fmt::format("tg{:<6} {:9.2f} ± {:.2f} tok/s", o.gen_len, r.gen_tokens_per_s.mean,
                           r.gen_tokens_per_s.stddev);
        if (have_roof) out += fmt::format(" ({:.1f}% of the {:.1f} tok/s roofline)", roof_pct, roof_tps);
        out += "\n";
        if (o.batch > 1) {
            out += fmt::format("tg{}x{:<3} {:9.2f} ± {:.2f} tok/s total ({:.2f}x one sequence)\n",
                               o.gen_len, o.batch, r.batch_gen_tokens_per_s.mean,
                               r.batch_gen_tokens_per_s.stddev,
                               r.gen_tokens_per_s.mean > 0
                                   ? r.batch_gen_tokens_per_s.mean / r.gen_tokens_per_s.mean
                                   : 0.0);
        }
    }
    std::fputs(out.c_str(), stdout);
}

void add_bench_model_command(CLI::App& bench, int& rc) {
    auto a = std::make_shared<BenchModelArgs>();
    CLI::App* cmd = bench.add_subcommand(
        "model", "Prompt and generation speed of a model (llama-bench's pp/tg method) and the "
                 "generation roofline from the measured read bandwidth");
    add_model_options(*cmd, a->model);
    cmd->add_option("--prompt-len", a->opts.prompt_len, "Prompt tokens, one forward (0: skip)")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--gen-len", a->opts.gen_len, "Single-token decode steps (0: skip)")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--repetitions,-r", a->opts.repetitions, "Timed runs after one warm-up")
        ->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--batch", a->opts.batch,
                    "Also decode this many sequences together (one forward per step)")
        ->capture_default_str()->check(CLI::Range(1, 4096));
    cmd->add_option("--seed", a->opts.seed, "Seed of the random token ids")->capture_default_str();
    cmd->add_option("--depth,-d", a->opts.depth,
                    "tg starts with this many tokens already in the KV cache (llama-bench's -d)")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--bandwidth-runs", a->bandwidth_runs, "Read-bandwidth runs (best is kept; 0: skip)")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_flag("--json", a->json, "Print the result as JSON");
    cmd->callback([a, &rc] {
        auto lm = load_model(a->model, false);
        if (!lm.ok()) {
            rc = report(lm.status());
            return;
        }
        const Result<uint64_t> wbytes = tools::weight_bytes_per_token(lm->dir);
        if (!wbytes.ok()) std::fprintf(stderr, "warning: %s\n", wbytes.status().message().c_str());
        const double bandwidth =
            a->bandwidth_runs > 0 ? tools::measure_read_bandwidth(0, a->bandwidth_runs) : 0.0;
        a->opts.kv_dtype = a->model.kv_dtype();
        auto r = tools::run_bench_model(*lm->model, a->opts);
        if (!r.ok()) {
            rc = report(r.status());
            return;
        }
        print_bench_model(*a, *lm, *r, wbytes, bandwidth, tools::kernel_isa());
        rc = 0;
    });
}

}  // namespace

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
    add_bench_model_command(*bench, rc);
}

}  // namespace ag::cli
