#include "tensor/kv_quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/dtype.h"

namespace ag {

std::optional<KvDType> parse_kv_dtype(std::string_view name) {
    if (name == "auto" || name == "bf16" || name == "bfloat16") return KvDType::kBF16;
    if (name == "f32" || name == "float32" || name == "float") return KvDType::kF32;
    if (name == "f16" || name == "float16" || name == "half") return KvDType::kF16;
    if (name == "int8" || name == "q8_0") return KvDType::kInt8;
    if (name == "int4" || name == "q4_1") return KvDType::kInt4;
    return std::nullopt;
}

std::string_view kv_dtype_name(KvDType t) {
    switch (t) {
        case KvDType::kF32: return "f32";
        case KvDType::kBF16: return "bf16";
        case KvDType::kF16: return "f16";
        case KvDType::kInt8: return "int8";
        case KvDType::kInt4: return "int4";
    }
    return "?";
}

bool kv_dtype_supports(KvDType t, int64_t d) {
    return d > 0 && (t != KvDType::kInt4 || d % 2 == 0);
}

size_t kv_head_bytes(KvDType t, int64_t d) {
    const auto n = static_cast<size_t>(d);
    switch (t) {
        case KvDType::kF32: return 4 * n;
        case KvDType::kBF16:
        case KvDType::kF16: return 2 * n;
        case KvDType::kInt8: return n + 4;
        case KvDType::kInt4: return n / 2 + 4 * static_cast<size_t>(d / kv_int4_group(d));
    }
    return 0;
}

void kv_quantize_head(KvDType t, const float* x, int64_t d, void* dst) {
    auto* out = static_cast<uint8_t*>(dst);
    switch (t) {
        case KvDType::kF32:
            std::memcpy(out, x, static_cast<size_t>(d) * 4);
            return;
        case KvDType::kBF16:
        case KvDType::kF16:
            for (int64_t i = 0; i < d; ++i) {
                const uint16_t h = t == KvDType::kBF16 ? f32_to_bf16(x[i]) : f32_to_f16(x[i]);
                std::memcpy(out + 2 * i, &h, 2);
            }
            return;
        case KvDType::kInt8: {
            float amax = 0.0f;
            for (int64_t i = 0; i < d; ++i) amax = std::max(amax, std::fabs(x[i]));
            const float scale = amax / 127.0f;
            const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
            for (int64_t i = 0; i < d; ++i) {
                out[i] = static_cast<uint8_t>(static_cast<int8_t>(std::nearbyint(x[i] * inv)));
            }
            std::memcpy(out + d, &scale, 4);
            return;
        }
        case KvDType::kInt4: {
            const int64_t g = kv_int4_group(d);
            uint8_t* meta = out + d / 2;
            std::memset(out, 0, static_cast<size_t>(d / 2));
            for (int64_t g0 = 0; g0 < d; g0 += g) {
                float lo = x[g0], hi = x[g0];
                for (int64_t i = g0; i < g0 + g; ++i) {
                    lo = std::min(lo, x[i]);
                    hi = std::max(hi, x[i]);
                }
                // The stored (f16) minimum and scale are what dequantization uses, so the codes
                // are chosen against them.
                const uint16_t lo16 = f32_to_f16(lo);
                const uint16_t sc16 = f32_to_f16((hi - lo) / 15.0f);
                const float mn = f16_to_f32(lo16), sc = f16_to_f32(sc16);
                const float inv = sc > 0.0f ? 1.0f / sc : 0.0f;
                for (int64_t i = g0; i < g0 + g; ++i) {
                    const float q = std::nearbyint((x[i] - mn) * inv);
                    const auto c = static_cast<uint8_t>(std::clamp(q, 0.0f, 15.0f));
                    out[i / 2] |= static_cast<uint8_t>(i % 2 == 0 ? c : c << 4);
                }
                std::memcpy(meta + 4 * (g0 / g), &sc16, 2);
                std::memcpy(meta + 4 * (g0 / g) + 2, &lo16, 2);
            }
            return;
        }
    }
}

void kv_dequantize_head(KvDType t, const void* src, int64_t d, float* x) {
    const auto* in = static_cast<const uint8_t*>(src);
    switch (t) {
        case KvDType::kF32:
            std::memcpy(x, in, static_cast<size_t>(d) * 4);
            return;
        case KvDType::kBF16:
        case KvDType::kF16:
            for (int64_t i = 0; i < d; ++i) {
                uint16_t h;
                std::memcpy(&h, in + 2 * i, 2);
                x[i] = t == KvDType::kBF16 ? bf16_to_f32(h) : f16_to_f32(h);
            }
            return;
        case KvDType::kInt8: {
            float scale;
            std::memcpy(&scale, in + d, 4);
            for (int64_t i = 0; i < d; ++i) x[i] = scale * static_cast<float>(static_cast<int8_t>(in[i]));
            return;
        }
        case KvDType::kInt4: {
            const int64_t g = kv_int4_group(d);
            const uint8_t* meta = in + d / 2;
            for (int64_t g0 = 0; g0 < d; g0 += g) {
                uint16_t sc16, lo16;
                std::memcpy(&sc16, meta + 4 * (g0 / g), 2);
                std::memcpy(&lo16, meta + 4 * (g0 / g) + 2, 2);
                const float sc = f16_to_f32(sc16), mn = f16_to_f32(lo16);
                for (int64_t i = g0; i < g0 + g; ++i) {
                    const int c = i % 2 == 0 ? (in[i / 2] & 0xf) : (in[i / 2] >> 4);
                    x[i] = mn + sc * static_cast<float>(c);
                }
            }
            return;
        }
    }
}

float kv_quantize_query_i16(const float* q, int64_t d, int16_t* codes) {
    float amax = 0.0f;
    for (int64_t i = 0; i < d; ++i) amax = std::max(amax, std::fabs(q[i]));
    const float inv = amax > 0.0f ? 32767.0f / amax : 0.0f;
    for (int64_t i = 0; i < d; ++i) {
        codes[i] = static_cast<int16_t>(std::clamp(std::nearbyint(q[i] * inv), -32767.0f, 32767.0f));
    }
    return amax / 32767.0f;
}

}  // namespace ag
