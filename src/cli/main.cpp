// The one autoglm binary: subcommands are registered here, implemented in cmd_*.cpp.
#include <CLI/CLI.hpp>

#include "cli/cli_common.h"

int main(int argc, char** argv) {
    CLI::App app{"autoglm: inference engine and server for AutoGLM-Phone-9B and GLM-4 models"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "autoglm 0.1.0");
    int rc = 0;
    ag::cli::add_serve_command(app, rc);
    ag::cli::add_generate_command(app, rc);
    ag::cli::add_logits_command(app, rc);
    ag::cli::add_export_builtin_command(app, rc);
    ag::cli::add_bench_command(app, rc);
    ag::cli::add_bench_image_command(*app.get_subcommand("bench"), rc);
    ag::cli::add_quantize_command(app, rc);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const ag::Error& e) {
        return ag::cli::report(e.status());
    }
    return rc;
}
