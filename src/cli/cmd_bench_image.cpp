// autoglm bench image: preprocessing + vision-encode time of one screenshot (tools/bench_image.h).
#include <cstdio>
#include <memory>

#include "cli/cli_common.h"
#include "cli/cli_media.h"
#include "tools/bench_image.h"

namespace ag::cli {

namespace {

struct BenchImageArgs {
    ModelArgs model;
    tools::BenchImageOptions opts;
    std::string mm_processor_kwargs;
};

Status run(const BenchImageArgs& a) {
    auto lm = load_model(a.model, false);
    if (!lm.ok()) return lm.status();
    auto pc = image_processor_config(*lm, a.mm_processor_kwargs);
    if (!pc.ok()) return pc.status();
    auto r = tools::bench_image(*lm->model, *pc, a.opts);
    if (!r.ok()) return r.status();
    std::printf("%s\n", r->dump(2).c_str());
    return {};
}

}  // namespace

void add_bench_image_command(CLI::App& bench, int& rc) {
    auto args = std::make_shared<BenchImageArgs>();
    CLI::App* cmd = bench.add_subcommand("image", "Screenshot preprocessing and vision-encode time");
    add_model_options(*cmd, args->model);
    cmd->add_option("--width", args->opts.width, "image width")->check(CLI::Range(1, 20000))
        ->capture_default_str();
    cmd->add_option("--height", args->opts.height, "image height")->check(CLI::Range(1, 20000))
        ->capture_default_str();
    cmd->add_option("--repetitions", args->opts.repetitions, "timed runs")
        ->check(CLI::Range(1, 100))->capture_default_str();
    cmd->add_option("--warmup", args->opts.warmup, "untimed runs before the timed ones")
        ->check(CLI::Range(0, 100))->capture_default_str();
    cmd->add_option("--mm-processor-kwargs", args->mm_processor_kwargs,
                    "JSON overrides, e.g. '{\"max_pixels\": 1000000}'");
    cmd->callback([args, &rc] {
        const Status s = run(*args);
        rc = s.ok() ? 0 : report(s);
    });
}

}  // namespace ag::cli
