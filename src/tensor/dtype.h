// Element types and scalar conversions. bf16/f16 are stored as uint16_t bit patterns.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace ag {

// kQ8_0, kQ4_0, kQ4_K, kQ5_K, kQ6_K, kQ5_0, kQ5_1 are llama.cpp/GGUF block formats (layouts in tensor/quant.h): a row of n
// elements is n / dtype_block_elems() blocks of dtype_block_bytes() bytes each.
enum class DType : uint8_t { kF32, kF16, kBF16, kI32, kI64, kU8, kQ8_0, kQ4_0, kQ4_K, kQ5_K, kQ6_K, kQ5_0, kQ5_1 };

// Bytes per element; only for non-quantized types (AG_CHECK fails for block formats).
size_t dtype_size(DType t);
bool dtype_is_quantized(DType t);
// Elements per block (1 for plain types) and bytes per block (the element size for plain types).
int64_t dtype_block_elems(DType t);
size_t dtype_block_bytes(DType t);
// Bytes of a row of n elements; n must be a multiple of dtype_block_elems(t) (AG_CHECK).
size_t dtype_row_bytes(DType t, int64_t n);
std::string_view dtype_name(DType t);

inline float bf16_to_f32(uint16_t h) {
    uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// Round-to-nearest-even, as torch does; NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>(bits >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

}  // namespace ag
