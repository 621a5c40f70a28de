#include "tensor/kv_quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/dtype.h"

namespace ag {

namespace {

// x ≈ mn + sc · code, code in 0..15, with f16 mn and sc: codes are chosen against the stored
// (rounded) pair.
struct Int4Fit {
    uint16_t mn16 = 0, sc16 = 0;
    float mn = 0.0f, sc = 0.0f;

    static Int4Fit of(float mn_, float sc_) {
        Int4Fit f;
        f.mn16 = f32_to_f16(mn_);
        f.sc16 = f32_to_f16(std::max(sc_, 0.0f));
        f.mn = f16_to_f32(f.mn16);
        f.sc = f16_to_f32(f.sc16);
        return f;
    }
    uint8_t code(float v) const {
        const float q = sc > 0.0f ? std::nearbyint((v - mn) / sc) : 0.0f;
        return static_cast<uint8_t>(std::clamp(q, 0.0f, 15.0f));
    }
    double sq_error(const float* x, int64_t n, int64_t stride) const {
        double e = 0.0;
        for (int64_t i = 0; i < n; ++i) {
            const double r = static_cast<double>(x[i * stride]) - (mn + sc * static_cast<float>(code(x[i * stride])));
            e += r * r;
        }
        return e;
    }
};

// The (mn, sc) of least squared error among the min/max fit and, for 16 grid widths around
// (max − min) / 15, the least-squares line through the codes that grid gives (the search of
// llama.cpp's k-quants, make_qkx). Deterministic: a function of the n values alone.
Int4Fit fit_int4(const float* x, int64_t n, int64_t stride) {
    float lo = x[0], hi = x[0];
    for (int64_t i = 1; i < n; ++i) {
        lo = std::min(lo, x[i * stride]);
        hi = std::max(hi, x[i * stride]);
    }
    Int4Fit best = Int4Fit::of(lo, (hi - lo) / 15.0f);
    if (!(hi > lo)) return best;
    double best_err = best.sq_error(x, n, stride);
    for (int step = -8; step <= 8; ++step) {
        if (step == 0) continue;
        const float inv = (15.0f + 0.125f * static_cast<float>(step)) / (hi - lo);
        double sq = 0, sx = 0, sqq = 0, sxq = 0;
        for (int64_t i = 0; i < n; ++i) {
            const float v = x[i * stride];
            const double q = std::clamp(std::nearbyint((v - lo) * inv), 0.0f, 15.0f);
            sq += q;
            sx += v;
            sqq += q * q;
            sxq += v * q;
        }
        const double nn = static_cast<double>(n), det = nn * sqq - sq * sq;
        if (det <= 0) continue;
        const double sc = (nn * sxq - sx * sq) / det, mn = (sx - sc * sq) / nn;
        if (sc <= 0) continue;
        const Int4Fit f = Int4Fit::of(static_cast<float>(mn), static_cast<float>(sc));
        const double err = f.sq_error(x, n, stride);
        if (err < best_err) {
            best_err = err;
            best = f;
        }
    }
    return best;
}

}  // namespace

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
                const Int4Fit f = fit_int4(x + g0, g, 1);
                for (int64_t i = g0; i < g0 + g; ++i) {
                    const uint8_t c = f.code(x[i]);
                    out[i / 2] |= static_cast<uint8_t>(i % 2 == 0 ? c : c << 4);
                }
                std::memcpy(meta + 4 * (g0 / g), &f.sc16, 2);
                std::memcpy(meta + 4 * (g0 / g) + 2, &f.mn16, 2);
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

size_t kv_key_head_bytes(KvDType t, int64_t d) {
    return t == KvDType::kInt4 ? static_cast<size_t>(d / 2) : kv_head_bytes(t, d);
}

size_t kv_key_block_meta_bytes(KvDType t, int64_t d) {
    return t == KvDType::kInt4 ? 4 * static_cast<size_t>(d) : 0;
}

void kv_quantize_key_block(const float* k, int64_t stride, int64_t n, int64_t d, uint8_t* codes,
                           int64_t code_stride, uint8_t* meta) {
    for (int64_t r = 0; r < n; ++r) std::memset(codes + r * code_stride, 0, static_cast<size_t>(d / 2));
    for (int64_t c = 0; c < d; ++c) {
        const Int4Fit f = fit_int4(k + c, n, stride);
        for (int64_t r = 0; r < n; ++r) {
            const uint8_t code = f.code(k[r * stride + c]);
            codes[r * code_stride + c / 2] |= static_cast<uint8_t>(c % 2 == 0 ? code : code << 4);
        }
        std::memcpy(meta + 4 * c, &f.sc16, 2);
        std::memcpy(meta + 4 * c + 2, &f.mn16, 2);
    }
}

void kv_dequantize_key(const uint8_t* codes, const uint8_t* meta, int64_t d, float* x) {
    for (int64_t c = 0; c < d; ++c) {
        uint16_t sc16, lo16;
        std::memcpy(&sc16, meta + 4 * c, 2);
        std::memcpy(&lo16, meta + 4 * c + 2, 2);
        const int code = c % 2 == 0 ? (codes[c / 2] & 0xf) : (codes[c / 2] >> 4);
        x[c] = f16_to_f32(lo16) + f16_to_f32(sc16) * static_cast<float>(code);
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
