#include "io/gguf.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "base/check.h"

namespace ag::io {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr size_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;            // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 8;           // nested arrays; real files use depth 1

struct TypeTraits {
    const char* name;
    int64_t block_elems;  // 0: not a ggml type
    size_t block_bytes;
};

TypeTraits ggml_traits(uint32_t t) {
    switch (static_cast<GgmlType>(t)) {
        case GgmlType::kF32: return {"F32", 1, 4};
        case GgmlType::kF16: return {"F16", 1, 2};
        case GgmlType::kQ4_0: return {"Q4_0", 32, 18};
        case GgmlType::kQ4_1: return {"Q4_1", 32, 20};
        case GgmlType::kQ5_0: return {"Q5_0", 32, 22};
        case GgmlType::kQ5_1: return {"Q5_1", 32, 24};
        case GgmlType::kQ8_0: return {"Q8_0", 32, 34};
        case GgmlType::kQ8_1: return {"Q8_1", 32, 40};
        case GgmlType::kQ2_K: return {"Q2_K", 256, 84};
        case GgmlType::kQ3_K: return {"Q3_K", 256, 110};
        case GgmlType::kQ4_K: return {"Q4_K", 256, 144};
        case GgmlType::kQ5_K: return {"Q5_K", 256, 176};
        case GgmlType::kQ6_K: return {"Q6_K", 256, 210};
        case GgmlType::kQ8_K: return {"Q8_K", 256, 292};
        case GgmlType::kIQ2_XXS: return {"IQ2_XXS", 256, 66};
        case GgmlType::kIQ2_XS: return {"IQ2_XS", 256, 74};
        case GgmlType::kIQ3_XXS: return {"IQ3_XXS", 256, 98};
        case GgmlType::kIQ1_S: return {"IQ1_S", 256, 50};
        case GgmlType::kIQ4_NL: return {"IQ4_NL", 32, 18};
        case GgmlType::kIQ3_S: return {"IQ3_S", 256, 110};
        case GgmlType::kIQ2_S: return {"IQ2_S", 256, 82};
        case GgmlType::kIQ4_XS: return {"IQ4_XS", 256, 136};
        case GgmlType::kI8: return {"I8", 1, 1};
        case GgmlType::kI16: return {"I16", 1, 2};
        case GgmlType::kI32: return {"I32", 1, 4};
        case GgmlType::kI64: return {"I64", 1, 8};
        case GgmlType::kF64: return {"F64", 1, 8};
        case GgmlType::kIQ1_M: return {"IQ1_M", 256, 56};
        case GgmlType::kBF16: return {"BF16", 1, 2};
        case GgmlType::kTQ1_0: return {"TQ1_0", 256, 54};
        case GgmlType::kTQ2_0: return {"TQ2_0", 256, 66};
    }
    return {nullptr, 0, 0};
}

// Encoded size of a scalar value type; 0 for string/array (variable) and unknown types.
size_t scalar_size(GgufValueType t) {
    switch (t) {
        case GgufValueType::kU8:
        case GgufValueType::kI8:
        case GgufValueType::kBool: return 1;
        case GgufValueType::kU16:
        case GgufValueType::kI16: return 2;
        case GgufValueType::kU32:
        case GgufValueType::kI32:
        case GgufValueType::kF32: return 4;
        case GgufValueType::kU64:
        case GgufValueType::kI64:
        case GgufValueType::kF64: return 8;
        case GgufValueType::kString:
        case GgufValueType::kArray: return 0;
    }
    return 0;
}

bool known_value_type(uint32_t t) { return t <= 12; }

// Bounds-checked little-endian reader over the mapped bytes. Every failure throws a parse error
// naming the file, what was being read and the byte offset.
class Cursor {
public:
    Cursor(const std::string& path, const uint8_t* data, size_t size)
        : path_(path), data_(data), size_(size) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw Error(ErrorCode::kParseError,
                    fmt::format("{}: invalid GGUF file: {}", path_, what));
    }
    size_t pos() const { return pos_; }
    size_t left() const { return size_ - pos_; }

