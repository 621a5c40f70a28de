// Multi-threaded CPU kernels. Same signatures and semantics as kernels/ref, which is their test
// oracle. matmul runs on one of several ISA paths (AVX-512 VNNI, AVX2, portable scalar), chosen
// once from CPUID; see docs/architecture.md ("CPU kernels").
#pragma once

#include <cstdint>
#include <string_view>

#include "tensor/dtype.h"
#include "tensor/kv_quant.h"

namespace ag::kernels::cpu {

// y[m, n] = x[m, k] · w[n, k]ᵀ (+ bias[n]).  x, y, bias: f32; w: F32 | F16 | BF16 | Q8_0 | Q4_0
// | Q4_K | Q5_0 | Q5_1 | Q5_K | Q6_K rows in their storage layout (for block formats k is a
// multiple of the block size).
// Quantized weights: each x row is quantized once per call (as ref::matmul does) and blocks are
// integer dot products. Row i of y is bit-identical whatever m is and whatever the other rows of
// x hold (batch invariance), on every ISA path.
void matmul(const float* x, int64_t m, int64_t k, const void* w, DType w_dtype, int64_t n,
            const float* bias, float* y);

// The matmul ISA path in use: "avx512", "avx2" or "scalar". Chosen on first use from CPUID (the
// best the CPU and OS support); the environment variable AG_CPU_ISA=scalar|avx2|avx512 asks for
// another (ignored with a warning when the CPU lacks it).
std::string_view isa_name();
// Whether this CPU and build can run the named path.
bool isa_available(std::string_view name);
// Switches the path (tests, benchmarks); false, and no change, when it is not available.
// Not thread-safe against concurrent matmul calls.
bool set_isa(std::string_view name);

// See kernels/ref/ref.h for the definitions; these split rows (tokens) across the thread pool.
void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t cols, float eps);
void silu_mul(const float* gu, float* out, int64_t rows, int64_t f);
void rope_interleaved(float* x, const float* cos, const float* sin, int64_t n_tok, int64_t n_head,
                      int64_t head_dim, int64_t n_pairs);
// torch.nn.LayerNorm over rows of cols: (x − mean) / sqrt(var + eps) · w + b, biased variance,
// statistics in double; y may be x. Rows split over the pool.
void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows,
                int64_t cols, float eps);
// Exact (erf) GELU in place, as torch.nn.GELU() / ACT2FN["gelu"].
void gelu_erf(float* x, int64_t n);

// Paged causal GQA attention: keys/values live in slots of a block pool,
// k_cache/v_cache: [n_slots, n_head_kv, d]; key j of this sequence is in slot
// block_table[j / block_size] · block_size + j % block_size. Semantics otherwise as
// ref::attention (query i sees keys [0, n_kv − n_q + i]). The reduction order per (query, head)
// does not depend on n_q or on the batch, so results are batch- and chunk-invariant.
void attention_paged(const float* q, const float* k_cache, const float* v_cache,
                     const int32_t* block_table, int64_t block_size, float* out, int64_t n_q,
                     int64_t n_kv, int64_t n_head, int64_t n_head_kv, int64_t d, float scale);

// ref::attention_full on the thread pool, blocked as flash attention: per head, blocks of
// queries pass over blocks of 128 keys with a running max and sum (online softmax), so memory is
// O(L · d) whatever L is (no L × L score matrix). Scores, exp and p·V are 16-lane vector code;
// results equal ref::attention_full up to f32 rounding (summation order differs).
void attention_full(const float* q, const float* k, const float* v, int64_t stride, float* out,
                    int64_t out_stride, int64_t L, int64_t n_head, int64_t d, float scale);

using ag::KvView;  // one layer's K or V cache (tensor/kv_quant.h)

// The same attention over a cache of any KvDType (K and V of one dtype), reading the records
// directly; with kF32 it is the function above. For another dtype the result equals this
// function on the dequantized cache (kv_dequantize_head) up to f32 rounding of the conversion.
void attention_paged(const float* q, KvView k_cache, KvView v_cache, const int32_t* block_table,
                     int64_t block_size, float* out, int64_t n_q, int64_t n_kv, int64_t n_head,
                     int64_t n_head_kv, int64_t d, float scale);

}  // namespace ag::kernels::cpu
