// autoglm export-builtin: writes the built-in model as a checkpoint directory.
#include <cstdio>
#include <memory>

#include "cli/cli_common.h"
#include "tools/builtin_model.h"

namespace ag::cli {

void add_export_builtin_command(CLI::App& app, int& rc) {
    auto out = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand(
        "export-builtin", "Write the built-in (tiny, meaningless) model as an HF checkpoint");
    cmd->add_option("--out", *out, "Output directory")->required();
    cmd->callback([out, &rc] {
        Status s = tools::write_builtin_model(*out);
        rc = s.ok() ? 0 : report(s);
        if (s.ok()) std::fprintf(stderr, "[INFO] wrote the built-in model to %s\n", out->c_str());
    });
}

}  // namespace ag::cli
