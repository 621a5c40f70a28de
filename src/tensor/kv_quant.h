// Storage formats of the KV cache (--kv-cache-dtype). A slot holds one token's keys (or values)
// for every kv head; each head's d values are stored as one "head record" of kv_head_bytes(d):
//   kF32   d × f32
//   kBF16  d × bf16, round-to-nearest-even (what vLLM stores by default)
//   kF16   d × f16
//   kInt8  d × int8 codes, then one f32 scale: x ≈ scale · code, scale = amax / 127
//          (symmetric, per token and head, round half to even)
//   kInt4  d / 2 bytes of 4-bit codes (element 2i in the low nibble of byte i), then per group
//          of kKvInt4Group values (the whole head when d is not a multiple of it) an f16 scale and
//          an f16 minimum: x ≈ min + scale · code, code in 0..15 (asymmetric, per token, head
//          and group)
// Every record is quantized from that token's values alone, so what a key or value reads back as
// never depends on other tokens: prefill and decode, and cached and recomputed blocks, agree.
// docs/scheduler.md ("KV cache dtypes") explains why int4 groups per token rather than per channel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ag {

enum class KvDType : uint8_t { kF32, kBF16, kF16, kInt8, kInt4 };

inline constexpr int64_t kKvInt4Group = 32;

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

// Attention over an int8 cache with heads of d values takes its scores as exact integer dot
// products when this holds: each query head is rounded to 16-bit fixed point,
// q ≈ sq · code with sq = amax / 32767 (|Σ code · key code| ≤ d · 32767 · 127 < 2^31).
inline bool kv_int8_integer_scores(int64_t d) { return d % 32 == 0 && d <= 256; }
// codes[0..d) and the returned sq for one query head (sq = 0 and zero codes for a zero head).
float kv_quantize_query_i16(const float* q, int64_t d, int16_t* codes);

}  // namespace ag
