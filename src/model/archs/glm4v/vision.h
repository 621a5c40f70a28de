// GLM-4.1V vision tower (transformers' Glm4vVisionModel) and its 3-D text positions
// (Glm4vModel.get_rope_index). Spec: ../shared/spec/glm4v.md §2.7 and §3; decisions in
// docs/architecture.md ("GLM-4.1V vision tower").
//
// One image at a time: pixel_values [t·h·w, C·T·P·P] rows in merge-window order (as the
// preprocessor emits them) ->
//   patch embed (Conv3d = one GEMM) -> RMSNorm -> + learned position table resampled to (h, w)
//   (bicubic grid_sample, align_corners=false, border padding) -> depth × block (RMSNorm,
//   qkv, 2-D rotary on halves, full attention within each frame, proj, RMSNorm, SiLU-gated MLP)
//   -> RMSNorm -> 2×2 downsample conv (one GEMM) -> merger (proj, LayerNorm, GELU, SiLU-gated MLP)
//   -> [t·h·w / merge², out_hidden] f32.
// Activations are f32; weights stay in their checkpoint dtype and are widened by the matmul.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "model/model.h"
#include "tensor/tensor.h"

namespace ag::io {
class Checkpoint;
}

namespace ag::model {

struct Glm4vVisionConfig {
    int64_t hidden_size = 0;        // ViT width (1536)
    int64_t depth = 0;              // blocks (24)
    int64_t n_head = 0;             // 12 -> head_dim 128
    int64_t out_hidden_size = 0;    // ViT MLP width and merger width (= text hidden, 4096)
    int64_t intermediate_size = 0;  // merger MLP inner width (13696)
    int64_t patch_size = 14;
    int64_t temporal_patch_size = 2;
    int64_t spatial_merge_size = 2;
    int64_t image_size = 336;       // position table side = image_size / patch_size
    int64_t in_channels = 3;
    float rms_norm_eps = 1e-5f;
    bool attention_bias = false;
    double rope_theta = 10000.0;    // vision_config.rope_parameters.rope_theta (class default)

    int64_t head_dim() const { return hidden_size / n_head; }
    int64_t patch_dim() const { return in_channels * temporal_patch_size * patch_size * patch_size; }
    int64_t pos_side() const { return image_size / patch_size; }
};

// Reads config.json's `vision_config` (all GLM-4.1V layouts). `source` names the file in errors.
Result<Glm4vVisionConfig> parse_glm4v_vision_config(const nlohmann::json& config,
                                                    const std::string& source);

class Glm4vVisionTower {
public:
    // `prefix`: where the tower lives ("model.visual." or "visual."). Shapes are checked.
    static Result<std::unique_ptr<Glm4vVisionTower>> load(const io::Checkpoint& ck,
                                                          const std::string& prefix,
                                                          const Glm4vVisionConfig& cfg);

    const Glm4vVisionConfig& config() const { return cfg_; }

    // See the file comment. grid.h and grid.w must be multiples of the spatial merge size.
    Result<std::vector<float>> encode(std::span<const float> pixel_values,
                                      const ImageGrid& grid) const;

    // Building blocks, exposed for unit tests.
    // The position table resampled to an h×w patch grid, rows in merge-window order
    // ([h·w, hidden] f32), as Glm4vVisionEmbeddings.
    std::vector<float> position_embedding(int64_t h, int64_t w) const;

private:
    struct Block {
        std::vector<float> norm1, norm2;
        Tensor qkv, proj;       // [3·hidden, hidden], [hidden, hidden]
        std::vector<float> qkv_bias;  // empty: none
        Tensor gate_up, down;   // [2·out_hidden, hidden] (gate rows, then up rows), [hidden, out_hidden]
    };

    Glm4vVisionConfig cfg_;
    Tensor patch_w_;                    // [hidden, C, T, P, P] = [hidden, patch_dim]
    std::vector<float> patch_b_;        // [hidden]
    std::vector<float> post_conv_norm_; // [hidden]
    std::vector<float> pos_table_;      // [side·side, hidden] f32
    std::vector<Block> blocks_;
    std::vector<float> post_norm_;      // [hidden]
    Tensor down_w_;                     // [out_hidden, hidden, m, m] = [out_hidden, hidden·m²]
    std::vector<float> down_b_;         // [out_hidden]
    Tensor merger_proj_;                // [out_hidden, out_hidden]
    std::vector<float> merger_ln_w_, merger_ln_b_;
    Tensor merger_gate_up_, merger_down_;  // [2·inter, out_hidden], [out_hidden, inter]
    std::vector<float> inv_freq_;       // [head_dim / 4] 2-D rotary frequencies (f32 as HF)
};

// transformers' get_rope_index for one unpadded sequence: tokens equal to `image_token_id`
// outside a video_start…video_end span form image runs; the k-th run must hold exactly
// grids[k].t·(h/merge)·(w/merge) tokens and gets (st+τ, st+row, st+col); text continues from
// max + 1. Video spans are refused (kUnsupported).
Result<RopeIndex> glm4v_rope_index(std::span<const int32_t> tokens, int32_t image_token_id,
                                   int32_t video_start_id, int32_t video_end_id,
                                   std::span<const ImageGrid> grids, int64_t spatial_merge);

}  // namespace ag::model
