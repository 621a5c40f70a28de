// The architecture interface: a loaded model that runs a forward pass over new tokens of one
// sequence, appending their keys/values to its KV cache. Everything about one architecture lives
// in its own file under archs/; registry.cpp is the single list of architectures.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/status.h"
#include "model/kv_cache.h"
#include "model/model_config.h"

namespace ag::io {
class Checkpoint;
}

namespace ag::model {

struct ForwardInput {
    std::span<const int32_t> tokens;     // [n] new tokens, following the cache's n_tokens()
    // [3, n]: t row, then h row, then w row (M-RoPE). All rows equal for text.
    std::span<const int32_t> positions;
    bool all_logits = false;             // logits for every new token, else only the last
};

class Model {
public:
    virtual ~Model() = default;
    virtual const ModelConfig& config() const = 0;
    virtual KvCache new_cache() const = 0;
    // logits: [all_logits ? n : 1, vocab_size] f32. Token ids are validated (kInvalidArgument).
    [[nodiscard]] virtual Status forward(const ForwardInput& in, KvCache& cache,
                                         float* logits) const = 0;
};

// Loads a checkpoint directory (or a .safetensors file in one) with the architecture named by its
// config.json. Unknown architectures give kUnsupported listing the known ones.
Result<std::unique_ptr<Model>> load_model(const std::string& path);

// [3, n] positions start, start+1, ... on all three axes (text tokens).
std::vector<int32_t> text_positions(int64_t start, int64_t n);

}  // namespace ag::model
