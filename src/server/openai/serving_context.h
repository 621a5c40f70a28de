// What the OpenAI endpoints share once the model is loaded. Immutable after set_ready; read
// concurrently by every HTTP thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ag/engine.h"
#include "asr/asr_worker.h"
#include "chat/chat_template.h"
#include "server/metrics/metrics.h"
#include "server/openai/media.h"
#include "tokenizer/tokenizer.h"

namespace ag::server {

enum class ReasoningParser { kNone, kGlm45 };
/// vLLM's --chat-template-content-format: what a content-part list looks like to the template.
enum class ContentFormat { kAuto, kString, kOpenai };

struct ModelInfo {
    std::string served_name;        ///< the name clients must send as `model`
    std::string root;               ///< checkpoint path (or "builtin")
    int32_t max_model_len = 0;      ///< prompt + completion limit
    int32_t vocab_size = 0;
    bool has_vision = false;
    nlohmann::json generation_config;  ///< sampling defaults (may be null)
    nlohmann::json settings;        ///< engine/server settings shown on the status page
};

/// Speech input (serve --asr-model): /v1/audio/* and audio parts in chat messages.
struct AudioOptions {
    std::shared_ptr<asr::AsrWorker> worker;  ///< null: no speech model (audio gets a 400)
    std::string served_name;                 ///< the speech model's name in /v1/models
    std::string root;                        ///< its directory
    double max_seconds = 1800;               ///< --max-audio-seconds (longer: 413)
    size_t max_bytes = 64u << 20;            ///< encoded audio in a data URL
};

struct ServingContext {
    std::shared_ptr<EngineClient> engine;
    std::shared_ptr<const tok::Tokenizer> tokenizer;
    std::shared_ptr<const chat::ChatTemplate> chat_template;  ///< null: no chat template
    ModelInfo model;
    ReasoningParser reasoning = ReasoningParser::kNone;
    ContentFormat content_format = ContentFormat::kAuto;
    MediaOptions media;             ///< image input (enabled for vision models)
    AudioOptions audio;             ///< speech input
    metrics::Metrics* metrics = nullptr;
    int64_t created = 0;            ///< server start, Unix seconds
    bool log_requests = false;      ///< one log line per finished request
};

}  // namespace ag::server
