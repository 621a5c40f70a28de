// The one autoglm binary: subcommands are registered here, implemented in cmd_*.cpp.
#include <CLI/CLI.hpp>

#include <set>
#include <string>
#include <vector>

#include "cli/cli_common.h"

namespace {

// Every long option name (without "--") of app and its subcommands.
void long_names(const CLI::App& app, std::set<std::string>& out) {
    for (const CLI::Option* o : app.get_options()) {
        for (const std::string& n : o->get_lnames()) out.insert(n);
    }
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        long_names(*sub, out);
    }
}

// vLLM accepts "--max_model_len" for "--max-model-len"; so does autoglm: an argument
// "--a_b[=v]" whose dashed name is one of our options is rewritten to "--a-b[=v]". vLLM's
// two-letter short options (CLI11 allows one letter) become their long names. Values and
// everything after a bare "--" are left alone.
std::vector<std::string> dashed_args(const CLI::App& app, int argc, char** argv) {
    std::set<std::string> names;
    long_names(app, names);
    std::vector<std::string> args(argv, argv + argc);
    for (size_t i = 1; i < args.size(); ++i) {
        std::string& a = args[i];
        if (a == "--") break;
        if (a == "-tp") a = "--tensor-parallel-size";
        if (a == "-pp") a = "--pipeline-parallel-size";
        if (a == "-dp") a = "--data-parallel-size";
        if (a.size() < 3 || a.compare(0, 2, "--") != 0) continue;
        const size_t eq = a.find('=');
        std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        if (name.find('_') == std::string::npos) continue;
        for (char& c : name) c = c == '_' ? '-' : c;
        if (names.count(name) != 0) {
            a = "--" + name + (eq == std::string::npos ? "" : a.substr(eq));
        }
    }
    return args;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"autoglm: inference engine and server for AutoGLM-Phone-9B and GLM-4 models"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "autoglm 0.1.0");
    // An option given twice: the last one wins (argparse's rule, so vLLM's), e.g. a pasted
    // command line with an override appended.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    int rc = 0;
    ag::cli::add_serve_command(app, rc);
    ag::cli::add_generate_command(app, rc);
    ag::cli::add_logits_command(app, rc);
    ag::cli::add_export_builtin_command(app, rc);
    ag::cli::add_bench_command(app, rc);
    ag::cli::add_bench_image_command(*app.get_subcommand("bench"), rc);
    ag::cli::add_bench_asr_command(*app.get_subcommand("bench"), rc);
    ag::cli::add_quantize_command(app, rc);
    ag::cli::add_transcribe_command(app, rc);
    std::vector<std::string> args = dashed_args(app, argc, argv);
    try {
        // CLI11 parses a vector in reverse order (it pops from the back).
        std::vector<std::string> rev(args.rbegin(), args.rend() - 1);
        app.parse(rev);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const ag::Error& e) {
        return ag::cli::report(e.status());
    }
    return rc;
}
