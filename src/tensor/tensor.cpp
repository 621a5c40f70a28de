#include "tensor/tensor.h"

#include <cstdlib>
#include <cstring>

#include "base/check.h"
#include "tensor/quant.h"

namespace ag {

int64_t Tensor::numel() const {
    int64_t n = 1;
    for (int64_t d : shape_) n *= d;
    return n;
}

size_t Tensor::n_bytes() const {
    if (!dtype_is_quantized(dtype_)) return static_cast<size_t>(numel()) * dtype_size(dtype_);
    if (shape_.empty()) return 0;
    return static_cast<size_t>(numel() / shape_.back()) * dtype_row_bytes(dtype_, shape_.back());
}

Tensor Tensor::empty(DType dtype, std::vector<int64_t> shape) {
    Tensor t;
    t.dtype_ = dtype;
    t.shape_ = std::move(shape);
    for (int64_t d : t.shape_) AG_CHECK(d >= 0, "negative dimension in {}", t.shape_string());
    size_t bytes = t.n_bytes();
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded == 0) rounded = 64;
    void* p = std::aligned_alloc(64, rounded);
    AG_CHECK(p != nullptr, "out of memory allocating {} bytes", rounded);
    std::memset(p, 0, rounded);
    t.storage_ = std::shared_ptr<const void>(p, [](const void* q) { std::free(const_cast<void*>(q)); });
    t.data_ = p;
    t.owning_ = true;
    return t;
}

Tensor Tensor::view(DType dtype, std::vector<int64_t> shape, const void* data,
                    std::shared_ptr<const void> keep_alive) {
    Tensor t;
    t.dtype_ = dtype;
    t.shape_ = std::move(shape);
    t.data_ = data;
    t.storage_ = std::move(keep_alive);
    return t;
}

void* Tensor::mutable_data() const {
    AG_CHECK(owning_, "mutable access to a read-only view {}", shape_string());
    return const_cast<void*>(data_);
}

Tensor Tensor::to_f32() const {
    Tensor out = empty(DType::kF32, shape_);
    convert_to_f32(dtype_, data_, out.mutable_as<float>(), numel());
    return out;
}

std::string Tensor::shape_string() const {
    std::string s = "[";
    for (size_t i = 0; i < shape_.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape_[i]);
    }
    return s + "]";
}

void convert_to_f32(DType dtype, const void* src, float* dst, int64_t n) {
    switch (dtype) {
        case DType::kF32:
            std::memcpy(dst, src, static_cast<size_t>(n) * 4);
            return;
        case DType::kBF16: {
            const auto* s = static_cast<const uint16_t*>(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
            return;
        }
        case DType::kF16: {
            const auto* s = static_cast<const uint16_t*>(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
            return;
        }
        case DType::kQ8_0:
        case DType::kQ4_0:
        case DType::kQ4_K:
        case DType::kQ5_K:
        case DType::kQ6_K:
        case DType::kQ5_0:
        case DType::kQ5_1:
            quant::dequantize_row(dtype, src, dst, n);
            return;
        default:
            AG_CHECK(false, "convert_to_f32: unsupported dtype {}", dtype_name(dtype));
    }
}

}  // namespace ag
