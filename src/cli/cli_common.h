// Shared wiring for the autoglm subcommands: model resolution (--model or the built-in model),
// thread settings, error reporting.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace ag::cli {

struct ModelArgs {
    std::string model;   // empty: built-in model
    int threads = 0;     // 0: all cores
    std::string quantization;  // "": keep the checkpoint's dtypes; q8_0 | q4_0 | q4_k at load
    std::string kv_cache_dtype = "auto";  // auto (= bf16) | f32 | bf16 | f16 | int8 | int4
    KvDType kv_dtype() const { return *parse_kv_dtype(kv_cache_dtype); }
};

void add_model_options(CLI::App& cmd, ModelArgs& args);

struct LoadedModel {
    std::string dir;
    bool builtin = false;
    std::unique_ptr<model::Model> model;
    std::optional<tok::Tokenizer> tokenizer;  // absent if the checkpoint has no tokenizer.json
};

// Resolves and loads the model; prints the built-in notice once when it is used.
Result<LoadedModel> load_model(const ModelArgs& args, bool need_tokenizer);

// The chat template source: <dir>/chat_template.jinja, else tokenizer_config.json's
// chat_template, else "" (GLM-4.1V rules).
std::string chat_template_source(const LoadedModel& lm);

// Prints "error: <message>" to stderr and returns the process exit code for it.
int report(const Status& status);

// Each registers a subcommand whose callback stores its exit code in `rc`.
void add_generate_command(CLI::App& app, int& rc);
void add_logits_command(CLI::App& app, int& rc);
void add_export_builtin_command(CLI::App& app, int& rc);
void add_bench_command(CLI::App& app, int& rc);
// `bench image`, under the `bench` subcommand.
void add_bench_image_command(CLI::App& bench, int& rc);
// `bench asr`, under the `bench` subcommand.
void add_bench_asr_command(CLI::App& bench, int& rc);
void add_serve_command(CLI::App& app, int& rc);
void add_quantize_command(CLI::App& app, int& rc);
void add_transcribe_command(CLI::App& app, int& rc);

}  // namespace ag::cli
