// The architecture interface: a loaded model that runs one batched forward pass over the new
// tokens of several sequences, writing their keys/values into a paged KV storage. Everything about one architecture lives
// in its own file under archs/; registry.cpp is the single list of architectures.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/kv_cache.h"
#include "model/model_config.h"
#include "tensor/dtype.h"

namespace ag::io {
class Checkpoint;
}

namespace ag::model {

enum class LogitsMode { kNone, kLast, kAll };

// One sequence's slice of a batched forward.
struct SeqInput {
    SeqInput() = default;
    SeqInput(std::span<const int32_t> tokens_, std::span<const int32_t> positions_, int64_t n_past_,
             std::span<const int32_t> block_table_, LogitsMode logits_ = LogitsMode::kLast,
             std::span<const float> embeds_ = {}, std::span<const int32_t> embed_rows_ = {})
        : tokens(tokens_), positions(positions_), n_past(n_past_), block_table(block_table_),
          logits(logits_), embeds(embeds_), embed_rows(embed_rows_) {}

    std::span<const int32_t> tokens;       // [n] new tokens
    // [3, n]: t row, then h row, then w row (M-RoPE). All rows equal for text.
    std::span<const int32_t> positions;
    int64_t n_past = 0;                    // tokens of this sequence already in the KV storage
    std::span<const int32_t> block_table;  // physical blocks covering n_past + n tokens
    LogitsMode logits = LogitsMode::kLast;
    // Optional input-embedding override (image features). Empty: every token uses its own
    // embedding row. Otherwise one entry per token: r >= 0 takes row r of `embeds`
    // ([rows, hidden] f32, e.g. the whole image's encoder output) instead of the token's
    // embedding; -1 keeps the token embedding. A prefill chunk may start or end inside an image's
    // token run: pass the same `embeds` and the rows of the chunk's tokens (image_embed_rows).
    std::span<const float> embeds;
    std::span<const int32_t> embed_rows;
};

// Single-sequence convenience input (CLI, tests): the cache supplies n_past and the block table.
struct ForwardInput {
    ForwardInput() = default;
    ForwardInput(std::span<const int32_t> tokens_, std::span<const int32_t> positions_,
                 bool all_logits_ = false, std::span<const float> embeds_ = {},
                 std::span<const int32_t> embed_rows_ = {})
        : tokens(tokens_), positions(positions_), all_logits(all_logits_), embeds(embeds_),
          embed_rows(embed_rows_) {}

    std::span<const int32_t> tokens;
    std::span<const int32_t> positions;
    bool all_logits = false;
    std::span<const float> embeds;         // as SeqInput::embeds / embed_rows
    std::span<const int32_t> embed_rows;
};

// Patch grid of one image or video (image_grid_thw): frames t (1 for a still image), patch rows h
// and patch columns w, before the spatial merge.
struct ImageGrid {
    int64_t t = 1, h = 0, w = 0;
};

// 3-D (M-RoPE) positions of a prompt, as transformers' get_rope_index.
struct RopeIndex {
    std::vector<int32_t> positions;  // [3, n]: t row, h row, w row
    // Decoding: the token at cache index c (c >= n) gets position c + rope_delta on all axes.
    int64_t rope_delta = 0;
};

// The image side of a multimodal model (GLM-4.1V's vision tower and its position rules).
class VisionModel {
public:
    virtual ~VisionModel() = default;
    virtual int32_t image_token_id() const = 0;
    // Values per row of pixel_values (in_channels · temporal_patch · patch²; 1176 for GLM-4.1V).
    virtual int64_t patch_dim() const = 0;
    virtual int64_t patch_size() const = 0;
    virtual int64_t spatial_merge() const = 0;
    // Placeholder tokens one image expands to: t·h·w / merge².
    int64_t n_image_tokens(const ImageGrid& g) const {
        return g.t * g.h * g.w / (spatial_merge() * spatial_merge());
    }
    // One image: pixel_values [t·h·w, patch_dim] (the preprocessor's rows, merge-window order)
    // -> [n_image_tokens(grid), text hidden] f32 embeddings, in the order of the image's
    // placeholder tokens. Several images = several calls (images never attend to each other).
    [[nodiscard]] virtual Result<std::vector<float>> encode_image(std::span<const float> pixel_values,
                                                                  const ImageGrid& grid) const = 0;
    // Positions of a whole prompt whose runs of image_token_id are the images of `grids`, in
    // order (each run exactly n_image_tokens long; errors otherwise). Text-only: 0..n-1, delta 0.
    [[nodiscard]] virtual Result<RopeIndex> rope_index(std::span<const int32_t> tokens,
                                                       std::span<const ImageGrid> grids) const = 0;
};

// Per-token rows for SeqInput::embed_rows: the k-th `image_token_id` in `tokens` gets
// first_row + k, every other token -1. For a chunk, first_row = number of placeholders before it.
std::vector<int32_t> image_embed_rows(std::span<const int32_t> tokens, int32_t image_token_id,
                                      int64_t first_row = 0);

class Model {
public:
    virtual ~Model() = default;
    virtual const ModelConfig& config() const = 0;
    // The vision side, or null for text-only models.
    virtual const VisionModel* vision() const { return nullptr; }

    // One forward over the new tokens of several sequences, writing their keys/values into
    // `kv` and the requested logits rows to `logits` ([Σ rows, vocab] f32, in sequence order:
    // 1 row for kLast, n for kAll). Per-token results do not depend on the other sequences in
    // the batch or on how a prompt is chunked. Token ids and shapes are validated.
    [[nodiscard]] virtual Status forward_batch(std::span<const SeqInput> seqs, KvStorage& kv,
                                               float* logits) const = 0;

    KvCache new_cache(KvDType kv_dtype = KvDType::kF32) const;
    // logits: [all_logits ? n : 1, vocab_size]. Appends to `cache`.
    [[nodiscard]] Status forward(const ForwardInput& in, KvCache& cache, float* logits) const;
};

// Choices made at load time that are not in the checkpoint.
struct LoadOptions {
    // Quantize the text decoder's weight matrices (q/k/v/o, gate_up, down, embeddings, lm_head)
    // to this block format (kQ8_0, kQ4_0, kQ4_K) while loading; nullopt keeps the stored dtypes.
    // Per-matrix fallbacks and no-ops: model/weight_quant.h. Norms, biases and the vision tower
    // keep their dtype.
    std::optional<DType> weight_dtype;
};

// Loads a checkpoint directory (or a .safetensors file in one) with the architecture named by its
// config.json. Unknown architectures give kUnsupported listing the known ones.
Result<std::unique_ptr<Model>> load_model(const std::string& path, const LoadOptions& opts = {});

// [3, n] positions start, start+1, ... on all three axes (text tokens).
std::vector<int32_t> text_positions(int64_t start, int64_t n);

}  // namespace ag::model