    void need(size_t n, const char* what) const {
        if (n > left()) {
            fail(fmt::format("truncated file: {} needs {} bytes at offset {} but only {} remain",
                             what, n, pos_, left()));
        }
    }
    template <class T> T read(const char* what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, data_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    std::string read_string(const char* what) {
        const auto n = read<uint64_t>(what);
        if (n > left()) {
            fail(fmt::format("truncated file: {} of length {} at offset {} runs past the end "
                             "({} bytes remain)", what, n, pos_, left()));
        }
        std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(n));
        pos_ += static_cast<size_t>(n);
        return s;
    }

private:
    const std::string& path_;
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

GgufValue read_value(Cursor& c, GgufValueType type, const std::string& key, int depth) {
    GgufValue v;
    v.type = type;
    switch (type) {
        case GgufValueType::kU8: v.u = c.read<uint8_t>("u8 value"); break;
        case GgufValueType::kI8: v.i = c.read<int8_t>("i8 value"); break;
        case GgufValueType::kU16: v.u = c.read<uint16_t>("u16 value"); break;
        case GgufValueType::kI16: v.i = c.read<int16_t>("i16 value"); break;
        case GgufValueType::kU32: v.u = c.read<uint32_t>("u32 value"); break;
        case GgufValueType::kI32: v.i = c.read<int32_t>("i32 value"); break;
        case GgufValueType::kU64: v.u = c.read<uint64_t>("u64 value"); break;
        case GgufValueType::kI64: v.i = c.read<int64_t>("i64 value"); break;
        case GgufValueType::kF32: v.f = c.read<float>("f32 value"); break;
        case GgufValueType::kF64: v.f = c.read<double>("f64 value"); break;
        case GgufValueType::kBool: {
            const auto b = c.read<uint8_t>("bool value");
            if (b > 1) c.fail(fmt::format("metadata '{}': bool value {} is not 0 or 1", key, b));
            v.u = b;
            break;
        }
        case GgufValueType::kString: v.s = c.read_string("string value"); break;
        case GgufValueType::kArray: {
            if (depth >= kMaxArrayDepth) {
                c.fail(fmt::format("metadata '{}': arrays nested deeper than {}", key,
                                   kMaxArrayDepth));
            }
            const auto et = c.read<uint32_t>("array element type");
            if (!known_value_type(et)) {
                c.fail(fmt::format("metadata '{}': unknown array element type {}", key, et));
            }
            v.array_type = static_cast<GgufValueType>(et);
            const auto n = c.read<uint64_t>("array length");
            // Every element takes at least one byte (a string or array at least 8 or 12), so a
            // count beyond the bytes left is a corrupt length: refuse it before allocating.
            const size_t es = scalar_size(v.array_type);
            const size_t min_bytes = es != 0 ? es : (v.array_type == GgufValueType::kString ? 8 : 12);
            if (n > c.left() / min_bytes) {
                c.fail(fmt::format("metadata '{}': array of {} {} elements at offset {} does not "
                                   "fit in the {} bytes left", key, n,
                                   gguf_value_type_name(v.array_type), c.pos(), c.left()));
            }
            v.items.reserve(static_cast<size_t>(n));
            for (uint64_t j = 0; j < n; ++j) {
                v.items.push_back(read_value(c, v.array_type, key, depth + 1));
            }
            break;
        }
    }
    return v;
}

}  // namespace

// ---- values ----

std::string_view gguf_value_type_name(GgufValueType t) {
    switch (t) {
        case GgufValueType::kU8: return "u8";
        case GgufValueType::kI8: return "i8";
        case GgufValueType::kU16: return "u16";
        case GgufValueType::kI16: return "i16";
        case GgufValueType::kU32: return "u32";
        case GgufValueType::kI32: return "i32";
        case GgufValueType::kF32: return "f32";
        case GgufValueType::kBool: return "bool";
        case GgufValueType::kString: return "string";
        case GgufValueType::kArray: return "array";
        case GgufValueType::kU64: return "u64";
        case GgufValueType::kI64: return "i64";
        case GgufValueType::kF64: return "f64";
    }
    return "unknown";
}

