// autoglm quantize: a GLM-4 / GLM-4.1V checkpoint -> a llama.cpp-compatible glm4 GGUF file.
#include <cstdio>
#include <memory>

#include "base/thread_pool.h"
#include "cli/cli_common.h"
#include "tools/quantize.h"

namespace ag::cli {

namespace {

struct QuantizeArgs {
    std::string model, type, out, vision_type = "f16";
    int threads = 0;
};

}  // namespace

void add_quantize_command(CLI::App& app, int& rc) {
    auto args = std::make_shared<QuantizeArgs>();
    CLI::App* cmd = app.add_subcommand(
        "quantize", "Write a checkpoint's text model as a GGUF file (llama.cpp glm4 architecture) "
                    "and a GLM-4.1V vision tower beside it");
    cmd->add_option("--model", args->model, "Hugging Face checkpoint directory")->required();
    cmd->add_option("--type", args->type, "Weight type: q8_0, q4_0, q4_k, f16, bf16 or f32")
        ->required();
    cmd->add_option("--out", args->out, "Output .gguf file")->required();
    cmd->add_option("--vision-type", args->vision_type,
                    "GLM-4.1V vision tower (written beside OUT as <stem>-mmproj-<type>.gguf): "
                    "f16, bf16 or f32")
        ->capture_default_str();
    cmd->add_option("--threads", args->threads, "CPU threads (default: all cores)")
        ->check(CLI::Range(0, 1024));
    cmd->callback([args, &rc] {
        ThreadPool::set_global_threads(args->threads);
        auto type = tools::parse_quant_type(args->type);
        if (!type.ok()) {
            rc = report(type.status());
            return;
        }
        auto vtype = tools::parse_quant_type(args->vision_type);
        if (vtype.ok() && dtype_is_quantized(*vtype)) {
            vtype = Status(ErrorCode::kInvalidArgument,
                           "--vision-type: the vision tower is kept in f16, bf16 or f32");
        }
        if (!vtype.ok()) {
            rc = report(vtype.status());
            return;
        }
        auto r = tools::quantize_to_gguf(args->model, *type, args->out, *vtype);
        if (!r.ok()) {
            rc = report(r.status());
            return;
        }
        for (const auto& n : r->notes) std::fprintf(stderr, "[NOTE] %s\n", n.c_str());
        std::fprintf(stderr, "[INFO] wrote %zu tensors (%.1f MiB) to %s\n", r->n_tensors,
                     static_cast<double>(r->n_bytes) / (1024.0 * 1024.0), args->out.c_str());
        rc = 0;
    });
}

}  // namespace ag::cli
