// Storage formats of the KV cache (--kv-cache-dtype). A slot holds one token's keys (or values)
// for every kv head; each head's d values are stored as one "head record" of kv_head_bytes(d):
//   kF32   d × f32
//   kBF16  d × bf16, round-to-nearest-even (what vLLM stores by default)
//   kF16   d × f16
//   kInt8  d × int8 codes, then one f32 scale: x ≈ scale · code, scale = amax / 127
//          (symmetric, per token and head, round half to even)
//   kInt4  values: d / 2 bytes of 4-bit codes (element 2i in the low nibble of byte i), then per
//          group of kKvInt4Group values (the whole head when d is not a multiple of it) an f16
//          scale and an f16 minimum: x ≈ min + scale · code, code in 0..15 (asymmetric, per
//          token, head and group); keys: per channel within a block (below)
// Values, and keys of every other dtype, are quantized from that token's values alone.
//
// int4 keys are KIVI's: grouped per channel within a block. A full ("sealed") block stores per
// slot and kv head d / 2 bytes of codes (kv_key_head_bytes), and per kv head d pairs (f16 scale,
// f16 minimum) over the block's tokens (kv_key_block_meta_bytes): k[t][c] ≈ min[c] + scale[c] ·
// code[t][c]. Until a block is full its keys and values are kept in f32 ("open" rows, KvStorage);
// attention reads the block holding the query's own position from those f32 rows and every
// earlier block sealed, so what a query reads depends only on its position and the tokens up to
// its block's end, never on how the tokens were batched: a prefill chunk and token-by-token
// decode, and a cached and a recomputed block, agree bit for bit. docs/scheduler.md
// ("KV cache dtypes") has the layout and the reasoning.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ag {

enum class KvDType : uint8_t { kF32, kBF16, kF16, kInt8, kInt4 };

inline constexpr int64_t kKvInt4Group = 32;

// One layer's K or V cache as the attention kernels read it: slot s, kv head h is the record at
// data + (s · n_head_kv + h) · bytes (kv_key_head_bytes for K, kv_head_bytes for V).
struct KvView {
    const void* data = nullptr;
    KvDType dtype = KvDType::kF32;
    // int4 only. K: per block and kv head, the channel scales (kv_key_block_meta_bytes each).
    const uint8_t* key_meta = nullptr;
    // int4 only: f32 rows of open blocks, [n_open, block_size, n_head_kv, d], and per physical
    // block its index there (-1: none). The block of a query's own position is read from here.
    const float* open = nullptr;
    const int32_t* open_index = nullptr;
};

// "auto" is bf16 (vLLM's default for a bf16 model); nullopt for an unknown name.
std::optional<KvDType> parse_kv_dtype(std::string_view name);
std::string_view kv_dtype_name(KvDType t);
// Whether the format can store heads of d values (kInt4 needs an even d).
bool kv_dtype_supports(KvDType t, int64_t d);

// Bytes of one head record (see above).
size_t kv_head_bytes(KvDType t, int64_t d);
// Elements per int4 group for heads of d values.
inline int64_t kv_int4_group(int64_t d) { return d % kKvInt4Group == 0 ? kKvInt4Group : d; }

// One head record: x[d] f32 -> dst (kv_head_bytes(t, d) bytes) and back.
void kv_quantize_head(KvDType t, const float* x, int64_t d, void* dst);
void kv_dequantize_head(KvDType t, const void* src, int64_t d, float* x);

// int4 keys (see the top): bytes of one slot's head of codes, and of one block's per-head channel
// scales; for other dtypes the key record is kv_head_bytes and there are no block scales.
size_t kv_key_head_bytes(KvDType t, int64_t d);
size_t kv_key_block_meta_bytes(KvDType t, int64_t d);
// Seals one kv head of a block of n keys (row r at k + r · stride, d values each): codes of row r
// at codes + r · code_stride (d / 2 bytes), channel scales and minimums at meta.
void kv_quantize_key_block(const float* k, int64_t stride, int64_t n, int64_t d, uint8_t* codes,
                           int64_t code_stride, uint8_t* meta);
// One sealed key: its codes and its block's meta for that kv head -> x[d].
void kv_dequantize_key(const uint8_t* codes, const uint8_t* meta, int64_t d, float* x);

// Attention over an int8 cache with heads of d values takes its scores as exact integer dot
// products when this holds: each query head is rounded to 16-bit fixed point,
// q ≈ sq · code with sq = amax / 32767 (|Σ code · key code| ≤ d · 32767 · 127 < 2^31).
inline bool kv_int8_integer_scores(int64_t d) { return d % 32 == 0 && d <= 256; }
// codes[0..d) and the returned sq for one query head (sq = 0 and zero codes for a zero head).
float kv_quantize_query_i16(const float* q, int64_t d, int16_t* codes);

}  // namespace ag