bool GgufValue::is_integer() const {
    switch (type) {
        case GgufValueType::kU8:
        case GgufValueType::kI8:
        case GgufValueType::kU16:
        case GgufValueType::kI16:
        case GgufValueType::kU32:
        case GgufValueType::kI32:
        case GgufValueType::kU64:
        case GgufValueType::kI64:
        case GgufValueType::kBool: return true;
        default: return false;
    }
}

std::optional<int64_t> GgufValue::as_int() const {
    if (!is_integer()) return std::nullopt;
    switch (type) {
        case GgufValueType::kI8:
        case GgufValueType::kI16:
        case GgufValueType::kI32:
        case GgufValueType::kI64: return i;
        default:
            if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
            return static_cast<int64_t>(u);
    }
}

std::optional<double> GgufValue::as_double() const {
    if (is_float()) return f;
    if (!is_integer()) return std::nullopt;
    switch (type) {
        case GgufValueType::kI8:
        case GgufValueType::kI16:
        case GgufValueType::kI32:
        case GgufValueType::kI64: return static_cast<double>(i);
        default: return static_cast<double>(u);
    }
}

GgufValue GgufValue::u8(uint8_t v) { GgufValue r; r.type = GgufValueType::kU8; r.u = v; return r; }
GgufValue GgufValue::u32(uint32_t v) { GgufValue r; r.type = GgufValueType::kU32; r.u = v; return r; }
GgufValue GgufValue::i32(int32_t v) { GgufValue r; r.type = GgufValueType::kI32; r.i = v; return r; }
GgufValue GgufValue::u64(uint64_t v) { GgufValue r; r.type = GgufValueType::kU64; r.u = v; return r; }
GgufValue GgufValue::f32(float v) { GgufValue r; r.type = GgufValueType::kF32; r.f = v; return r; }
GgufValue GgufValue::boolean(bool v) { GgufValue r; r.type = GgufValueType::kBool; r.u = v ? 1 : 0; return r; }
GgufValue GgufValue::str(std::string v) { GgufValue r; r.type = GgufValueType::kString; r.s = std::move(v); return r; }
GgufValue GgufValue::array(GgufValueType elem, std::vector<GgufValue> items) {
    GgufValue r;
    r.type = GgufValueType::kArray;
    r.array_type = elem;
    for (const auto& it : items) AG_CHECK(it.type == elem, "GGUF array element of another type");
    r.items = std::move(items);
    return r;
}
GgufValue GgufValue::str_array(const std::vector<std::string>& v) {
    std::vector<GgufValue> items;
    items.reserve(v.size());
    for (const auto& s : v) items.push_back(str(s));
    return array(GgufValueType::kString, std::move(items));
}
GgufValue GgufValue::i32_array(const std::vector<int32_t>& v) {
    std::vector<GgufValue> items;
    items.reserve(v.size());
    for (int32_t x : v) items.push_back(i32(x));
    return array(GgufValueType::kI32, std::move(items));
}

// ---- types ----

std::string ggml_type_name(uint32_t t) {
    const TypeTraits tr = ggml_traits(t);
    return tr.name != nullptr ? std::string(tr.name) : fmt::format("type {}", t);
}

std::optional<DType> ggml_to_dtype(uint32_t t) {
    switch (static_cast<GgmlType>(t)) {
        case GgmlType::kF32: return DType::kF32;
        case GgmlType::kF16: return DType::kF16;
        case GgmlType::kBF16: return DType::kBF16;
        case GgmlType::kQ8_0: return DType::kQ8_0;
        case GgmlType::kQ4_0: return DType::kQ4_0;
        case GgmlType::kQ4_K: return DType::kQ4_K;
        case GgmlType::kQ5_K: return DType::kQ5_K;
        case GgmlType::kQ6_K: return DType::kQ6_K;
        case GgmlType::kQ5_0: return DType::kQ5_0;
        case GgmlType::kQ5_1: return DType::kQ5_1;
        default: return std::nullopt;
    }
}

