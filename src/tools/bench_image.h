// `autoglm bench image`: what one screenshot costs before the first token. Times GLM-4.1V
// preprocessing and the vision-tower encode of a synthetic image on the loaded model, and
// estimates the encode time of AutoGLM-Phone-9B's vision tower (hidden 1536, depth 24, 12 heads,
// MLP 4096, merger 4096/13696) on this machine from its multiply-adds and the measured speed of
// the same matmul kernels (bf16 weights; f32 attention), at the same grid.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "model/model.h"
#include "multimodal/glm4v_image_processor.h"

namespace ag::tools {

struct BenchImageOptions {
    int width = 1080;
    int height = 2400;
    int repetitions = 3;
    int warmup = 0;  // untimed preprocess + encode runs before the timed ones
};

// Multiply-adds of AutoGLM-Phone-9B's vision tower for one image of grid_h × grid_w patches:
// linear layers and attention separately.
struct VisionCost {
    double linear_macs = 0;
    double attention_macs = 0;
};
VisionCost autoglm_vision_cost(int64_t grid_h, int64_t grid_w);

// JSON: image size, grid, tokens, preprocess_ms, encode_ms (the loaded model, mean of the
// repetitions), encode_ms_runs (each timed run), the 9B estimate and the kernel speeds it uses.
Result<nlohmann::json> bench_image(const model::Model& m, const mm::Glm4vImageProcessorConfig& pc,
                                   const BenchImageOptions& opts);

}  // namespace ag::tools
