// Reader for one .safetensors file: an 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}), then the
// tensor bytes. The file is mmap'd; tensors are zero-copy views that keep the mapping alive.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "tensor/tensor.h"

namespace ag::io {

struct TensorInfo {
    std::string name;
    std::string dtype_str;           // as written in the header ("BF16", "F32", "I8", ...)
    std::vector<int64_t> shape;
    size_t offset = 0;               // absolute byte offset in the file
    size_t n_bytes = 0;
};

class SafetensorsFile {
public:
    // Validates the whole header: length within the file, JSON well-formed, every entry has a
    // dtype/shape/data_offsets, offsets inside the data section and consistent with shape×dtype.
    // Errors name the file (and the tensor where there is one).
    static Result<SafetensorsFile> open(const std::string& path);

    const std::string& path() const;
    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const TensorInfo* find(const std::string& name) const;

    // Zero-copy view (F32/F16/BF16/I32/I64/U8); other dtypes give kUnsupported naming the tensor.
    Result<Tensor> tensor(const std::string& name) const;

private:
    std::shared_ptr<MappedFile> file_;
    std::vector<TensorInfo> tensors_;
    std::map<std::string, size_t> index_;
    std::map<std::string, std::string> metadata_;
};

// Maps a safetensors dtype string to DType; kUnsupported for anything else.
Result<DType> parse_safetensors_dtype(const std::string& s);

// Writes tensors (f32/f16/bf16/i32 data) to a .safetensors file; used by the built-in model and
// by tests that make broken files. Laid out exactly as the Python `safetensors` writer does:
// data contiguous, ordered by dtype (F32, I32, BF16, F16) then name; header keys in data order
// after "__metadata__"; header padded with spaces to a multiple of 8 bytes. Errors name `path`.
struct TensorToWrite {
    std::string name;
    Tensor tensor;
};
Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

}  // namespace ag::io