GgmlType dtype_to_ggml(DType t) {
    switch (t) {
        case DType::kF32: return GgmlType::kF32;
        case DType::kF16: return GgmlType::kF16;
        case DType::kBF16: return GgmlType::kBF16;
        case DType::kQ8_0: return GgmlType::kQ8_0;
        case DType::kQ4_0: return GgmlType::kQ4_0;
        case DType::kQ4_K: return GgmlType::kQ4_K;
        case DType::kQ5_K: return GgmlType::kQ5_K;
        case DType::kQ6_K: return GgmlType::kQ6_K;
        case DType::kQ5_0: return GgmlType::kQ5_0;
        case DType::kQ5_1: return GgmlType::kQ5_1;
        case DType::kI32:
        case DType::kI64:
        case DType::kU8: break;
    }
    AG_CHECK(false, "dtype has no GGUF tensor type");
    return GgmlType::kF32;
}

// ---- reader ----

const std::string& GgufFile::path() const { return file_->path(); }

const GgufValue* GgufFile::find_value(const std::string& key) const {
    auto it = kv_index_.find(key);
    return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensorInfo* GgufFile::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

Result<GgufFile> GgufFile::open(const std::string& path) {
    auto mf = MappedFile::open(path);
    if (!mf.ok()) return mf.status();
    GgufFile g;
    g.file_ = std::make_shared<MappedFile>(std::move(mf).value());
    const uint8_t* base = g.file_->data();
    const size_t size = g.file_->size();
    try {
        Cursor c(path, base, size);
        if (size < 4) c.fail(fmt::format("file is {} bytes, too short for the GGUF magic", size));
        const auto magic = c.read<uint32_t>("magic");
        if (magic != kMagic) {
            c.fail(fmt::format("bad magic {:02x} {:02x} {:02x} {:02x} (expected \"GGUF\")",
                               base[0], base[1], base[2], base[3]));
        }
        g.version_ = c.read<uint32_t>("version");
        if (g.version_ != 2 && g.version_ != 3) {
            c.fail(fmt::format("unsupported GGUF version {} (2 and 3 are supported)", g.version_));
        }
        const auto n_tensors = c.read<uint64_t>("tensor count");
        const auto n_kv = c.read<uint64_t>("metadata count");
        // A metadata entry takes at least 8 + 1 + 4 + 1 bytes, a tensor info at least
        // 8 + 1 + 4 + 4 + 8: counts beyond what the file can hold are corrupt.
        if (n_kv > c.left() / 14) {
            c.fail(fmt::format("metadata count {} does not fit in the {}-byte file", n_kv, size));
        }
        if (n_tensors > c.left() / 25) {
            c.fail(fmt::format("tensor count {} does not fit in the {}-byte file", n_tensors, size));
        }
        for (uint64_t k = 0; k < n_kv; ++k) {
            std::string key = c.read_string("metadata key");
            const auto t = c.read<uint32_t>("metadata value type");
            if (!known_value_type(t)) {
                c.fail(fmt::format("metadata '{}': unknown value type {}", key, t));
            }
            GgufValue v = read_value(c, static_cast<GgufValueType>(t), key, 0);
            if (g.kv_index_.count(key) != 0) c.fail(fmt::format("duplicate metadata key '{}'", key));
            g.kv_index_[key] = g.kv_.size();
            g.kv_.emplace_back(std::move(key), std::move(v));
        }
        if (const GgufValue* a = g.find_value("general.alignment"); a != nullptr) {
            const auto av = a->as_int();
            if (a->type != GgufValueType::kU32 || !av || *av == 0 || (*av & (*av - 1)) != 0) {
                c.fail("general.alignment must be a u32 power of two");
            }
            g.alignment_ = static_cast<size_t>(*av);
        }
        g.tensors_.reserve(static_cast<size_t>(n_tensors));
        for (uint64_t ti = 0; ti < n_tensors; ++ti) {
            GgufTensorInfo info;
            info.name = c.read_string("tensor name");
            const auto n_dims = c.read<uint32_t>("tensor dimension count");
            if (n_dims > kMaxDims) {
                c.fail(fmt::format("tensor '{}': {} dimensions (at most {})", info.name, n_dims,
                                   kMaxDims));
            }
            uint64_t numel = 1;
            constexpr uint64_t kMaxElems = uint64_t{1} << 62;
            for (uint32_t d = 0; d < n_dims; ++d) {
                const auto ne = c.read<uint64_t>("tensor dimension");
                if (ne > kMaxElems || (ne != 0 && numel > kMaxElems / ne)) {
                    c.fail(fmt::format("tensor '{}': dimensions too large (dimension {} is {})",
                                       info.name, d, ne));
                }
                numel *= ne;
                info.ne.push_back(static_cast<int64_t>(ne));
            }
            info.ggml_type = c.read<uint32_t>("tensor type");
            const TypeTraits tr = ggml_traits(info.ggml_type);
            if (tr.name == nullptr) {
                c.fail(fmt::format("tensor '{}': unknown ggml type {}", info.name, info.ggml_type));
            }
            const int64_t ne0 = info.ne.empty() ? 1 : info.ne[0];
            if (ne0 % tr.block_elems != 0) {
                c.fail(fmt::format("tensor '{}': row length {} is not a multiple of the {} block "
                                   "size {}", info.name, ne0, tr.name, tr.block_elems));
            }
            const auto rel = c.read<uint64_t>("tensor data offset");
            if (rel % g.alignment_ != 0) {
                c.fail(fmt::format("tensor '{}': data offset {} is not a multiple of the "
                                   "alignment {}", info.name, rel, g.alignment_));
            }
            // numel < 2^62 and block bytes <= 292 with >= 1 element per block: no overflow in
            // (numel / block_elems) * block_bytes.
            info.n_bytes = static_cast<size_t>((numel / static_cast<uint64_t>(tr.block_elems)) *
                                               tr.block_bytes);
            info.offset = static_cast<size_t>(rel);  // made absolute below
            info.shape.assign(info.ne.rbegin(), info.ne.rend());
            if (g.index_.count(info.name) != 0) {
                c.fail(fmt::format("duplicate tensor name '{}'", info.name));
            }
            g.index_[info.name] = g.tensors_.size();
            g.tensors_.push_back(std::move(info));
        }
        const size_t data_start = (c.pos() + g.alignment_ - 1) / g.alignment_ * g.alignment_;
        const size_t data_size = data_start <= size ? size - data_start : 0;
        for (auto& t : g.tensors_) {
            if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
                c.fail(fmt::format("tensor '{}': data [{}, +{}) runs past the end of the "
                                   "{}-byte data section (truncated file?)",
                                   t.name, t.offset, t.n_bytes, data_size));
            }
            t.offset += data_start;
        }
    } catch (const Error& e) {
        return e.status();
    }
    return g;
}

