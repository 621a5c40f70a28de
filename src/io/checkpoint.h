// A Hugging Face checkpoint directory: config.json, optional generation_config.json, and weights
// in model.safetensors or sharded per model.safetensors.index.json ({"weight_map": {name: file}}).
// A path to a single .safetensors file is accepted too (its directory provides config.json).
// A .gguf file of llama.cpp's `glm4` architecture opens too (io/gguf_glm4.h): its tensors are
// offered under the Hugging Face names and PyTorch shapes, and config() is synthesized from the
// glm4.* metadata (architectures ["Glm4ForCausalLM"]); dir() is then the file's path.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "io/gguf.h"
#include "io/gguf_glm4.h"
#include "io/safetensors.h"
#include "tensor/tensor.h"

namespace ag::io {

class Checkpoint {
public:
    static Result<Checkpoint> open(const std::string& path);

    const std::string& dir() const { return dir_; }
    const nlohmann::json& config() const { return config_; }
    // generation_config.json if present, else null.
    const nlohmann::json& generation_config() const { return generation_config_; }

    bool has_tensor(const std::string& name) const;
    std::vector<std::string> tensor_names() const;
    // Zero-copy view. kNotFound names the tensor and the checkpoint; when `expected_shape` is
    // given a mismatch is kInvalidArgument naming tensor, file, expected and actual shapes.
    Result<Tensor> tensor(const std::string& name,
                          const std::optional<std::vector<int64_t>>& expected_shape = {}) const;
    // The file a tensor lives in (for messages).
    std::string file_of(const std::string& name) const;

    // The GGUF file when the checkpoint is one, else null.
    const GgufFile* gguf() const { return gguf_.get(); }

private:
    static Result<Checkpoint> open_gguf(const std::string& path);

    std::string dir_;
    nlohmann::json config_;
    nlohmann::json generation_config_;
    std::vector<std::shared_ptr<SafetensorsFile>> files_;
    std::map<std::string, size_t> tensor_file_;  // name -> index into files_
    std::shared_ptr<GgufFile> gguf_;
    std::map<std::string, GgufSource> gguf_map_;  // HF name -> GGUF tensor
    int64_t gguf_head_dim_ = 0, gguf_rotary_dim_ = 0;
};

// Parses a JSON file; errors name the file: kNotFound if it cannot be opened, kParseError with
// the 0-based byte offset (and line/column) for a syntax error.
Result<nlohmann::json> read_json_file(const std::string& path);

}  // namespace ag::io
