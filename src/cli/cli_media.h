// Image settings shared by `serve` and `generate`: the checkpoint's preprocessor_config.json
// with --mm-processor-kwargs applied.
#pragma once

#include <string>

#include "base/status.h"
#include "cli/cli_common.h"
#include "multimodal/glm4v_image_processor.h"

namespace ag::cli {

// <dir>/preprocessor_config.json (for a GGUF model: the copy in its vision tower file; defaults
// when absent), then the JSON overrides (may be "").
Result<mm::Glm4vImageProcessorConfig> image_processor_config(const LoadedModel& lm,
                                                             const std::string& kwargs_json);

}  // namespace ag::cli
