// Glm4vForConditionalGeneration (GLM-4.1V-9B-Thinking, AutoGLM-Phone-9B): the GLM-4 text decoder
// under `model.language_model.` with M-RoPE, plus the vision tower under `model.visual.`.
// The vision tower (archs/glm4v/vision.h) is loaded when the checkpoint has `*visual.*` tensors;
// the model then exposes it as Model::vision() (encode_image, rope_index), and image features
// enter the decoder through SeqInput::embeds / embed_rows.
#pragma once

#include <memory>

#include "model/model.h"

namespace ag::model {

Result<std::unique_ptr<Model>> load_glm4v(const io::Checkpoint& ckpt, ModelConfig cfg,
                                          const LoadOptions& opts = {});

}  // namespace ag::model
