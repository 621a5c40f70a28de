#include "io/safetensors.h"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace ag::io {

namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeader = 100ull << 20;  // 100 MB: no real header comes close

// Element size of every dtype safetensors defines (0: unknown).
size_t st_dtype_size(const std::string& s) {
    if (s == "F64" || s == "I64" || s == "U64") return 8;
    if (s == "F32" || s == "I32" || s == "U32") return 4;
    if (s == "F16" || s == "BF16" || s == "I16" || s == "U16") return 2;
    if (s == "I8" || s == "U8" || s == "BOOL" || s.rfind("F8_", 0) == 0) return 1;
    return 0;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw Error(ErrorCode::kParseError, fmt::format("{}: invalid safetensors file: {}", path, what));
}

}  // namespace

Result<DType> parse_safetensors_dtype(const std::string& s) {
    if (s == "F32") return DType::kF32;
    if (s == "F16") return DType::kF16;
    if (s == "BF16") return DType::kBF16;
    if (s == "I32") return DType::kI32;
    if (s == "I64") return DType::kI64;
    if (s == "U8") return DType::kU8;
    return Status(ErrorCode::kUnsupported, "unsupported dtype " + s);
}

const std::string& SafetensorsFile::path() const { return file_->path(); }

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
    auto mapped = MappedFile::open(path);
    if (!mapped.ok()) return mapped.status();
    SafetensorsFile f;
    f.file_ = std::make_shared<MappedFile>(std::move(mapped).value());
    const uint8_t* base = f.file_->data();
    const size_t size = f.file_->size();
    try {
        if (size < 8) fail(path, fmt::format("file is {} bytes, shorter than the 8-byte header length", size));
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | base[i];
        if (n > kMaxHeader) fail(path, fmt::format("header length {} is implausibly large", n));
        if (n > size - 8) {
            fail(path, fmt::format("header length {} runs past the end of the file ({} bytes; truncated?)", n, size));
        }
        const size_t data_start = 8 + n;
        const size_t data_size = size - data_start;
        json h = json::parse(reinterpret_cast<const char*>(base + 8),
                             reinterpret_cast<const char*>(base + data_start), nullptr, false);
        if (h.is_discarded()) fail(path, "header is not valid JSON");
        if (!h.is_object()) fail(path, "header is not a JSON object");
        for (auto it = h.begin(); it != h.end(); ++it) {
            const std::string& name = it.key();
            const json& e = it.value();
            if (name == "__metadata__") {
                if (!e.is_object()) fail(path, "__metadata__ is not an object");
                for (auto m = e.begin(); m != e.end(); ++m) {
                    if (m.value().is_string()) f.metadata_[m.key()] = m.value().get<std::string>();
                }
                continue;
            }
            if (!e.is_object() || !e.contains("dtype") || !e["dtype"].is_string() ||
                !e.contains("shape") || !e["shape"].is_array() || !e.contains("data_offsets") ||
                !e["data_offsets"].is_array() || e["data_offsets"].size() != 2) {
                fail(path, fmt::format("tensor '{}': entry needs dtype, shape and data_offsets", name));
            }
            TensorInfo t;
            t.name = name;
            t.dtype_str = e["dtype"].get<std::string>();
            uint64_t numel = 1;
            for (const auto& d : e["shape"]) {
                if (!d.is_number_integer() || d.get<int64_t>() < 0) {
                    fail(path, fmt::format("tensor '{}': bad dimension {}", name, d.dump()));
                }
                const auto dim = d.get<uint64_t>();
                if (dim != 0 && numel > (uint64_t{1} << 62) / dim) {
                    fail(path, fmt::format("tensor '{}': shape too large", name));
                }
                numel *= dim;
                t.shape.push_back(d.get<int64_t>());
            }
            const auto& off = e["data_offsets"];
            if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) {
                fail(path, fmt::format("tensor '{}': data_offsets must be non-negative integers", name));
            }
            const auto begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
            if (end < begin || end > data_size) {
                fail(path, fmt::format("tensor '{}': data_offsets [{}, {}] outside the {}-byte data "
                                       "section (truncated?)", name, begin, end, data_size));
            }
            const size_t es = st_dtype_size(t.dtype_str);
            if (es != 0 && numel * es != end - begin) {
                fail(path, fmt::format("tensor '{}': {} bytes for shape × {} needs {}", name,
                                       end - begin, t.dtype_str, numel * es));
            }
            t.offset = data_start + begin;
            t.n_bytes = end - begin;
            f.index_[name] = f.tensors_.size();
            f.tensors_.push_back(std::move(t));
        }
    } catch (const Error& e) {
        return e.status();
    }
    return f;
}

Result<Tensor> SafetensorsFile::tensor(const std::string& name) const {
    const TensorInfo* t = find(name);
    if (t == nullptr) {
        return Status(ErrorCode::kNotFound, fmt::format("tensor '{}' not found in {}", name, path()));
    }
    auto dt = parse_safetensors_dtype(t->dtype_str);
    if (!dt.ok()) {
        return Status(ErrorCode::kUnsupported, fmt::format("tensor '{}' in {} has unsupported dtype {}",
                                                           name, path(), t->dtype_str));
    }
    const uint8_t* p = file_->data() + t->offset;
    const size_t align = dtype_size(*dt);
    if (reinterpret_cast<uintptr_t>(p) % align != 0) {
        // Unaligned data (legal in the format): an aligned owning copy instead of a view.
        Tensor copy = Tensor::empty(*dt, t->shape);
        std::memcpy(copy.mutable_data(), p, t->n_bytes);
        return copy;
    }
    return Tensor::view(*dt, t->shape, p, file_);
}

Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata) {
    json h = json::object();
    if (!metadata.empty()) h["__metadata__"] = metadata;
    uint64_t off = 0;
    for (const auto& t : tensors) {
        const char* ds = nullptr;
        switch (t.tensor.dtype()) {
            case DType::kF32: ds = "F32"; break;
            case DType::kF16: ds = "F16"; break;
            case DType::kBF16: ds = "BF16"; break;
            case DType::kI32: ds = "I32"; break;
            default:
                return Status(ErrorCode::kUnsupported,
                              fmt::format("write_safetensors: tensor '{}' has unsupported dtype {}",
                                          t.name, dtype_name(t.tensor.dtype())));
        }
        const uint64_t n = t.tensor.n_bytes();
        h[t.name] = {{"dtype", ds}, {"shape", t.tensor.shape()}, {"data_offsets", {off, off + n}}};
        off += n;
    }
    std::string header = h.dump();  // nlohmann orders object keys, like HF's sorted header
    while (header.size() % 8 != 0) header.push_back(' ');
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return Status(ErrorCode::kIoError, path + ": cannot open for writing");
    uint8_t len[8];
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto& t : tensors) {
        out.write(static_cast<const char*>(t.tensor.data()), static_cast<std::streamsize>(t.tensor.n_bytes()));
    }
    out.close();
    if (!out) return Status(ErrorCode::kIoError, path + ": write failed");
    return {};
}

}  // namespace ag::io
