// Portable multi-threaded CPU kernels (auto-vectorised loops; ISA-specific variants arrive with
// the CPU-speed work). Same signatures and semantics as kernels/ref, which is their test oracle.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace ag::kernels::cpu {

// y[m, n] = x[m, k] · w[n, k]ᵀ (+ bias[n]).  x, y, bias: f32; w: F32 | F16 | BF16.
void matmul(const float* x, int64_t m, int64_t k, const void* w, DType w_dtype, int64_t n,
            const float* bias, float* y);

// See kernels/ref/ref.h for the definitions; these split rows (tokens) across the thread pool.
void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t cols, float eps);
void silu_mul(const float* gu, float* out, int64_t rows, int64_t f);
void rope_interleaved(float* x, const float* cos, const float* sin, int64_t n_tok, int64_t n_head,
                      int64_t head_dim, int64_t n_pairs);

// Paged causal GQA attention: keys/values live in slots of a block pool,
// k_cache/v_cache: [n_slots, n_head_kv, d]; key j of this sequence is in slot
// block_table[j / block_size] · block_size + j % block_size. Semantics otherwise as
// ref::attention (query i sees keys [0, n_kv − n_q + i]). The reduction order per (query, head)
// does not depend on n_q or on the batch, so results are batch- and chunk-invariant.
void attention_paged(const float* q, const float* k_cache, const float* v_cache,
                     const int32_t* block_table, int64_t block_size, float* out, int64_t n_q,
                     int64_t n_kv, int64_t n_head, int64_t n_head_kv, int64_t d, float scale);

}  // namespace ag::kernels::cpu
