// Scalar reference kernels: the oracle that every optimised kernel is tested against. Plain
// loops, f32 accumulation, no threads. Shapes are outermost-first, all buffers contiguous.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"
#include "tensor/kv_quant.h"
#include "tensor/quant.h"

namespace ag::kernels::ref {

// y[m, n] = x[m, k] · w[n, k]ᵀ (+ bias[n]).  x, y, bias: f32; w: F32 | F16 | BF16 (widened to
// f32, f32 products summed in order) or Q8_0 | Q4_0 | Q5_0 | Q5_1 | Q4_K | Q5_K | Q6_K rows (k a multiple of
// the block size).
// Quantized weights use integer block dot products, as llama.cpp does: each x row is quantized
// once (ActQ8_0 for Q8_0/Q4_0/Q5_0/Q5_1, quant::BlockQ8_K for the K-quants), a block contributes
// (d_x · d_w) · Σ q_x·q_w (exact int32) to an f32 accumulator, blocks in order; for Q4_K (and
// Q5_K, with its 5-bit q) a super-block adds
// (d_x·d)·Σ_s sc_s·Σ q_x·q_w − (d_x·dmin)·Σ_s m_s·Σ q_x; for Q6_K (d_x·d)·Σ_s sc_s·Σ q_x·(q_w − 32)
// over its 16 sub-blocks of 16 (one exact int32 sum).
void matmul(const float* x, int64_t m, int64_t k, const void* w, DType w_dtype, int64_t n,
            const float* bias, float* y);

// Activation block for Q8_0/Q4_0 weights: d = amax / 127 over 32 values, q = round-half-to-even
// (x / d) (what SIMD converts do, so every kernel path produces the same bytes).
struct ActQ8_0 {
    float d;
    int8_t qs[32];
};
void quantize_act_q8_0(const float* x, ActQ8_0* y, int64_t k);

// One output element of a quantized matmul over nb blocks (x row already quantized): per block
// an exact integer dot, scaled by x.d · w.d and accumulated in block order. The portable CPU path
// uses these too.
// noinline: ref::matmul and the scalar ISA path must run the very same instructions for these
// (they are bit-identical by contract); an inlined copy may be vectorised and contracted
// differently by the compiler (seen with GCC 12 -march=native on AMD Zen 4).
[[gnu::noinline]] float dot_q8_0(const ActQ8_0* x, const quant::BlockQ8_0* w, int64_t nb);
[[gnu::noinline]] float dot_q4_0(const ActQ8_0* x, const quant::BlockQ4_0* w, int64_t nb);
[[gnu::noinline]] float dot_q4_k(const quant::BlockQ8_K* x, const quant::BlockQ4_K* w, int64_t nb);
[[gnu::noinline]] float dot_q5_k(const quant::BlockQ8_K* x, const quant::BlockQ5_K* w, int64_t nb);
[[gnu::noinline]] float dot_q6_k(const quant::BlockQ8_K* x, const quant::BlockQ6_K* w, int64_t nb);
// Q5_0: per block (d_x·d_w)·Σ q_x·(q_w − 16); Q5_1: (d_x·d_w)·Σ q_x·q_w + (d_x·m_w)·Σ q_x (the
// Q8_1 block-sum term of ggml, from the same ActQ8_0 record); exact int32 sums, f32 as written.
[[gnu::noinline]] float dot_q5_0(const ActQ8_0* x, const quant::BlockQ5_0* w, int64_t nb);
[[gnu::noinline]] float dot_q5_1(const ActQ8_0* x, const quant::BlockQ5_1* w, int64_t nb);

// y[r, :] = w ⊙ (x[r, :] / sqrt(mean(x[r, :]²) + eps)).  x, y: [rows, cols]; w: [cols].
void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t cols, float eps);

// out[r, j] = silu(gu[r, j]) · gu[r, f + j].  gu: [rows, 2f] (gate first, then up); out: [rows, f].
void silu_mul(const float* gu, float* out, int64_t rows, int64_t f);

// Rotates adjacent pairs (2j, 2j+1), j < n_pairs, of every head in place (GPT-J / interleaved
// style); dims >= 2·n_pairs pass through.  x: [n_tok, n_head, head_dim];
// cos, sin: [n_tok, n_pairs] (the angle of pair j of token t).
void rope_interleaved(float* x, const float* cos, const float* sin, int64_t n_tok, int64_t n_head,
                      int64_t head_dim, int64_t n_pairs);

// Causal GQA attention of n_q new queries against n_kv cached keys (the queries' own keys are
// the last n_q of them): query i may see keys [0, n_kv - n_q + i].  Query head h uses kv head
// h / (n_head / n_head_kv).  q, out: [n_q, n_head, d]; k, v: [n_kv, n_head_kv, d].
void attention(const float* q, const float* k, const float* v, float* out, int64_t n_q,
               int64_t n_kv, int64_t n_head, int64_t n_head_kv, int64_t d, float scale);

// Non-causal multi-head attention of L queries over the same L keys (one image of the vision
// tower): every query sees every key. Head h of row i of q, k and v is the d floats at
// base + i · stride + h · d; of out at out + i · out_stride + h · d.
void attention_full(const float* q, const float* k, const float* v, int64_t stride, float* out,
                    int64_t out_stride, int64_t L, int64_t n_head, int64_t d, float scale);

// attention() over a paged cache of any KvDType (the twin of cpu::attention_paged with KvView):
// every visible key and value is dequantized (kv_dequantize_head; int4 keys kv_dequantize_key,
// and the query's own block from the open rows), then as above (for int8 with
// kv_int8_integer_scores(d), on the queries rounded by kv_quantize_query_i16).
void attention_paged_kv(const float* q, KvView k_cache, KvView v_cache,
                        const int32_t* block_table, int64_t block_size, float* out, int64_t n_q,
                        int64_t n_kv, int64_t n_head, int64_t n_head_kv, int64_t d, float scale);

}  // namespace ag::kernels::ref
