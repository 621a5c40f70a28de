// THE list of architectures: config.json `architectures[0]` -> loader. Add one line per new
// architecture (see docs/HOWTO-add-architecture.md).
#include <fmt/format.h>

#include <filesystem>

#include "io/checkpoint.h"
#include "model/archs/glm4.h"
#include "model/archs/glm4v/glm4v.h"
#include "model/archs/whisper/whisper.h"
#include "model/model.h"
#include "model/speech_model.h"

namespace ag::model {

namespace {

Result<std::unique_ptr<Model>> load_glm4(const io::Checkpoint& ck, ModelConfig cfg,
                                         const LoadOptions& opts) {
    auto m = Glm4TextModel::load(ck, std::move(cfg), "model.", "lm_head.weight", opts);
    if (!m.ok()) return m.status();
    return std::unique_ptr<Model>(std::move(m).value());
}

struct ArchEntry {
    const char* name;
    Result<std::unique_ptr<Model>> (*load)(const io::Checkpoint&, ModelConfig, const LoadOptions&);
};

constexpr ArchEntry kArchitectures[] = {
    {"Glm4ForCausalLM", load_glm4},
    {"Glm4vForConditionalGeneration", load_glm4v},
};

// Speech models (SpeechModel: encoder-decoder ASR).
struct SpeechArchEntry {
    const char* name;
    Result<std::unique_ptr<SpeechModel>> (*load)(const io::Checkpoint&, const LoadOptions&);
};

constexpr SpeechArchEntry kSpeechArchitectures[] = {
    {"WhisperForConditionalGeneration", load_whisper},
};

std::string architecture_of(const io::Checkpoint& ck) {
    const auto& a = ck.config().find("architectures");
    if (a == ck.config().end() || !a->is_array() || a->empty() || !(*a)[0].is_string()) return "";
    return (*a)[0].get<std::string>();
}

}  // namespace

Result<std::unique_ptr<Model>> load_model(const std::string& path, const LoadOptions& opts) {
    auto ck = io::Checkpoint::open(path);
    if (!ck.ok()) return ck.status();
    for (const auto& a : kSpeechArchitectures) {
        if (architecture_of(*ck) == a.name) {
            return Status(ErrorCode::kUnsupported,
                          fmt::format("{} is a speech-recognition model ({}): load it as the ASR "
                                      "model, not the chat model",
                                      ck->dir(), a.name));
        }
    }
    auto cfg = parse_model_config(ck->config(), ck->generation_config(),
                                  ck->dir() + "/config.json");
    if (!cfg.ok()) return cfg.status();
    std::string known;
    for (const auto& a : kArchitectures) {
        if (cfg->architecture == a.name) return a.load(*ck, std::move(cfg).value(), opts);
        known += known.empty() ? a.name : fmt::format(", {}", a.name);
    }
    return Status(ErrorCode::kUnsupported,
                  fmt::format("{}/config.json: unknown architecture '{}' (supported: {})", ck->dir(),
                              cfg->architecture, known));
}

Result<std::unique_ptr<SpeechModel>> load_speech_model(const std::string& path,
                                                       const LoadOptions& opts) {
    // A CTranslate2 directory (faster-whisper layout) has model.bin (or its parts), no
    // safetensors.
    namespace fs = std::filesystem;
    if (fs::is_directory(path) &&
        (fs::exists(fs::path(path) / "model.bin") || fs::exists(fs::path(path) / "model.bin.part1"))) {
        return load_whisper_ct2(path, opts);
    }
    auto ck = io::Checkpoint::open(path);
    if (!ck.ok()) return ck.status();
    const std::string arch = architecture_of(*ck);
    std::string known;
    for (const auto& a : kSpeechArchitectures) {
        if (arch == a.name) return a.load(*ck, opts);
        known += known.empty() ? a.name : fmt::format(", {}", a.name);
    }
    return Status(ErrorCode::kUnsupported,
                  fmt::format("{}/config.json: '{}' is not a speech-recognition architecture "
                              "(supported: {})",
                              ck->dir(), arch, known));
}

}  // namespace ag::model
