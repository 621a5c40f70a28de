// Typed hyper-parameters parsed from a Hugging Face config.json (+ generation_config.json).
// Accepts the three GLM-4.1V layouts (flat, nested 4.57 with rope_scaling, v5 rope_parameters) and
// GLM-4-0414's; see docs/checkpoints.md. Values are read from the files, never assumed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace ag::model {

struct TextConfig {
    int64_t vocab_size = 0;
    int64_t hidden_size = 0;         // d
    int64_t intermediate_size = 0;   // F (MLP width; gate_up has 2F rows)
    int64_t n_layer = 0;
    int64_t n_head = 0;              // query heads
    int64_t n_head_kv = 0;
    int64_t head_dim = 0;            // D
    float rms_norm_eps = 1e-5f;
    double rope_theta = 10000.0;
    double partial_rotary_factor = 0.5;
    int64_t rotary_dim = 0;          // D · partial_rotary_factor (even)
    // Frequency pairs per position axis (t, h, w); sums to rotary_dim / 2. One entry (all pairs on
    // the t axis) for 1-D models.
    std::vector<int64_t> mrope_section;
    bool attention_bias = true;
    bool tie_word_embeddings = false;
    int64_t max_position_embeddings = 0;
};

struct MultimodalTokenIds {
    std::optional<int32_t> image_token_id, video_token_id;
    std::optional<int32_t> image_start_token_id, image_end_token_id;
    std::optional<int32_t> video_start_token_id, video_end_token_id;
};

struct ModelConfig {
    std::string architecture;        // config.json architectures[0]
    TextConfig text;
    MultimodalTokenIds mm;
    std::vector<int32_t> eos_token_ids;  // generation_config.json first, then config.json
    std::optional<int32_t> pad_token_id;
    bool has_vision = false;
    nlohmann::json generation_config;    // raw, for sampling defaults (may be null)
};

// `source` names the file in error messages.
Result<ModelConfig> parse_model_config(const nlohmann::json& config,
                                       const nlohmann::json& generation_config,
                                       const std::string& source);

}  // namespace ag::model