Result<Tensor> GgufFile::tensor(const std::string& name) const {
    const GgufTensorInfo* info = find(name);
    if (info == nullptr) {
        return Status(ErrorCode::kNotFound,
                      fmt::format("tensor '{}' not found in {}", name, path()));
    }
    const auto dt = ggml_to_dtype(info->ggml_type);
    if (!dt) {
        return Status(ErrorCode::kUnsupported,
                      fmt::format("tensor '{}' in {} has ggml type {}; supported: F32, F16, BF16, "
                                  "Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K", name, path(),
                                  ggml_type_name(info->ggml_type)));
    }
    std::vector<int64_t> shape = info->shape;
    if (shape.empty()) shape.push_back(1);  // a 0-d tensor holds one element
    return Tensor::view(*dt, std::move(shape), file_->data() + info->offset, file_);
}

// ---- writer ----

struct GgufWriter::Impl {
    struct Pending {
        std::string name;
        DType dtype;
        std::vector<int64_t> shape;
        size_t n_bytes;
        size_t rel_offset;
    };
    std::vector<std::pair<std::string, GgufValue>> kv;
    std::vector<Pending> tensors;
    size_t alignment = kDefaultAlignment;
    std::FILE* f = nullptr;
    std::string path, tmp_path;
    size_t next = 0;
    size_t data_pos = 0;  // bytes written into the data section
    Status error;

