#include "io/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace ag::io {

namespace {

using nlohmann::json;

// No real header comes close (~100 bytes per tensor: a GLM-4.1V-9B shard's is tens of KB); more is
// a corrupt length field, and refusing it early avoids parsing gigabytes of tensor bytes as JSON.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

// Element size of every dtype the safetensors format defines; 0 for a string we do not know
// (its byte-size check is skipped, and tensor() refuses it anyway).
size_t st_dtype_size(const std::string& s) {
    if (s == "F64" || s == "I64" || s == "U64") return 8;
    if (s == "F32" || s == "I32" || s == "U32") return 4;
    if (s == "F16" || s == "BF16" || s == "I16" || s == "U16") return 2;
    if (s == "I8" || s == "U8" || s == "BOOL" || s.rfind("F8_", 0) == 0) return 1;
    return 0;
}

// Rank of the Rust `Dtype` enum (declaration order), for the writer's tensor order.
int st_write_rank(DType t) {
    switch (t) {
        case DType::kU8: return 1;
        case DType::kF16: return 7;
        case DType::kBF16: return 8;
        case DType::kI32: return 9;
        case DType::kF32: return 11;
        case DType::kI64: return 13;
        case DType::kQ8_0:
        case DType::kQ4_0:
        case DType::kQ4_K:
        case DType::kQ5_K:
        case DType::kQ6_K:
        case DType::kQ5_0:
        case DType::kQ5_1: break;  // not a safetensors dtype
    }
    return 0;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw Error(ErrorCode::kParseError,
                fmt::format("{}: invalid safetensors file: {}", path, what));
}

void parse_metadata(const std::string& path, const json& m,
                    std::map<std::string, std::string>& out) {
    if (m.is_null()) return;
    if (!m.is_object()) fail(path, "__metadata__ is not an object");
    for (auto it = m.begin(); it != m.end(); ++it) {
        // The format (and the Python reader) require a string -> string map.
        if (!it.value().is_string()) {
            fail(path, fmt::format("__metadata__['{}'] is not a string", it.key()));
        }
        out[it.key()] = it.value().get<std::string>();
    }
}

// One header entry -> TensorInfo; data_size is the length of the data section.
TensorInfo parse_entry(const std::string& path, const std::string& name, const json& e,
                       size_t data_start, size_t data_size) {
    if (!e.is_object()) fail(path, fmt::format("tensor '{}': entry is not an object", name));
    const auto dtype = e.find("dtype");
    const auto shape = e.find("shape");
    const auto offsets = e.find("data_offsets");
    if (dtype == e.end() || !dtype->is_string() || shape == e.end() || !shape->is_array() ||
        offsets == e.end() || !offsets->is_array() || offsets->size() != 2) {
        fail(path, fmt::format("tensor '{}': entry needs \"dtype\" (string), \"shape\" (array) "
                               "and \"data_offsets\" ([begin, end])", name));
    }
    TensorInfo t;
    t.name = name;
    t.dtype_str = dtype->get<std::string>();
    // numel stays below 2^62 so that numel * element size (<= 8) cannot overflow.
    uint64_t numel = 1;
    for (const auto& d : *shape) {
        if (!d.is_number_unsigned() || d.get<uint64_t>() > (uint64_t{1} << 62)) {
            fail(path, fmt::format("tensor '{}': bad dimension {} in shape {}", name, d.dump(),
                                   shape->dump()));
        }
        const auto dim = d.get<uint64_t>();
        if (dim != 0 && numel > (uint64_t{1} << 62) / dim) {
            fail(path, fmt::format("tensor '{}': shape {} is too large", name, shape->dump()));
        }
        numel *= dim;
        t.shape.push_back(static_cast<int64_t>(dim));
    }
    const json& b = (*offsets)[0];
    const json& en = (*offsets)[1];
    if (!b.is_number_unsigned() || !en.is_number_unsigned()) {
        fail(path, fmt::format("tensor '{}': data_offsets {} must be non-negative integers", name,
                               offsets->dump()));
    }
    const auto begin = b.get<uint64_t>();
    const auto end = en.get<uint64_t>();
    if (end < begin) {
        fail(path, fmt::format("tensor '{}': data_offsets [{}, {}] end before begin", name, begin,
                               end));
    }
    if (end > data_size) {
        fail(path, fmt::format("tensor '{}': data_offsets [{}, {}] run past the end of the "
                               "{}-byte data section (truncated file?)",
                               name, begin, end, data_size));
    }
    const size_t es = st_dtype_size(t.dtype_str);
    if (es != 0 && numel * es != end - begin) {
        fail(path, fmt::format("tensor '{}': data_offsets [{}, {}] hold {} bytes but shape {} "
                               "of {} needs {}", name, begin, end, end - begin, shape->dump(),
                               t.dtype_str, numel * es));
    }
    t.offset = data_start + begin;
    t.n_bytes = end - begin;
    return t;
}

}  // namespace

