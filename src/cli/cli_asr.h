// Shared wiring for the commands that use a speech model (serve --asr-model, transcribe,
// bench asr): the flags and the load.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "asr/transcriber.h"
#include "base/status.h"

namespace ag::cli {

struct AsrArgs {
    std::string model;         // Whisper checkpoint directory (HF or CTranslate2)
    std::string quantization;  // "": keep the stored dtypes; q8_0 | q4_0 | q4_k at load
};

// --asr-model (required when `required`) and --asr-quantization (also spelled --quantization
// when `required`: the commands whose only model is the speech model).
void add_asr_options(CLI::App& cmd, AsrArgs& args, bool required);

Result<std::shared_ptr<const asr::Transcriber>> load_transcriber(const AsrArgs& args);

}  // namespace ag::cli
