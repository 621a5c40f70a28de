// Tensor: a typed, contiguous, row-major (outermost dimension first) block of memory on the CPU.
// Either owning (allocated here) or a view into memory someone else keeps alive (an mmap'd
// checkpoint, a larger tensor). Copying a Tensor copies the handle, not the data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace ag {

class Tensor {
public:
    Tensor() = default;

    // Zero-initialised owning tensor (64-byte aligned).
    static Tensor empty(DType dtype, std::vector<int64_t> shape);
    // Non-owning view; `keep_alive` (may be null) holds whatever owns `data`.
    static Tensor view(DType dtype, std::vector<int64_t> shape, const void* data,
                       std::shared_ptr<const void> keep_alive = nullptr);

    DType dtype() const { return dtype_; }
    const std::vector<int64_t>& shape() const { return shape_; }
    int64_t dim(size_t i) const { return shape_.at(i); }
    size_t n_dims() const { return shape_.size(); }
    int64_t numel() const;
    // Quantized tensors: the last dimension is a whole number of blocks.
    size_t n_bytes() const;
    bool defined() const { return data_ != nullptr || numel() == 0; }

    const void* data() const { return data_; }
    // Mutable access: only for owning tensors (views of mmap'd files are read-only).
    void* mutable_data() const;
    template <class T> const T* as() const { return static_cast<const T*>(data_); }
    template <class T> T* mutable_as() const { return static_cast<T*>(mutable_data()); }

    // A new owning f32 tensor with the same shape (converted from bf16/f16/f32).
    Tensor to_f32() const;
    std::string shape_string() const;

private:
    DType dtype_ = DType::kF32;
    std::vector<int64_t> shape_;
    const void* data_ = nullptr;
    bool owning_ = false;
    std::shared_ptr<const void> storage_;
};

// Converts n elements of a float-like or block-quantized dtype to f32 (for block formats n is a
// multiple of the block size and src starts at a block).
void convert_to_f32(DType dtype, const void* src, float* dst, int64_t n);

}  // namespace ag
