// The portable path: plain C++ (vectorised by the compiler where it can), the same arithmetic as
// kernels/ref (bit-identical results for quantized weights), just threaded by the driver.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/dot.h"
#include "kernels/cpu/isa/isa.h"
#include "kernels/ref/ref.h"
#include "tensor/quant.h"
#include "tensor/tensor.h"

namespace ag::kernels::cpu::isa {

namespace {

using quant::BlockQ4_0;
using quant::BlockQ4_K;
using quant::BlockQ5_0;
using quant::BlockQ5_1;
using quant::BlockQ5_K;
using quant::BlockQ6_K;
using quant::BlockQ8_0;
using quant::BlockQ8_K;

size_t act_row_bytes(DType wt, int64_t k) {
    switch (wt) {
        case DType::kQ8_0:
        case DType::kQ4_0:
        case DType::kQ5_0:
        case DType::kQ5_1: return static_cast<size_t>(k / 32) * sizeof(ref::ActQ8_0);
        case DType::kQ4_K:
        case DType::kQ5_K:
        case DType::kQ6_K: return static_cast<size_t>(k / quant::kQK_K) * sizeof(BlockQ8_K);
        default: return 0;
    }
}

void prepare_act(DType wt, const float* x, int64_t k, void* out) {
    if (wt == DType::kQ4_K || wt == DType::kQ5_K || wt == DType::kQ6_K) {
        quant::quantize_row_q8_k(x, static_cast<BlockQ8_K*>(out), k);
    } else {
        ref::quantize_act_q8_0(x, static_cast<ref::ActQ8_0*>(out), k);
    }
}

using ref::dot_q4_0;
using ref::dot_q4_k;
using ref::dot_q5_0;
using ref::dot_q5_1;
using ref::dot_q5_k;
using ref::dot_q6_k;
using ref::dot_q8_0;

constexpr int64_t kRowBlock = 16;  // float weights: rows widened to f32 once, reused for all x

void matmul(DType wt, const float* x, const uint8_t* xa, int64_t m, int64_t k, const void* w,
            int64_t n, int64_t j0, int64_t j1, const float* bias, float* y) {
    const size_t row_bytes = dtype_row_bytes(wt, k);
    const auto* wb = static_cast<const uint8_t*>(w);
    if (dtype_is_quantized(wt)) {
        const size_t xrb = act_row_bytes(wt, k);
        const int64_t nb = k / dtype_block_elems(wt);
        for (int64_t j = j0; j < j1; ++j) {
            const void* wr = wb + static_cast<size_t>(j) * row_bytes;
            for (int64_t i = 0; i < m; ++i) {
                const void* xr = xa + static_cast<size_t>(i) * xrb;
                float acc;
                switch (wt) {
                    case DType::kQ8_0:
                        acc = dot_q8_0(static_cast<const ref::ActQ8_0*>(xr),
                                       static_cast<const BlockQ8_0*>(wr), nb);
                        break;
                    case DType::kQ4_0:
                        acc = dot_q4_0(static_cast<const ref::ActQ8_0*>(xr),
                                       static_cast<const BlockQ4_0*>(wr), nb);
                        break;
                    case DType::kQ5_0:
                        acc = dot_q5_0(static_cast<const ref::ActQ8_0*>(xr),
                                       static_cast<const BlockQ5_0*>(wr), nb);
                        break;
                    case DType::kQ5_1:
                        acc = dot_q5_1(static_cast<const ref::ActQ8_0*>(xr),
                                       static_cast<const BlockQ5_1*>(wr), nb);
                        break;
                    case DType::kQ5_K:
                        acc = dot_q5_k(static_cast<const BlockQ8_K*>(xr),
                                       static_cast<const BlockQ5_K*>(wr), nb);
                        break;
                    case DType::kQ6_K:
                        acc = dot_q6_k(static_cast<const BlockQ8_K*>(xr),
                                       static_cast<const BlockQ6_K*>(wr), nb);
                        break;
                    default:
                        acc = dot_q4_k(static_cast<const BlockQ8_K*>(xr),
                                       static_cast<const BlockQ4_K*>(wr), nb);
                        break;
                }
                y[i * n + j] = acc + (bias ? bias[j] : 0.0f);
            }
        }
        return;
    }
    std::vector<float> buf;
    if (wt != DType::kF32) buf.resize(static_cast<size_t>(kRowBlock * k));
    for (int64_t jb = j0; jb < j1; jb += kRowBlock) {
        const int64_t nj = std::min(kRowBlock, j1 - jb);
        const uint8_t* src = wb + static_cast<size_t>(jb) * row_bytes;
        const float* wf;
        if (wt == DType::kF32) {
            wf = reinterpret_cast<const float*>(src);
        } else {
            convert_to_f32(wt, src, buf.data(), nj * k);
            wf = buf.data();
        }
        for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < nj; ++j) {
                y[i * n + jb + j] = dot_f32(x + i * k, wf + j * k, k) + (bias ? bias[jb + j] : 0.0f);
            }
        }
    }
}

}  // namespace

const MatmulTable& scalar_table() {
    static const MatmulTable t{"scalar", act_row_bytes, prepare_act, matmul};
    return t;
}

}  // namespace ag::kernels::cpu::isa
