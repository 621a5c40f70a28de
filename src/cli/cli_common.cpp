#include "cli/cli_common.h"

#include <cstdio>
#include <filesystem>

#include "base/log.h"
#include "base/mapped_file.h"
#include "base/thread_pool.h"
#include "io/gguf.h"
#include "io/gguf_glm4.h"
#include "model/weight_quant.h"
#include "tools/builtin_model.h"

namespace ag::cli {

void add_model_options(CLI::App& cmd, ModelArgs& args) {
    cmd.add_option("--model", args.model,
                   "Hugging Face checkpoint directory (or a .safetensors file in one) or a glm4 .gguf "
                   "file; default: "
                   "the built-in model");
    cmd.add_option("--threads", args.threads, "CPU threads (default: all cores)")
        ->check(CLI::Range(0, 1024));
    cmd.add_option("--quantization,-q", args.quantization,
                   "quantize the text decoder's weight matrices while loading (vLLM's flag name): "
                   "q8_0, q4_0 or q4_k; default: keep the checkpoint's dtypes")
        ->check(CLI::IsMember({"q8_0", "q4_0", "q4_k"}, CLI::ignore_case));
    cmd.add_option("--kv-cache-dtype", args.kv_cache_dtype,
                   "KV cache storage (vLLM's flag name): auto (= bf16), f32, bf16, f16, int8 "
                   "(per token and head scale) or int4 (keys per channel within a block, values "
                   "per token and 32 channels)")
        ->check(CLI::IsMember({"auto", "f32", "bf16", "f16", "int8", "int4"}))
        ->capture_default_str();
}

Result<LoadedModel> load_model(const ModelArgs& args, bool need_tokenizer) {
    ThreadPool::set_global_threads(args.threads);
    LoadedModel out;
    if (args.model.empty()) {
        auto dir = tools::ensure_builtin_model();
        if (!dir.ok()) return dir.status();
        out.dir = *dir;
        out.builtin = true;
        std::fprintf(stderr, "%s\n", tools::builtin_model_notice());
    } else {
        out.dir = args.model;
    }
    model::LoadOptions lo;
    if (!args.quantization.empty()) lo.weight_dtype = model::parse_weight_dtype(args.quantization);
    auto m = model::load_model(out.dir, lo);
    if (!m.ok()) return m.status();
    out.model = std::move(m).value();
    namespace fs = std::filesystem;
    if (fs::path(out.dir).extension() == ".gguf") {
        // A GGUF carries its tokenizer (tokenizer.ggml.*) and chat template in its metadata.
        auto g = io::GgufFile::open(out.dir);
        if (!g.ok()) return g.status();
        auto texts = io::tokenizer_from_gguf(*g);
        if (!texts.ok()) return texts.status();
        if (*texts) {
            auto t = tok::Tokenizer::from_json((*texts)->tokenizer_json,
                                               (*texts)->tokenizer_config_json);
            if (!t.ok()) return t.status();
            out.tokenizer = std::move(t).value();
        } else if (need_tokenizer) {
            return Status(ErrorCode::kNotFound,
                          out.dir + ": the GGUF file has no tokenizer (tokenizer.ggml.tokens); "
                                    "needed to encode text prompts");
        }
        return out;
    }
    fs::path tok_dir = fs::is_directory(out.dir) ? fs::path(out.dir) : fs::path(out.dir).parent_path();
    if (fs::exists(tok_dir / "tokenizer.json")) {
        auto t = tok::Tokenizer::load(tok_dir.string());
        if (!t.ok()) return t.status();
        out.tokenizer = std::move(t).value();
    } else if (need_tokenizer) {
        return Status(ErrorCode::kNotFound, (tok_dir / "tokenizer.json").string() +
                                                ": missing (needed to encode text prompts)");
    }
    return out;
}

std::string chat_template_source(const LoadedModel& lm) {
    namespace fs = std::filesystem;
    const fs::path path(lm.dir);
    if (path.extension() == ".gguf") {  // tokenizer.chat_template, via the synthesized config
        return lm.tokenizer ? lm.tokenizer->chat_template() : std::string();
    }
    const fs::path dir = fs::is_directory(path) ? path : path.parent_path();
    auto jinja = read_text_file((dir / "chat_template.jinja").string());
    if (jinja.ok()) return *jinja;
    return lm.tokenizer ? lm.tokenizer->chat_template() : std::string();
}

int report(const Status& status) {
    std::fprintf(stderr, "error: %s\n", status.message().c_str());
    return status.code() == ErrorCode::kInvalidArgument ? 2 : 1;
}

}  // namespace ag::cli
