// llama.cpp/GGUF block quantization formats, bit-compatible with ggml (a GGUF file written by
// either engine is read by the other). Rows are quantized independently; a row of n elements is
// n / block-elems consecutive blocks. These are the scalar reference (de)quantizers: the test
// oracle and the path used by `autoglm quantize`. Fast matmuls live in kernels/.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace ag::quant {

inline constexpr int kQK8_0 = 32;
inline constexpr int kQK4_0 = 32;
inline constexpr int kQK5_0 = 32;  // Q5_0 and Q5_1
inline constexpr int kQK_K = 256;  // K-quant super-block
inline constexpr int kKScaleBytes = 12;

// x[i] = d · qs[i]
struct BlockQ8_0 {
    uint16_t d;          // f16 scale
    int8_t qs[kQK8_0];
};
// x[j] = d · ((qs[j] & 15) − 8), x[j + 16] = d · ((qs[j] >> 4) − 8), j < 16
struct BlockQ4_0 {
    uint16_t d;              // f16 scale
    uint8_t qs[kQK4_0 / 2];
};
// 5-bit codes q ∈ [0, 31]: element j < 16 has its low 4 bits in the low nibble of qs[j], element
// j + 16 in the high nibble of qs[j]; bit 4 of element e is bit e of qh (a little-endian uint32).
// Q5_0: x = d · (q − 16); Q5_1: x = d · q + m.
struct BlockQ5_0 {
    uint16_t d;  // f16 scale
    uint8_t qh[4];
    uint8_t qs[kQK5_0 / 2];
};
struct BlockQ5_1 {
    uint16_t d;  // f16 scale
    uint16_t m;  // f16 offset (the block minimum)
    uint8_t qh[4];
    uint8_t qs[kQK5_0 / 2];
};
// 8 sub-blocks of 32: x = d · sc_s · q − dmin · m_s with 6-bit sc_s, m_s packed in `scales`
// (ggml's get_scale_min_k4) and 4-bit q: bytes qs[32c..32c+31] hold sub-block 2c in the low
// nibbles and 2c+1 in the high nibbles.
struct BlockQ4_K {
    uint16_t d;     // f16 super-block scale for the sub-block scales
    uint16_t dmin;  // f16 super-block scale for the sub-block mins
    uint8_t scales[kKScaleBytes];
    uint8_t qs[kQK_K / 2];
};
// As Q4_K with a fifth bit: q ∈ [0, 31] is the Q4_K nibble plus 16 · bit s of qh[l] for element
// 32s + l of sub-block s (scales and mins packed as in Q4_K).
struct BlockQ5_K {
    uint16_t d;     // f16 super-block scale for the sub-block scales
    uint16_t dmin;  // f16 super-block scale for the sub-block mins
    uint8_t scales[kKScaleBytes];
    uint8_t qh[kQK_K / 8];
    uint8_t qs[kQK_K / 2];
};
// 16 sub-blocks of 16: x = d · scales_s · (q − 32) with 6-bit q ∈ [0, 63] and int8 scales_s
// (s = element / 16). Element e = 128h + 32g + l (h < 2, g < 4, l < 32) has its low 4 bits in
// ql[64h + 32(g % 2) + l] (low nibble for g < 2, high nibble for g ≥ 2) and its high 2 bits in
// bits 2g, 2g+1 of qh[32h + l].
struct BlockQ6_K {
    uint8_t ql[kQK_K / 2];
    uint8_t qh[kQK_K / 4];
    int8_t scales[kQK_K / 16];
    uint16_t d;  // f16 super-block scale
};
// Activation format paired with Q4_K and Q6_K in dot products (never stored in files).
struct BlockQ8_K {
    float d;
    int8_t qs[kQK_K];
    int16_t bsums[kQK_K / 16];  // sums of qs in groups of 16
};

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_K) == 292);

// Scale and min of sub-block j (0..7) of a Q4_K block, 6 bits each.
inline void q4k_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// 6-bit code (0..63) of element e (0..255) of a Q6_K block.
inline int q6k_code(const BlockQ6_K& b, int e) {
    const int h = e / 128, g = (e % 128) / 32, l = e % 32;
    const int lo = (b.ql[64 * h + 32 * (g % 2) + l] >> (4 * (g / 2))) & 0xF;
    const int hi = (b.qh[32 * h + l] >> (2 * g)) & 3;
    return lo | (hi << 4);
}

// 5-bit code (0..31) of element e (0..31) of a Q5_0 / Q5_1 block (qs, qh of the block).
inline int q5_code(const uint8_t* qs, const uint8_t* qh, int e) {
    const int lo = (qs[e % 16] >> (4 * (e / 16))) & 0xF;
    return lo | (((qh[e / 8] >> (e % 8)) & 1) << 4);
}

// 5-bit code (0..31) of element e (0..255) of a Q5_K block.
inline int q5k_code(const BlockQ5_K& b, int e) {
    const int s = e / 32, l = e % 32;
    const int lo = (b.qs[32 * (s / 2) + l] >> (4 * (s % 2))) & 0xF;
    return lo | (((b.qh[l] >> s) & 1) << 4);
}

// Row (de)quantization for kQ8_0, kQ4_0, kQ4_K (kQ5_K, kQ6_K, kQ5_0, kQ5_1: dequantization only); n is a multiple
// of the block size.
void quantize_row(DType t, const float* x, void* y, int64_t n);
void dequantize_row(DType t, const void* x, float* y, int64_t n);

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n);
void quantize_row_q4_k(const float* x, BlockQ4_K* y, int64_t n);
void quantize_row_q8_k(const float* x, BlockQ8_K* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);
void dequantize_row_q4_k(const BlockQ4_K* x, float* y, int64_t n);
void dequantize_row_q5_k(const BlockQ5_K* x, float* y, int64_t n);
void dequantize_row_q6_k(const BlockQ6_K* x, float* y, int64_t n);
void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n);
void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n);

}  // namespace ag::quant
