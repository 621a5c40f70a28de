// KV storage shared by all sequences: per layer, K and V slots [n_slots, n_head_kv] of head
// records in the cache's KvDType (tensor/kv_quant.h: f32, bf16, f16, int8 + scale, int4 values +
// group scales, int4 keys + per-block channel scales and f32 rows while a block is open;
// n_slots = n_blocks · block_size), keys stored after rotation. Which slots belong to
// which sequence is decided elsewhere (kv/ for the server; KvCache below for a single sequence)
// and reaches the model as per-sequence block tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/kv_quant.h"

namespace ag::model {

class KvStorage {
public:
    KvStorage(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, int64_t block_size,
              int64_t n_blocks, KvDType dtype = KvDType::kF32);

    KvDType dtype() const { return dtype_; }
    int64_t block_size() const { return block_size_; }
    int64_t n_blocks() const { return n_blocks_; }
    // Pool bytes of one token (K and V, every layer, block scales shared out per token); the f32
    // rows of open int4 blocks come on top (open_bytes()).
    static double bytes_per_token(int64_t n_layer, int64_t n_head_kv, int64_t head_dim,
                                  int64_t block_size, KvDType dtype);
    // Bytes of one open int4 block's f32 rows (K and V, every layer); 0 for the other dtypes.
    static double open_block_bytes(int64_t n_layer, int64_t n_head_kv, int64_t head_dim,
                                   int64_t block_size, KvDType dtype);
    size_t token_bytes() const;
    size_t bytes() const;
    size_t open_bytes() const;
    // int4: allocates the rows of n open blocks ahead of use (more are added as needed).
    void reserve_open(int32_t n);
    // Adds blocks (existing contents are kept; pointers from view() are invalidated).
    void grow(int64_t n_blocks);

    // Stores one token's keys and values ([n_head_kv, head_dim] f32 each) in `slot` of `layer`.
    // int4: the token goes to its block's open f32 rows (opened by its first slot), and the
    // block's keys are sealed when its last slot is written.
    void write(int64_t layer, int64_t slot, const float* k, const float* v);
    // After a forward step: the open rows of sealed blocks are dropped (every query of the step
    // that needed them has run).
    void finish_step();
    // The block was freed (its sequence ended or was preempted): drops its open rows.
    void release(int32_t block);

    // What the attention kernels read for one layer.
    KvView k_view(int64_t layer) const;
    KvView v_view(int64_t layer) const;

private:
    void seal(int64_t layer, int64_t block);

    int64_t n_layer_, n_head_kv_, head_dim_, block_size_, n_blocks_ = 0;
    KvDType dtype_;
    size_t k_slot_bytes_, v_slot_bytes_, k_meta_bytes_;  // meta: per block, every kv head
    std::vector<std::vector<uint8_t>> k_, v_, k_meta_;
    // int4: per block its index into the open rows, or -1; open rows per layer
    // [n_open, block_size, n_head_kv, head_dim] f32 for K and V; free open indices; blocks
    // sealed but still open until finish_step().
    std::vector<int32_t> open_index_;
    std::vector<std::vector<float>> open_k_, open_v_;
    std::vector<int32_t> free_open_, sealed_open_;
    int32_t n_open_ = 0;
};

// One sequence's cache for single-request use (CLI, tests): storage plus an identity block table
// that grows geometrically, so appending is amortised O(1) per token.
class KvCache {
public:
    KvCache(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, KvDType dtype = KvDType::kF32);

    int64_t n_tokens() const { return n_tokens_; }
    // Makes room for n_new more tokens.
    void reserve_more(int64_t n_new);
    void commit(int64_t n_new) { n_tokens_ += n_new; }
    KvStorage& storage() { return storage_; }
    const std::vector<int32_t>& block_table() const { return table_; }

private:
    // The server's default block size (EngineConfig), so a single sequence is stored as the
    // server stores it (int4 keys are grouped per block).
    static constexpr int64_t kBlock = 16;
    KvStorage storage_;
    std::vector<int32_t> table_;
    int64_t n_tokens_ = 0;
};

}  // namespace ag::model
