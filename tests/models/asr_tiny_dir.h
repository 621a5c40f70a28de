// The tiny random Whisper goldens as Transcriber directories: the checkpoint's files linked
// into a temporary directory with the tiny Whisper-shaped tokenizer.json beside them.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace ag::asr {

inline std::filesystem::path tiny_model_dir(const std::string& golden) {
    namespace fs = std::filesystem;
    const fs::path src = fs::absolute("tests/golden/models/" + golden);
    const fs::path dir = fs::temp_directory_path() /
                         ("ag_asr_" + std::to_string(::getpid()) + "_" +
                          std::string(fs::path(golden).filename()) + "_" +
                          std::string(fs::path(golden).parent_path().filename()));
    fs::create_directories(dir);
    for (const auto& e : fs::directory_iterator(src)) {
        const fs::path link = dir / e.path().filename();
        if (!fs::exists(link)) fs::create_symlink(e.path(), link);
    }
    const fs::path tk = dir / "tokenizer.json";
    if (!fs::exists(tk)) {
        fs::create_symlink(fs::absolute("tests/fixtures/tokenizers/whisper_tiny/tokenizer.json"),
                           tk);
    }
    return dir;
}

}  // namespace ag::asr
