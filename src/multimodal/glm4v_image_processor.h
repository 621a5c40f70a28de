// GLM-4.1V / AutoGLM image preprocessing, equal to transformers' Glm4vImageProcessor (PIL
// backend, transformers 5.x `image_processing_pil_glm4v.py`; spec glm4v.md §3.1):
//   RGB uint8 -> smart_resize target (multiples of patch*merge, pixel budget) -> Pillow-exact
//   bicubic resize -> x*rescale_factor (f64, stored f32) -> (x - mean)/std (f32) -> patches.
// pixel_values is [grid_t*grid_h*grid_w, C*T*P*P] f32, rows in merge-window order (2x2 windows
// of patches row-major, the 4 patches of a window row-major), each row ordered (c, t, y, x) with
// the single image duplicated over the temporal_patch_size frames.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "multimodal/image_decode.h"
#include "multimodal/resample.h"
#include "tensor/tensor.h"

namespace ag::mm {

struct Glm4vImageProcessorConfig {
    // Defaults = GLM-4.1V-9B-Thinking's preprocessor_config.json (assumed for AutoGLM-Phone-9B).
    int patch_size = 14;
    int merge_size = 2;
    int temporal_patch_size = 2;
    // "size": {"shortest_edge": min_pixels, "longest_edge": max_pixels}. Despite the names these
    // are PIXEL-COUNT bounds on t*h*w with t = temporal_patch_size (so the per-image budget is
    // half of them).
    int64_t min_pixels = 112 * 112;         // 12544
    int64_t max_pixels = 14 * 14 * 2 * 2 * 2 * 6144;  // 9633792
    std::array<float, 3> image_mean = {0.48145466f, 0.4578275f, 0.40821073f};
    std::array<float, 3> image_std = {0.26862954f, 0.26130258f, 0.27577711f};
    double rescale_factor = 1.0 / 255.0;
    bool do_resize = true;
    bool do_rescale = true;
    bool do_normalize = true;
    ResampleFilter resample = ResampleFilter::kBicubic;

    int factor() const { return patch_size * merge_size; }
    int patch_dim() const { return 3 * temporal_patch_size * patch_size * patch_size; }  // 1176

    // Parses preprocessor_config.json text. Keys absent from the file take transformers' class
    // defaults (Glm4vImageProcessorPil), which equal the struct defaults except
    // size.longest_edge = 28*28*15000 = 11760000. Accepted size keys: "size": {"shortest_edge",
    // "longest_edge"} (the GLM format) or {"min_pixels", "max_pixels"}; top-level "min_pixels" /
    // "max_pixels" (Qwen2-VL style) override "size". Unknown keys are ignored.
    static Result<Glm4vImageProcessorConfig> from_json(std::string_view json_text);
    static Result<Glm4vImageProcessorConfig> from_file(const std::string& path);

    // Applies `--mm-processor-kwargs` JSON, e.g. {"max_pixels": 5000000}. Accepted keys:
    // max_pixels, min_pixels, size {shortest_edge, longest_edge | min_pixels, max_pixels},
    // patch_size, merge_size, temporal_patch_size, image_mean, image_std, do_resize,
    // do_rescale, do_normalize, rescale_factor, resample. Unknown keys are an error
    // (kInvalidArgument naming the key). Note: transformers 5.x's Glm4vImageProcessor has no
    // max_pixels kwarg (only size.longest_edge); we map max_pixels onto longest_edge, which is
    // what AutoGLM's deployment (vLLM --mm-processor-kwargs '{"max_pixels":5000000}') intends.
    Status apply_overrides(std::string_view kwargs_json);

    // Internal consistency (positive sizes, min <= max, std != 0, supported filter).
    Status validate() const;
};

struct ResizedSize {
    int height = 0;
    int width = 0;
};

// transformers' smart_resize for a still image (num_frames = temporal_patch_size), with Python's
// round-half-to-even and double-precision beta. Errors (kInvalidArgument): non-positive size, or
// aspect ratio over 200 (after the < factor upscale).
Result<ResizedSize> glm4v_smart_resize(int height, int width, const Glm4vImageProcessorConfig& config);

struct Glm4vImageInputs {
    Tensor pixel_values;                 // f32 [grid_t*grid_h*grid_w, patch_dim]
    std::array<int64_t, 3> grid_thw{};   // {1, grid_h, grid_w}
    int merge_size = 2;
    // Number of <|image|> placeholder tokens for this image: grid_t*grid_h*grid_w / merge^2.
    int64_t num_tokens() const { return grid_thw[0] * grid_thw[1] * grid_thw[2] / (merge_size * merge_size); }
};

// Placeholder tokens for an image of this grid: t*h*w / merge^2.
int64_t glm4v_num_image_tokens(const std::array<int64_t, 3>& grid_thw, int merge_size);
// grid_thw an image of height x width pixels gets (no pixel work; for token budgeting).
Result<std::array<int64_t, 3>> glm4v_grid_thw(int height, int width, const Glm4vImageProcessorConfig& config);
// Placeholder tokens an image of height x width pixels gets.
Result<int64_t> glm4v_image_token_count(int height, int width, const Glm4vImageProcessorConfig& config);

// The uint8 image after the resize step (what the patches are made of).
Result<RgbImage> glm4v_resize_image(const RgbImage& image, const Glm4vImageProcessorConfig& config);
// Full preprocessing of one decoded image.
Result<Glm4vImageInputs> glm4v_preprocess(const RgbImage& image, const Glm4vImageProcessorConfig& config);

}  // namespace ag::mm
