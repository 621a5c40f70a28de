// Float-weight (F32/F16/BF16) matmul on prefill-sized batches, on every ISA path this CPU has:
// shapes that cross the SIMD GEMM's blocks (several x-row blocks with a short last tile, several
// weight-row blocks with a short last tile, several k chunks with a tail that is not a multiple
// of 16), checked against kernels::ref, and every row's bits against the same row computed alone
// (m = 1, the decode path) and inside a batch of another size (batch invariance).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"
#include "tensor/dtype.h"
#include "tensor/tensor.h"

namespace ag::kernels {
namespace {

std::vector<float> randn(size_t n, std::mt19937& rng, float scale) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

class FloatGemmTest : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        saved_ = std::string(cpu::isa_name());
        if (!cpu::isa_available(GetParam())) GTEST_SKIP() << GetParam() << " not available on this CPU";
        ASSERT_TRUE(cpu::set_isa(GetParam()));
    }
    void TearDown() override { cpu::set_isa(saved_); }
    std::string saved_;
};

TEST_P(FloatGemmTest, BlocksTailsAndRowsAlone) {
    std::mt19937 rng(17);
    struct Shape {
        int64_t m, n, k;
    };
    for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
        for (const Shape s : {Shape{133, 53, 2061}, Shape{40, 7, 1024}, Shape{64, 50, 31}, Shape{33, 97, 160}}) {
            const size_t rb = dtype_row_bytes(dt, s.k);
            std::vector<uint8_t> w(rb * static_cast<size_t>(s.n));
            std::vector<float> wf(static_cast<size_t>(s.n * s.k));
            const auto f = randn(wf.size(), rng, 0.5f);
            for (size_t i = 0; i < f.size(); ++i) {
                if (dt == DType::kF32) {
                    std::memcpy(w.data() + 4 * i, &f[i], 4);
                } else {
                    const uint16_t h = dt == DType::kBF16 ? f32_to_bf16(f[i]) : f32_to_f16(f[i]);
                    std::memcpy(w.data() + 2 * i, &h, 2);
                }
            }
            convert_to_f32(dt, w.data(), wf.data(), s.n * s.k);
            auto x = randn(static_cast<size_t>(s.m * s.k), rng, 1.0f);
            std::fill_n(x.begin() + 2 * s.k, s.k, 0.0f);  // an all-zero row
            const auto bias = randn(static_cast<size_t>(s.n), rng, 1.0f);
            for (const float* b : {bias.data(), static_cast<const float*>(nullptr)}) {
                std::vector<float> y0(static_cast<size_t>(s.m * s.n)), y1(y0.size(), NAN);
                ref::matmul(x.data(), s.m, s.k, w.data(), dt, s.n, b, y0.data());
                cpu::matmul(x.data(), s.m, s.k, w.data(), dt, s.n, b, y1.data());
                const std::string what = std::string(GetParam()) + " " + std::string(dtype_name(dt)) +
                                         " m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) +
                                         " k=" + std::to_string(s.k) + (b ? " bias" : "");
                std::vector<float> one(static_cast<size_t>(s.n));
                for (int64_t i = 0; i < s.m; ++i) {
                    for (int64_t j = 0; j < s.n; ++j) {
                        double mag = 1.0;
                        for (int64_t t = 0; t < s.k; ++t) mag += std::fabs(x[i * s.k + t] * wf[j * s.k + t]);
                        ASSERT_NEAR(y0[i * s.n + j], y1[i * s.n + j], 2e-5 * mag) << what << " at " << i << "," << j;
                    }
                    cpu::matmul(x.data() + i * s.k, 1, s.k, w.data(), dt, s.n, b, one.data());
                    ASSERT_EQ(0, std::memcmp(one.data(), y1.data() + i * s.n, one.size() * 4))
                        << what << " row " << i << " alone";
                }
                // The rows from 3 on as a batch of another size (other block and tile boundaries).
                const int64_t mb = s.m - 3;
                std::vector<float> yb(static_cast<size_t>(mb * s.n));
                cpu::matmul(x.data() + 3 * s.k, mb, s.k, w.data(), dt, s.n, b, yb.data());
                ASSERT_EQ(0, std::memcmp(yb.data(), y1.data() + 3 * s.n, yb.size() * 4)) << what << " batch from row 3";
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Isa, FloatGemmTest, ::testing::Values("scalar", "avx2", "avx512", "amx"),
                         [](const auto& p) { return std::string(p.param); });

}  // namespace
}  // namespace ag::kernels
