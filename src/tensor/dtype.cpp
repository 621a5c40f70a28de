#include "tensor/dtype.h"

#include "base/check.h"
#include "tensor/quant.h"

namespace ag {

size_t dtype_size(DType t) {
    switch (t) {
        case DType::kF32: return 4;
        case DType::kF16: return 2;
        case DType::kBF16: return 2;
        case DType::kI32: return 4;
        case DType::kI64: return 8;
        case DType::kU8: return 1;
        case DType::kQ8_0:
        case DType::kQ4_0:
        case DType::kQ4_K:
        case DType::kQ5_K:
        case DType::kQ6_K:
        case DType::kQ5_0:
        case DType::kQ5_1: break;
    }
    AG_CHECK(false, "dtype_size: {} is a block format", dtype_name(t));
    return 0;
}

bool dtype_is_quantized(DType t) {
    return t == DType::kQ8_0 || t == DType::kQ4_0 || t == DType::kQ4_K || t == DType::kQ5_K ||
           t == DType::kQ6_K || t == DType::kQ5_0 || t == DType::kQ5_1;
}

int64_t dtype_block_elems(DType t) {
    switch (t) {
        case DType::kQ8_0: return quant::kQK8_0;
        case DType::kQ4_0: return quant::kQK4_0;
        case DType::kQ5_0:
        case DType::kQ5_1: return quant::kQK5_0;
        case DType::kQ4_K:
        case DType::kQ5_K:
        case DType::kQ6_K: return quant::kQK_K;
        default: return 1;
    }
}

size_t dtype_block_bytes(DType t) {
    switch (t) {
        case DType::kQ8_0: return sizeof(quant::BlockQ8_0);
        case DType::kQ4_0: return sizeof(quant::BlockQ4_0);
        case DType::kQ4_K: return sizeof(quant::BlockQ4_K);
        case DType::kQ5_K: return sizeof(quant::BlockQ5_K);
        case DType::kQ6_K: return sizeof(quant::BlockQ6_K);
        case DType::kQ5_0: return sizeof(quant::BlockQ5_0);
        case DType::kQ5_1: return sizeof(quant::BlockQ5_1);
        default: return dtype_size(t);
    }
}

size_t dtype_row_bytes(DType t, int64_t n) {
    const int64_t be = dtype_block_elems(t);
    AG_CHECK(n >= 0 && n % be == 0, "a {} row of {} elements is not a whole number of {}-blocks",
             dtype_name(t), n, be);
    return static_cast<size_t>(n / be) * dtype_block_bytes(t);
}

std::string_view dtype_name(DType t) {
    switch (t) {
        case DType::kF32: return "F32";
        case DType::kF16: return "F16";
        case DType::kBF16: return "BF16";
        case DType::kI32: return "I32";
        case DType::kI64: return "I64";
        case DType::kU8: return "U8";
        case DType::kQ8_0: return "Q8_0";
        case DType::kQ4_0: return "Q4_0";
        case DType::kQ4_K: return "Q4_K";
        case DType::kQ5_K: return "Q5_K";
        case DType::kQ6_K: return "Q6_K";
        case DType::kQ5_0: return "Q5_0";
        case DType::kQ5_1: return "Q5_1";
    }
    return "?";
}

float f16_to_f32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            exp = 127 - 15 + 1;
            while ((mant & 0x400u) == 0) {
                mant <<= 1;
                --exp;
            }
            mant &= 0x3ffu;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t f32_to_f16(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
    const uint32_t abs = bits & 0x7fffffffu;
    if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);
    if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
    if (abs < 0x38800000u) {  // subnormal or zero in f16
        if (abs < 0x33000000u) return sign;
        const uint32_t e = abs >> 23;
        const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
        const uint32_t total = 126 - e;  // bits dropped: f16 subnormal unit is 2^-24
        uint32_t r = m >> total;
        const uint32_t rem = m & ((1u << total) - 1u);
        const uint32_t half = 1u << (total - 1);
        if (rem > half || (rem == half && (r & 1u))) ++r;
        return static_cast<uint16_t>(sign | r);
    }
    uint32_t r = ((abs - 0x38000000u) >> 13);
    const uint32_t rem = abs & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;
    return static_cast<uint16_t>(sign | r);
}

}  // namespace ag