    ~Impl() {
        if (f != nullptr) {
            std::fclose(f);
            std::remove(tmp_path.c_str());
        }
    }

    void put(const void* p, size_t n) {
        if (!error.ok()) return;
        if (n != 0 && std::fwrite(p, 1, n, f) != n) {
            error = Status(ErrorCode::kIoError,
                           fmt::format("{}: write failed: {}", path, std::strerror(errno)));
        }
    }
    template <class T> void put_scalar(T v) { put(&v, sizeof v); }
    void put_string(const std::string& s) {
        put_scalar<uint64_t>(s.size());
        put(s.data(), s.size());
    }
    void put_value(const GgufValue& v) {
        switch (v.type) {
            case GgufValueType::kU8: put_scalar(static_cast<uint8_t>(v.u)); break;
            case GgufValueType::kI8: put_scalar(static_cast<int8_t>(v.i)); break;
            case GgufValueType::kU16: put_scalar(static_cast<uint16_t>(v.u)); break;
            case GgufValueType::kI16: put_scalar(static_cast<int16_t>(v.i)); break;
            case GgufValueType::kU32: put_scalar(static_cast<uint32_t>(v.u)); break;
            case GgufValueType::kI32: put_scalar(static_cast<int32_t>(v.i)); break;
            case GgufValueType::kU64: put_scalar(v.u); break;
            case GgufValueType::kI64: put_scalar(v.i); break;
            case GgufValueType::kF32: put_scalar(static_cast<float>(v.f)); break;
            case GgufValueType::kF64: put_scalar(v.f); break;
            case GgufValueType::kBool: put_scalar(static_cast<uint8_t>(v.u != 0)); break;
            case GgufValueType::kString: put_string(v.s); break;
            case GgufValueType::kArray:
                put_scalar(static_cast<uint32_t>(v.array_type));
                put_scalar<uint64_t>(v.items.size());
                for (const auto& it : v.items) put_value(it);
                break;
        }
    }
    void skip_empty() {
        while (next < tensors.size() && tensors[next].n_bytes == 0) ++next;
    }
    void pad_to(size_t pos) {
        static const uint8_t zeros[64] = {};
        size_t n = (alignment - pos % alignment) % alignment;
        while (n > 0) {
            const size_t k = std::min(n, sizeof zeros);
            put(zeros, k);
            n -= k;
        }
    }
};

GgufWriter::GgufWriter() : impl_(std::make_unique<Impl>()) {}
GgufWriter::~GgufWriter() = default;

void GgufWriter::add(const std::string& key, GgufValue value) {
    AG_CHECK(impl_->f == nullptr, "GgufWriter::add after open");
    if (key == "general.alignment") {
        AG_CHECK(value.type == GgufValueType::kU32 && value.u != 0 && (value.u & (value.u - 1)) == 0,
                 "general.alignment must be a u32 power of two");
        impl_->alignment = static_cast<size_t>(value.u);
    }
    for (auto& [k, v] : impl_->kv) {
        if (k == key) {
            v = std::move(value);
            return;
        }
    }
    impl_->kv.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape) {
    AG_CHECK(impl_->f == nullptr, "GgufWriter::add_tensor after open");
    AG_CHECK(!shape.empty() && shape.size() <= kMaxDims, "GGUF tensors have 1 to 4 dimensions");
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
    const size_t n_bytes = static_cast<size_t>(rows) * dtype_row_bytes(dtype, shape.back());
    size_t rel = 0;
    if (!impl_->tensors.empty()) {
        const auto& last = impl_->tensors.back();
        const size_t end = last.rel_offset + last.n_bytes;
        rel = (end + impl_->alignment - 1) / impl_->alignment * impl_->alignment;
    }
    impl_->tensors.push_back({name, dtype, std::move(shape), n_bytes, rel});
}

