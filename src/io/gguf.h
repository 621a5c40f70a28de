// GGUF (llama.cpp/ggml model files), versions 2 and 3, little-endian.
//
// Layout: magic "GGUF", u32 version, u64 tensor count, u64 metadata count; metadata entries
// (string key, u32 value type, value); tensor infos (string name, u32 n_dims, u64 ne[n_dims]
// innermost first, u32 ggml type, u64 offset relative to the data section); padding to
// `general.alignment` (default 32); the data section. Strings are u64 length + bytes.
//
// The reader mmaps the file and validates everything before handing out anything: magic,
// version, counts and lengths against the bytes left, value types, dimensions (at most 4,
// products without overflow, ne[0] a whole number of blocks), tensor data inside the file and
// aligned. Malformed files give ErrorCode::kParseError naming the file and what is wrong; it
// never crashes. Tensors are zero-copy views with PyTorch-order shapes (ne reversed).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "tensor/tensor.h"

namespace ag::io {

enum class GgufValueType : uint32_t {
    kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
    kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};
std::string_view gguf_value_type_name(GgufValueType t);

// One metadata value. Scalars keep their declared type; integers are held in `u` (unsigned
// types, bool) or `i` (signed types), floats in `f`. Arrays hold their elements in `items`
// (all of `array_type`; nested arrays allowed).
struct GgufValue {
    GgufValueType type = GgufValueType::kU8;
    GgufValueType array_type = GgufValueType::kU8;
    uint64_t u = 0;
    int64_t i = 0;
    double f = 0;
    std::string s;
    std::vector<GgufValue> items;

    bool is_array() const { return type == GgufValueType::kArray; }
    bool is_string() const { return type == GgufValueType::kString; }
    bool is_integer() const;
    bool is_float() const { return type == GgufValueType::kF32 || type == GgufValueType::kF64; }
    // Integer value (any integer type or bool); nullopt for other types or out of range.
    std::optional<int64_t> as_int() const;
    // Number (integer or float types); nullopt otherwise.
    std::optional<double> as_double() const;

    static GgufValue u8(uint8_t v);
    static GgufValue u32(uint32_t v);
    static GgufValue i32(int32_t v);
    static GgufValue u64(uint64_t v);
    static GgufValue f32(float v);
    static GgufValue boolean(bool v);
    static GgufValue str(std::string v);
    static GgufValue array(GgufValueType elem, std::vector<GgufValue> items);
    static GgufValue str_array(const std::vector<std::string>& v);
    static GgufValue i32_array(const std::vector<int32_t>& v);
};

// ggml tensor types (enum ggml_type values).
enum class GgmlType : uint32_t {
    kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8, kQ8_1 = 9,
    kQ2_K = 10, kQ3_K = 11, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kQ8_K = 15, kIQ2_XXS = 16,
    kIQ2_XS = 17, kIQ3_XXS = 18, kIQ1_S = 19, kIQ4_NL = 20, kIQ3_S = 21, kIQ2_S = 22,
    kIQ4_XS = 23, kI8 = 24, kI16 = 25, kI32 = 26, kI64 = 27, kF64 = 28, kIQ1_M = 29,
    kBF16 = 30, kTQ1_0 = 34, kTQ2_0 = 35,
};
// "Q4_K" etc.; "type <n>" for a number ggml does not define.
std::string ggml_type_name(uint32_t t);
// Our DType for the ggml types we compute with (F32, F16, BF16, Q8_0, Q4_0, Q4_K); else nullopt.
std::optional<DType> ggml_to_dtype(uint32_t t);
GgmlType dtype_to_ggml(DType t);  // AG_CHECK fails for I32/I64/U8

struct GgufTensorInfo {
    std::string name;
    uint32_t ggml_type = 0;
    std::vector<int64_t> ne;     // ggml order: ne[0] innermost
    std::vector<int64_t> shape;  // PyTorch order: ne reversed
    size_t offset = 0;           // absolute byte offset in the file
    size_t n_bytes = 0;
};

class GgufFile {
public:
    static Result<GgufFile> open(const std::string& path);

    const std::string& path() const;
    uint32_t version() const { return version_; }
    size_t alignment() const { return alignment_; }
    // Metadata in file order, and lookup by key.
    const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
    const GgufValue* find_value(const std::string& key) const;
    const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
    const GgufTensorInfo* find(const std::string& name) const;

    // Zero-copy view; kNotFound for an unknown name, kUnsupported naming the ggml type for
    // types other than F32/F16/BF16/Q8_0/Q4_0/Q4_K.
    Result<Tensor> tensor(const std::string& name) const;
    // The mapping that views keep alive.
    std::shared_ptr<const MappedFile> mapping() const { return file_; }

private:
    std::shared_ptr<MappedFile> file_;
    uint32_t version_ = 0;
    size_t alignment_ = 32;
    std::vector<std::pair<std::string, GgufValue>> kv_;
    std::map<std::string, size_t> kv_index_;
    std::vector<GgufTensorInfo> tensors_;
    std::map<std::string, size_t> index_;
};

// Streaming writer (version 3, alignment 32 unless metadata sets general.alignment):
//   GgufWriter w;  w.add(key, value)...;  w.add_tensor(name, dtype, shape)...;
//   w.open(path);  w.write_tensor_data(bytes)... (tensors in declaration order);  w.close();
// Shapes are PyTorch order (written reversed). The file is written to `path` + ".tmp" and
// renamed on close(), so a failed run leaves no partial file under `path`.
class GgufWriter {
public:
    GgufWriter();
    ~GgufWriter();
    GgufWriter(const GgufWriter&) = delete;
    GgufWriter& operator=(const GgufWriter&) = delete;

    void add(const std::string& key, GgufValue value);
    void add_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape);
    Status open(const std::string& path);
    // Appends bytes of the current tensor (declaration order); a tensor may take several calls,
    // and the writer moves to the next one once the declared size is reached.
    Status write_tensor_data(const void* data, size_t n_bytes);
    Status close();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ag::io
