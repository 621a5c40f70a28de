#include "model/archs/glm4v/glm4v.h"

#include <fmt/format.h>

#include "base/log.h"
#include "io/checkpoint.h"
#include "model/archs/glm4.h"
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

class Glm4vModel final : public Model {
public:
    Glm4vModel(std::unique_ptr<Glm4TextModel> text, std::vector<Tensor> vision)
        : text_(std::move(text)), vision_(std::move(vision)) {}
    const ModelConfig& config() const override { return text_->config(); }
    Status forward_batch(std::span<const SeqInput> seqs, KvStorage& kv,
                         float* logits) const override {
        return text_->forward_batch(seqs, kv, logits);
    }

private:
    std::unique_ptr<Glm4TextModel> text_;
    std::vector<Tensor> vision_;  // held for the vision tower (image-understanding work)
};

}  // namespace

Result<std::unique_ptr<Model>> load_glm4v(const io::Checkpoint& ck, ModelConfig cfg) {
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
    auto text = Glm4TextModel::load(ck, std::move(cfg), layout->text_prefix, layout->lm_head);
    if (!text.ok()) return text.status();
    std::vector<Tensor> vision;
    for (const std::string& name : ck.tensor_names()) {
        if (name.rfind(layout->vision_prefix, 0) != 0) continue;
        auto t = ck.tensor(name);
        if (!t.ok()) return t.status();
        vision.push_back(std::move(t).value());
    }
    log::debug("glm4v: {} vision tensors mapped (vision forward not enabled yet)", vision.size());
    return std::unique_ptr<Model>(new Glm4vModel(std::move(text).value(), std::move(vision)));
}

}  // namespace ag::model
