// Reading KV head records (tensor/kv_quant.h) as f32 rows inside the attention kernel. Plain
// loops the compiler vectorises; each gives exactly kv_dequantize_head's values (the f16 path
// converts with exact bit arithmetic, so no rounding differs).
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__AVX2__) || defined(__F16C__)
#include <immintrin.h>
#endif

#include "kernels/cpu/vec16.h"
#include "tensor/kv_quant.h"

namespace ag::kernels::cpu {
namespace {  // internal linkage: built with the including file's flags

inline float kv_bits_to_f32(uint32_t b) {
    float f;
    std::memcpy(&f, &b, 4);
    return f;
}

inline uint32_t kv_f32_to_bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

// IEEE half -> float without tables or branches that block vectorisation: the exponent is
// rebiased by one multiply (normals, inf/nan) and subnormals come from a magic-number
// subtraction; both are exact.
inline float kv_f16_to_f32(uint16_t h) {
    const uint32_t w = static_cast<uint32_t>(h) << 16;
    const uint32_t sign = w & 0x80000000u;
    const uint32_t two_w = w + w;
    const float normal = kv_bits_to_f32((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
    const float sub = kv_bits_to_f32((two_w >> 17) | (126u << 23)) - 0.5f;
    return kv_bits_to_f32(sign | (two_w < (1u << 27) ? kv_f32_to_bits(sub) : kv_f32_to_bits(normal)));
}

// Two 8-lane (32-byte) halves as one 16-lane vector.
template <class Half>
inline vec::v16 kv_join_halves(const Half& lo, const Half& hi) {
    static_assert(sizeof(Half) == 32);
    vec::v16 v;
    std::memcpy(&v, &lo, 32);
    std::memcpy(reinterpret_cast<char*>(&v) + 32, &hi, 32);
    return v;
}

// The 16 bf16 / f16 values at p as f32 (exact conversions: vpmovzxwd + shift, vcvtph2ps).
inline vec::v16 kv_load16_bf16(const uint16_t* p) {
#if defined(__AVX512F__)
    const __m512i w = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16);
    vec::v16 v;
    std::memcpy(&v, &w, sizeof v);
    return v;
#elif defined(__AVX2__)
    const __m256i lo = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16);
    const __m256i hi = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8))), 16);
    return kv_join_halves(lo, hi);
#else
    uint32_t w[vec::kL];
    for (int l = 0; l < vec::kL; ++l) w[l] = static_cast<uint32_t>(p[l]) << 16;
    vec::v16 v;
    std::memcpy(&v, w, sizeof v);
    return v;
#endif
}

inline vec::v16 kv_load16_f16(const uint16_t* p) {
#if defined(__AVX512F__)
    const __m512 f = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    vec::v16 v;
    std::memcpy(&v, &f, sizeof v);
    return v;
#elif defined(__F16C__)
    const __m256 lo = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256 hi = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8)));
    return kv_join_halves(lo, hi);
#else
    vec::v16 v;
    for (int l = 0; l < vec::kL; ++l) v[l] = kv_f16_to_f32(p[l]);
    return v;
#endif
}

// Element 2i of 32 values is byte i's low nibble, 2i + 1 its high one: the 16 code bytes at src as
// two 16-lane vectors (values 0..31 in order).
inline void kv_unpack_nibbles32(const uint8_t* src, vec::v16& e0, vec::v16& e1) {
    using u8x16 = uint8_t __attribute__((vector_size(16)));
    u8x16 bytes;
    std::memcpy(&bytes, src, 16);
    const vec::vi16 w = __builtin_convertvector(bytes, vec::vi16);
    const vec::v16 lo = __builtin_convertvector(w & 0xf, vec::v16);
    const vec::v16 hi = __builtin_convertvector(w >> 4, vec::v16);
    e0 = __builtin_shufflevector(lo, hi, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    e1 = __builtin_shufflevector(lo, hi, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

// A sealed int4 key (tensor/kv_quant.h): x[c] = mn[c] + sc[c] · code[c], the block's channel
// scales and minimums given as f32.
inline void kv_read_key_i4(const uint8_t* codes, const float* sc, const float* mn, int64_t d, float* x) {
    int64_t c = 0;
    for (; c + 32 <= d; c += 32) {
        vec::v16 e0, e1;
        kv_unpack_nibbles32(codes + c / 2, e0, e1);
        vec::store(x + c, vec::load(mn + c) + vec::load(sc + c) * e0);
        vec::store(x + c + 16, vec::load(mn + c + 16) + vec::load(sc + c + 16) * e1);
    }
    for (; c < d; c += 2) {
        x[c] = mn[c] + sc[c] * static_cast<float>(codes[c / 2] & 0xf);
        x[c + 1] = mn[c + 1] + sc[c + 1] * static_cast<float>(codes[c / 2] >> 4);
    }
}

// x[0..d) = the head record at src.
inline void kv_read_row(KvDType t, const uint8_t* src, int64_t d, float* x) {
    switch (t) {
        case KvDType::kF32:
            std::memcpy(x, src, static_cast<size_t>(d) * 4);
            return;
        case KvDType::kBF16:
        case KvDType::kF16: {
            const auto* h = reinterpret_cast<const uint16_t*>(src);  // records are 2-byte aligned
            const bool bf = t == KvDType::kBF16;
            int64_t i = 0;
            for (; i + vec::kL <= d; i += vec::kL) vec::store(x + i, bf ? kv_load16_bf16(h + i) : kv_load16_f16(h + i));
            for (; i < d; ++i) x[i] = bf ? kv_bits_to_f32(static_cast<uint32_t>(h[i]) << 16) : kv_f16_to_f32(h[i]);
            return;
        }
        case KvDType::kInt8: {
            float scale;
            std::memcpy(&scale, src + d, 4);
            const auto* c = reinterpret_cast<const int8_t*>(src);
            for (int64_t i = 0; i < d; ++i) x[i] = scale * static_cast<float>(c[i]);
            return;
        }
        case KvDType::kInt4: {
            const int64_t g = kv_int4_group(d);
            const uint8_t* meta = src + d / 2;
            if (g % 32 == 0) {  // 16 code bytes -> 32 values as two 16-lane vectors
                for (int64_t b = 0; b < d; b += 32) {
                    uint16_t sc16, lo16;
                    std::memcpy(&sc16, meta + 4 * (b / g), 2);
                    std::memcpy(&lo16, meta + 4 * (b / g) + 2, 2);
                    const vec::v16 sc = vec::splat(kv_f16_to_f32(sc16));
                    const vec::v16 mn = vec::splat(kv_f16_to_f32(lo16));
                    vec::v16 e0, e1;
                    kv_unpack_nibbles32(src + b / 2, e0, e1);
                    vec::store(x + b, mn + sc * e0);
                    vec::store(x + b + 16, mn + sc * e1);
                }
                return;
            }
            for (int64_t g0 = 0; g0 < d; g0 += g) {
                uint16_t sc16, lo16;
                std::memcpy(&sc16, meta + 4 * (g0 / g), 2);
                std::memcpy(&lo16, meta + 4 * (g0 / g) + 2, 2);
                const float sc = kv_f16_to_f32(sc16), mn = kv_f16_to_f32(lo16);
                for (int64_t i = g0 / 2; i < (g0 + g) / 2; ++i) {
                    x[2 * i] = mn + sc * static_cast<float>(src[i] & 0xf);
                    x[2 * i + 1] = mn + sc * static_cast<float>(src[i] >> 4);
                }
            }
            return;
        }
    }
}

}  // namespace
}  // namespace ag::kernels::cpu
