#include "model/archs/glm4v/glm4v.h"

#include <fmt/format.h>

#include "base/log.h"
#include "io/checkpoint.h"
#include "model/archs/glm4.h"
#include "model/archs/glm4v/vision.h"
#include "tensor/tensor.h"

namespace ag::model {

namespace {

// Checkpoint name layouts seen in the wild (spec §1.5): transformers' module paths, vLLM's
// internal names, and text-only rewrites.
struct NameLayout {
    const char* text_prefix;
    const char* lm_head;
    const char* vision_prefix;
};
constexpr NameLayout kLayouts[] = {
    {"model.language_model.", "lm_head.weight", "model.visual."},
    {"language_model.model.", "language_model.lm_head.weight", "visual."},
    {"model.", "lm_head.weight", "model.visual."},
};

class Glm4vModel final : public Model, public VisionModel {
public:
    Glm4vModel(std::unique_ptr<Glm4TextModel> text, std::unique_ptr<Glm4vVisionTower> tower)
        : text_(std::move(text)), tower_(std::move(tower)) {
        const MultimodalTokenIds& mm = text_->config().mm;
        image_token_id_ = mm.image_token_id.value_or(-1);
        video_start_id_ = mm.video_start_token_id.value_or(-1);
        video_end_id_ = mm.video_end_token_id.value_or(-1);
    }
    const ModelConfig& config() const override { return text_->config(); }
    const VisionModel* vision() const override { return tower_ ? this : nullptr; }

    Status forward_batch(std::span<const SeqInput> seqs, KvStorage& kv,
                         float* logits) const override {
        // With image features given, every image placeholder must receive a row (transformers
        // checks the counts). Without any (text-only input) a placeholder id is embedded as a
        // token, as transformers does when no pixel_values are passed.
        for (const SeqInput& s : seqs) {
            if (s.embed_rows.empty()) continue;
            for (size_t i = 0; i < s.tokens.size() && i < s.embed_rows.size(); ++i) {
                if (s.tokens[i] == image_token_id_ && s.embed_rows[i] < 0) {
                    return Status(ErrorCode::kInvalidArgument,
                                  fmt::format("forward: image placeholder token {} at position {} "
                                              "has no image features",
                                              image_token_id_, s.n_past + static_cast<int64_t>(i)));
                }
            }
        }
        return text_->forward_batch(seqs, kv, logits);
    }

    int32_t image_token_id() const override { return image_token_id_; }
    int64_t patch_dim() const override { return tower_->config().patch_dim(); }
    int64_t patch_size() const override { return tower_->config().patch_size; }
    int64_t spatial_merge() const override { return tower_->config().spatial_merge_size; }
    Result<std::vector<float>> encode_image(std::span<const float> pixel_values,
                                            const ImageGrid& grid) const override {
        return tower_->encode(pixel_values, grid);
    }
    Result<RopeIndex> rope_index(std::span<const int32_t> tokens,
                                 std::span<const ImageGrid> grids) const override {
        return glm4v_rope_index(tokens, image_token_id_, video_start_id_, video_end_id_, grids,
                                tower_->config().spatial_merge_size);
    }

private:
    std::unique_ptr<Glm4TextModel> text_;
    std::unique_ptr<Glm4vVisionTower> tower_;  // null: text-only checkpoint
    int32_t image_token_id_ = -1, video_start_id_ = -1, video_end_id_ = -1;
};

}  // namespace

Result<std::unique_ptr<Model>> load_glm4v(const io::Checkpoint& ck, ModelConfig cfg,
                                          const LoadOptions& opts) {
    const NameLayout* layout = nullptr;
    for (const auto& l : kLayouts) {
        if (ck.has_tensor(std::string(l.text_prefix) + "embed_tokens.weight")) {
            layout = &l;
            break;
        }
    }
    if (layout == nullptr) {
        return Status(ErrorCode::kNotFound,
                      fmt::format("{}: no text embedding found (looked for "
                                  "model.language_model.embed_tokens.weight and variants)",
                                  ck.dir()));
    }
    auto text = Glm4TextModel::load(ck, std::move(cfg), layout->text_prefix, layout->lm_head, opts);
    if (!text.ok()) return text.status();
    bool has_vision = false;
    for (const std::string& name : ck.tensor_names()) {
        if (name.rfind(layout->vision_prefix, 0) == 0) {
            has_vision = true;
            break;
        }
    }
    std::unique_ptr<Glm4vVisionTower> tower;
    if (has_vision) {
        if (!(*text)->config().mm.image_token_id) {
            return Status(ErrorCode::kParseError,
                          fmt::format("{}/config.json: image_token_id missing", ck.dir()));
        }
        auto vc = parse_glm4v_vision_config(ck.config(), ck.dir() + "/config.json");
        if (!vc.ok()) return vc.status();
        auto t = Glm4vVisionTower::load(ck, layout->vision_prefix, *vc);
        if (!t.ok()) return t.status();
        tower = std::move(t).value();
    } else {
        log::debug("glm4v: no {}* tensors: text-only", layout->vision_prefix);
    }
    return std::unique_ptr<Model>(new Glm4vModel(std::move(text).value(), std::move(tower)));
}

}  // namespace ag::model
