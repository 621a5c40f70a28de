// The architecture interface: a loaded model that runs one batched forward pass over the new
// tokens of several sequences, writing their keys/values into a paged KV storage. Everything about one architecture lives
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

enum class LogitsMode { kNone, kLast, kAll };

// One sequence's slice of a batched forward.
struct SeqInput {
    std::span<const int32_t> tokens;       // [n] new tokens
    // [3, n]: t row, then h row, then w row (M-RoPE). All rows equal for text.
    std::span<const int32_t> positions;
    int64_t n_past = 0;                    // tokens of this sequence already in the KV storage
    std::span<const int32_t> block_table;  // physical blocks covering n_past + n tokens
    LogitsMode logits = LogitsMode::kLast;
};

// Single-sequence convenience input (CLI, tests): the cache supplies n_past and the block table.
struct ForwardInput {
    std::span<const int32_t> tokens;
    std::span<const int32_t> positions;
    bool all_logits = false;
};

class Model {
public:
    virtual ~Model() = default;
    virtual const ModelConfig& config() const = 0;

    // One forward over the new tokens of several sequences, writing their keys/values into
    // `kv` and the requested logits rows to `logits` ([Σ rows, vocab] f32, in sequence order:
    // 1 row for kLast, n for kAll). Per-token results do not depend on the other sequences in
    // the batch or on how a prompt is chunked. Token ids and shapes are validated.
    [[nodiscard]] virtual Status forward_batch(std::span<const SeqInput> seqs, KvStorage& kv,
                                               float* logits) const = 0;

    KvCache new_cache() const;
    // logits: [all_logits ? n : 1, vocab_size]. Appends to `cache`.
    [[nodiscard]] Status forward(const ForwardInput& in, KvCache& cache, float* logits) const;
};

// Loads a checkpoint directory (or a .safetensors file in one) with the architecture named by its
// config.json. Unknown architectures give kUnsupported listing the known ones.
Result<std::unique_ptr<Model>> load_model(const std::string& path);

// [3, n] positions start, start+1, ... on all three axes (text tokens).
std::vector<int32_t> text_positions(int64_t start, int64_t n);

}  // namespace ag::model
