// A Hugging Face checkpoint directory: config.json, optional generation_config.json, and weights
// in model.safetensors or sharded per model.safetensors.index.json ({"weight_map": {name: file}}).
// A path to a single .safetensors file is accepted too (its directory provides config.json).
// A .gguf file of llama.cpp's `glm4` architecture opens too (io/gguf_glm4.h): its tensors are
// offered under the Hugging Face names and PyTorch shapes, and config() is synthesized from the
// glm4.* metadata (architectures ["Glm4ForCausalLM"]); dir() is then the file's path. When the
// file names a vision tower beside it (metadata autoglm.mmproj, written by `autoglm quantize` for
// GLM-4.1V) and that file exists, it is opened too: config() is then the original config.json
// kept in it, the text tensors appear under its layout's names and the vision tensors under
// their own (a missing file only logs a warning: the language model still loads).
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
    // The vision tower file opened beside a GGUF language model, else null.
    const GgufFile* mmproj() const { return mmproj_.get(); }
    // preprocessor_config.json text kept in the vision tower file ("" when none).
    const std::string& mmproj_preprocessor_config() const { return mmproj_preprocessor_; }

private:
    static Result<Checkpoint> open_gguf(const std::string& path);
    Status attach_mmproj(const std::string& path);
    bool is_mmproj_tensor(const std::string& name) const;

    std::string dir_;
    nlohmann::json config_;
    nlohmann::json generation_config_;
    std::vector<std::shared_ptr<SafetensorsFile>> files_;
    std::map<std::string, size_t> tensor_file_;  // name -> index into files_
    std::shared_ptr<GgufFile> gguf_;
    std::map<std::string, GgufSource> gguf_map_;  // HF name -> GGUF tensor
    int64_t gguf_head_dim_ = 0, gguf_rotary_dim_ = 0;
    std::shared_ptr<GgufFile> mmproj_;
    std::map<std::string, std::vector<int64_t>> mmproj_shapes_;  // HF name -> PyTorch shape
    std::string mmproj_preprocessor_;
};

// Parses a JSON file; errors name the file: kNotFound if it cannot be opened, kParseError with
// the 0-based byte offset (and line/column) for a syntax error.
Result<nlohmann::json> read_json_file(const std::string& path);

}  // namespace ag::io