Status GgufWriter::open(const std::string& path) {
    Impl& m = *impl_;
    AG_CHECK(m.f == nullptr, "GgufWriter::open twice");
    m.path = path;
    m.tmp_path = path + ".tmp";
    m.f = std::fopen(m.tmp_path.c_str(), "wb");
    if (m.f == nullptr) {
        return Status(ErrorCode::kIoError,
                      fmt::format("{}: cannot create: {}", m.tmp_path, std::strerror(errno)));
    }
    m.put_scalar(kMagic);
    m.put_scalar<uint32_t>(3);
    m.put_scalar<uint64_t>(m.tensors.size());
    m.put_scalar<uint64_t>(m.kv.size());
    for (const auto& [k, v] : m.kv) {
        m.put_string(k);
        m.put_scalar(static_cast<uint32_t>(v.type));
        m.put_value(v);
    }
    for (const auto& t : m.tensors) {
        m.put_string(t.name);
        m.put_scalar<uint32_t>(static_cast<uint32_t>(t.shape.size()));
        for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) {
            m.put_scalar<uint64_t>(static_cast<uint64_t>(*it));
        }
        m.put_scalar(static_cast<uint32_t>(dtype_to_ggml(t.dtype)));
        m.put_scalar<uint64_t>(t.rel_offset);
    }
    const long here = std::ftell(m.f);
    if (here < 0) {
        return Status(ErrorCode::kIoError, fmt::format("{}: ftell failed", m.path));
    }
    m.pad_to(static_cast<size_t>(here));
    m.skip_empty();
    return m.error;
}

Status GgufWriter::write_tensor_data(const void* data, size_t n_bytes) {
    Impl& m = *impl_;
    AG_CHECK(m.f != nullptr, "GgufWriter::write_tensor_data before open");
    AG_CHECK(m.next < m.tensors.size(), "GgufWriter: more tensor data than tensors declared");
    const auto& t = m.tensors[m.next];
    // Padding before the first bytes of a tensor.
    if (m.data_pos < t.rel_offset) {
        static const uint8_t zeros[64] = {};
        size_t n = t.rel_offset - m.data_pos;
        while (n > 0) {
            const size_t k = std::min(n, sizeof zeros);
            m.put(zeros, k);
            n -= k;
        }
        m.data_pos = t.rel_offset;
    }
    AG_CHECK(m.data_pos + n_bytes <= t.rel_offset + t.n_bytes,
             "GgufWriter: more bytes than the tensor's declared size");
    m.put(data, n_bytes);
    m.data_pos += n_bytes;
    if (m.data_pos == t.rel_offset + t.n_bytes) {
        ++m.next;
        m.skip_empty();
    }
    return m.error;
}

Status GgufWriter::close() {
    Impl& m = *impl_;
    AG_CHECK(m.f != nullptr, "GgufWriter::close before open");
    if (m.error.ok() && m.next != m.tensors.size()) {
        m.error = Status(ErrorCode::kInternal,
                         fmt::format("{}: {} of {} tensors written", m.path, m.next,
                                     m.tensors.size()));
    }
    m.pad_to(m.data_pos);
    const bool closed = std::fclose(m.f) == 0;
    m.f = nullptr;
    if (m.error.ok() && !closed) {
        m.error = Status(ErrorCode::kIoError,
                         fmt::format("{}: close failed: {}", m.path, std::strerror(errno)));
    }
    if (!m.error.ok()) {
        std::remove(m.tmp_path.c_str());
        return m.error;
    }
    std::error_code ec;
    std::filesystem::rename(m.tmp_path, m.path, ec);
    if (ec) {
        std::remove(m.tmp_path.c_str());
        return Status(ErrorCode::kIoError,
                      fmt::format("{}: rename from {} failed: {}", m.path, m.tmp_path, ec.message()));
    }
    return {};
}

}  // namespace ag::io
