// The built-in default model: the real GLM-4.1V architecture (Glm4vForConditionalGeneration,
// patch 14, spatial merge 2, temporal patch 2, M-RoPE, four-norm decoder) at small dimensions,
// with deterministic generated weights and a small tokenizer in GLM-4's configuration. It is a
// complete Hugging Face checkpoint directory, written on first use, loaded like any other.
// Its output text is NOT meaningful; it exists so that everything runs with no download.
#pragma once

#include <string>

#include "base/status.h"

namespace ag::tools {

// Writes the checkpoint into `dir` (created if needed). Deterministic: the same bytes every time.
[[nodiscard]] Status write_builtin_model(const std::string& dir);

// `<directory of the running executable>/builtin-model`, written there if missing or stale.
Result<std::string> ensure_builtin_model();

// The one-line notice printed by every command that runs the built-in model.
const char* builtin_model_notice();

}  // namespace ag::tools
