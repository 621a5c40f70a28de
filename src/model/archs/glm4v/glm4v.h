// Glm4vForConditionalGeneration (GLM-4.1V-9B-Thinking, AutoGLM-Phone-9B): the GLM-4 text decoder
// under `model.language_model.` with M-RoPE, plus the vision tower under `model.visual.`.
// The vision tensors are opened (and so validated against the safetensors headers) at load;
// the vision forward and image splicing come with the image-understanding work.
#pragma once

#include <memory>

#include "model/model.h"

namespace ag::model {

Result<std::unique_ptr<Model>> load_glm4v(const io::Checkpoint& ckpt, ModelConfig cfg);

}  // namespace ag::model