Result<DType> parse_safetensors_dtype(const std::string& s) {
    if (s == "F32") return DType::kF32;
    if (s == "F16") return DType::kF16;
    if (s == "BF16") return DType::kBF16;
    if (s == "I32") return DType::kI32;
    if (s == "I64") return DType::kI64;
    if (s == "U8") return DType::kU8;
    return Status(ErrorCode::kUnsupported,
                  fmt::format("unsupported safetensors dtype '{}' (supported: F32, F16, BF16, I32, "
                              "I64, U8)", s));
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
        if (size < 8) {
            fail(path, fmt::format("file is {} bytes, shorter than the 8-byte header length",
                                   size));
        }
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | base[i];
        if (n > kMaxHeaderBytes) {
            fail(path, fmt::format("header length {} is implausibly large (limit {})", n,
                                   kMaxHeaderBytes));
        }
        if (n > size - 8) {
            fail(path, fmt::format("header length {} runs past the end of the file ({} bytes; "
                                   "truncated?)", n, size));
        }
        const size_t data_start = 8 + n;
        const json h = json::parse(reinterpret_cast<const char*>(base + 8),
                                   reinterpret_cast<const char*>(base + data_start), nullptr,
                                   /*allow_exceptions=*/false);
        if (h.is_discarded()) fail(path, "header is not valid JSON");
        if (!h.is_object()) fail(path, "header is not a JSON object");
        for (auto it = h.begin(); it != h.end(); ++it) {
            if (it.key() == "__metadata__") {
                parse_metadata(path, it.value(), f.metadata_);
                continue;
            }
            TensorInfo t = parse_entry(path, it.key(), it.value(), data_start, size - data_start);
            f.index_[t.name] = f.tensors_.size();
            f.tensors_.push_back(std::move(t));
        }
    } catch (const Error& e) {
        return e.status();
    } catch (const std::exception& e) {  // bad_alloc, or a json accessor we did not guard
        return Status(ErrorCode::kParseError,
                      fmt::format("{}: invalid safetensors file: {}", path, e.what()));
    }
    return f;
}

Result<Tensor> SafetensorsFile::tensor(const std::string& name) const {
    const TensorInfo* t = find(name);
    if (t == nullptr) {
        return Status(ErrorCode::kNotFound,
                      fmt::format("tensor '{}' not found in {}", name, path()));
    }
    auto dt = parse_safetensors_dtype(t->dtype_str);
    if (!dt.ok()) {
        return Status(ErrorCode::kUnsupported,
                      fmt::format("tensor '{}' in {} has unsupported dtype {} (supported: F32, "
                                  "F16, BF16, I32, I64, U8)", name, path(), t->dtype_str));
    }
    const uint8_t* p = file_->data() + t->offset;
    if (reinterpret_cast<uintptr_t>(p) % dtype_size(*dt) != 0) {
        // NOTE: legal in the format (header length and offsets need not be multiples of the
        // element size), never produced by HF writers. Kernels may assume aligned elements, so
        // such a tensor becomes an owning 64-byte-aligned copy instead of a view.
        Tensor copy = Tensor::empty(*dt, t->shape);
        std::memcpy(copy.mutable_data(), p, t->n_bytes);
        return copy;
    }
    return Tensor::view(*dt, t->shape, p, file_);
}

Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata) {
    std::set<std::string> names;
    for (const auto& t : tensors) {
        const DType dt = t.tensor.dtype();
        if (dt != DType::kF32 && dt != DType::kF16 && dt != DType::kBF16 && dt != DType::kI32) {
            return Status(ErrorCode::kUnsupported,
                          fmt::format("{}: cannot write tensor '{}' of dtype {} (F32, F16, BF16 "
                                      "and I32 only)", path, t.name, dtype_name(dt)));
        }
        if (t.name == "__metadata__" || !names.insert(t.name).second) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("{}: duplicate or reserved tensor name '{}'", path, t.name));
        }
        if (!t.tensor.defined()) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("{}: tensor '{}' has no data", path, t.name));
        }
    }
    // The order the Python/Rust writer uses: dtype rank descending, then name (byte order).
    // With it our files are byte-identical to safetensors.torch.save_file's (metadata aside,
    // whose key order is a hash order there and sorted here).
    std::vector<const TensorToWrite*> order;
    for (const auto& t : tensors) order.push_back(&t);
    std::sort(order.begin(), order.end(), [](const TensorToWrite* a, const TensorToWrite* b) {
        const int ra = st_write_rank(a->tensor.dtype());
        const int rb = st_write_rank(b->tensor.dtype());
        return ra != rb ? ra > rb : a->name < b->name;
    });
    nlohmann::ordered_json h = nlohmann::ordered_json::object();
    if (!metadata.empty()) h["__metadata__"] = metadata;
    uint64_t off = 0;
    for (const auto* t : order) {
        const uint64_t n = t->tensor.n_bytes();
        auto& e = h[t->name];
        e["dtype"] = std::string(dtype_name(t->tensor.dtype()));
        e["shape"] = t->tensor.shape();
        e["data_offsets"] = {off, off + n};
        off += n;
    }
    std::string header;
    try {
        header = h.dump();  // compact, like the Rust serializer
    } catch (const nlohmann::ordered_json::exception& e) {  // a name or value not valid UTF-8
        return Status(ErrorCode::kInvalidArgument, fmt::format("{}: {}", path, e.what()));
    }
    // Pad with spaces so the data section starts 8-byte aligned (HF does the same).
    while (header.size() % 8 != 0) header.push_back(' ');
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
        return Status(ErrorCode::kIoError,
                      fmt::format("{}: cannot open for writing: {}", path, std::strerror(errno)));
    }
    char len[8];
    const uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    out.write(len, 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto* t : order) {
        out.write(static_cast<const char*>(t->tensor.data()),
                  static_cast<std::streamsize>(t->tensor.n_bytes()));
    }
    out.close();
    if (!out) return Status(ErrorCode::kIoError, fmt::format("{}: write failed", path));
    return {};
}

}  // namespace ag::io
