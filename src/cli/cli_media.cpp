#include "cli/cli_media.h"

#include <filesystem>

#include "io/checkpoint.h"

namespace ag::cli {

Result<mm::Glm4vImageProcessorConfig> image_processor_config(const LoadedModel& lm,
                                                             const std::string& kwargs_json) {
    const std::filesystem::path file = std::filesystem::path(lm.dir) / "preprocessor_config.json";
    mm::Glm4vImageProcessorConfig cfg;
    std::error_code ec;
    if (!lm.dir.empty() && std::filesystem::is_regular_file(file, ec)) {
        auto r = mm::Glm4vImageProcessorConfig::from_file(file.string());
        if (!r.ok()) return r.status();
        cfg = *r;
    } else if (lm.dir.ends_with(".gguf")) {
        // A GGUF language model with its vision tower beside it: the checkpoint's
        // preprocessor_config.json travels in the vision tower file.
        auto ck = io::Checkpoint::open(lm.dir);
        if (ck.ok() && !ck->mmproj_preprocessor_config().empty()) {
            auto r = mm::Glm4vImageProcessorConfig::from_json(ck->mmproj_preprocessor_config());
            if (!r.ok()) return r.status();
            cfg = *r;
        }
    }
    if (!kwargs_json.empty()) {
        Status s = cfg.apply_overrides(kwargs_json);
        if (!s.ok()) {
            return Status(s.code(), "--mm-processor-kwargs: " + s.message());
        }
    }
    AG_RETURN_IF_ERROR(cfg.validate());
    return cfg;
}

}  // namespace ag::cli
