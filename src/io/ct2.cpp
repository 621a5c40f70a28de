#include "io/ct2.h"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace ag::io {

namespace {

namespace fs = std::filesystem;

// The versions of model_spec.py's format this reader knows (6 is current; 5 lacks nothing read
// here).
constexpr uint32_t kMinVersion = 5, kMaxVersion = 6;

size_t dtype_size(Ct2DType t) {
    switch (t) {
        case Ct2DType::kF32:
        case Ct2DType::kInt32: return 4;
        case Ct2DType::kInt8: return 1;
        case Ct2DType::kInt16:
        case Ct2DType::kF16:
        case Ct2DType::kBF16: return 2;
    }
    return 0;
}

class Reader {
public:
    Reader(const std::vector<uint8_t>& b, const std::string& name) : b_(b), name_(name) {}

    template <class T>
    T pod(const char* what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, b_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    // uint16 length (including a trailing NUL), bytes.
    std::string str(const char* what) {
        const auto n = pod<uint16_t>(what);
        if (n == 0) throw Error(ErrorCode::kParseError, fmt::format("{}: empty {} string", name_, what));
        need(n, what);
        std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n - 1);
        pos_ += n;
        return s;
    }
    const uint8_t* bytes(size_t n, const char* what) {
        need(n, what);
        const uint8_t* p = b_.data() + pos_;
        pos_ += n;
        return p;
    }
    bool at_end() const { return pos_ == b_.size(); }

private:
    void need(size_t n, const char* what) const {
        if (b_.size() - pos_ < n) {
            throw Error(ErrorCode::kParseError,
                        fmt::format("{}: truncated while reading {} (offset {}, {} bytes left); "
                                    "is a part missing or cut short?",
                                    name_, what, pos_, b_.size() - pos_));
        }
    }
    const std::vector<uint8_t>& b_;
    const std::string& name_;
    size_t pos_ = 0;
};

Result<std::vector<uint8_t>> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return Status(ErrorCode::kNotFound, fmt::format("cannot open {}", p.string()));
    in.seekg(0, std::ios::end);
    const auto n = static_cast<size_t>(in.tellg());
    in.seekg(0);
    std::vector<uint8_t> v(n);
    if (n > 0 && !in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n))) {
        return Status(ErrorCode::kIoError, fmt::format("cannot read {}", p.string()));
    }
    return v;
}

}  // namespace

const char* ct2_dtype_name(Ct2DType t) {
    switch (t) {
        case Ct2DType::kF32: return "float32";
        case Ct2DType::kInt8: return "int8";
        case Ct2DType::kInt16: return "int16";
        case Ct2DType::kInt32: return "int32";
        case Ct2DType::kF16: return "float16";
        case Ct2DType::kBF16: return "bfloat16";
    }
    return "?";
}

int64_t Ct2Variable::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

Result<Ct2File> Ct2File::open_dir(const std::string& dir) {
    const fs::path d(dir);
    auto bytes = std::make_shared<std::vector<uint8_t>>();
    std::string name = (d / "model.bin").string();
    if (fs::exists(d / "model.bin")) {
        auto b = read_file(d / "model.bin");
        if (!b.ok()) return b.status();
        *bytes = std::move(b).value();
    } else if (fs::exists(d / "model.bin.part1")) {
        name = (d / "model.bin.part*").string();
        int k = 1;
        for (; fs::exists(d / fmt::format("model.bin.part{}", k)); ++k) {
            auto b = read_file(d / fmt::format("model.bin.part{}", k));
            if (!b.ok()) return b.status();
            bytes->insert(bytes->end(), b->begin(), b->end());
        }
        auto f = parse(bytes, fmt::format("{} (parts 1..{} concatenated)", name, k - 1));
        if (!f.ok()) return f.status();
        return f;
    } else {
        return Status(ErrorCode::kNotFound,
                      fmt::format("{}: no model.bin (nor model.bin.part1, model.bin.part2, ...)",
                                  dir));
    }
    return parse(bytes, name);
}

Result<Ct2File> Ct2File::parse(std::shared_ptr<const std::vector<uint8_t>> bytes,
                               const std::string& name) {
    Ct2File f;
    f.bytes_ = bytes;
    f.name_ = name;
    try {
        Reader r(*bytes, f.name_);
        f.version_ = r.pod<uint32_t>("the binary version");
        if (f.version_ < kMinVersion || f.version_ > kMaxVersion) {
            return Status(ErrorCode::kUnsupported,
                          fmt::format("{}: CTranslate2 binary version {} (this reader knows {}-{})",
                                      name, f.version_, kMinVersion, kMaxVersion));
        }
        f.spec_ = r.str("the spec name");
        f.revision_ = r.pod<uint32_t>("the spec revision");
        const auto n_vars = r.pod<uint32_t>("the variable count");
        for (uint32_t i = 0; i < n_vars; ++i) {
            std::string vname = r.str("a variable name");
            Ct2Variable v;
            const auto rank = r.pod<uint8_t>("a rank");
            if (rank > 8) {
                return Status(ErrorCode::kParseError,
                              fmt::format("{}: variable '{}' has rank {}", name, vname, rank));
            }
            for (uint8_t k = 0; k < rank; ++k) v.shape.push_back(r.pod<uint32_t>("a dimension"));
            const auto dt = r.pod<uint8_t>("a dtype");
            if (dt > static_cast<uint8_t>(Ct2DType::kBF16)) {
                return Status(ErrorCode::kUnsupported,
                              fmt::format("{}: variable '{}' has unknown dtype id {}", name, vname,
                                          dt));
            }
            v.dtype = static_cast<Ct2DType>(dt);
            v.n_bytes = r.pod<uint32_t>("a byte count");
            if (static_cast<uint64_t>(v.numel()) * dtype_size(v.dtype) != v.n_bytes) {
                return Status(ErrorCode::kParseError,
                              fmt::format("{}: variable '{}' has {} bytes for {} {} values", name,
                                          vname, v.n_bytes, v.numel(), ct2_dtype_name(v.dtype)));
            }
            v.data = r.bytes(v.n_bytes, "variable data");
            f.vars_[vname] = v;
        }
        const auto n_alias = r.pod<uint32_t>("the alias count");
        for (uint32_t i = 0; i < n_alias; ++i) {
            std::string alias = r.str("an alias");
            std::string target = r.str("an alias target");
            f.aliases_[alias] = target;
        }
        if (!r.at_end()) {
            return Status(ErrorCode::kParseError,
                          fmt::format("{}: trailing bytes after the aliases (a part too many, or "
                                      "parts in the wrong order?)", name));
        }
    } catch (const Error& e) {
        return e.status();
    }
    return f;
}

bool Ct2File::has(const std::string& var) const {
    return vars_.count(var) != 0 || aliases_.count(var) != 0;
}

Result<Ct2Variable> Ct2File::get(const std::string& var) const {
    std::string n = var;
    for (int hops = 0; hops < 4; ++hops) {
        auto a = aliases_.find(n);
        if (a == aliases_.end()) break;
        n = a->second;
    }
    auto it = vars_.find(n);
    if (it == vars_.end()) {
        return Status(ErrorCode::kNotFound,
                      fmt::format("{}: variable '{}' not found (spec {})", name_, var, spec_));
    }
    return it->second;
}

int64_t Ct2File::scalar_int(const std::string& var, int64_t def) const {
    auto v = get(var);
    if (!v.ok() || !v->shape.empty()) return def;
    switch (v->dtype) {
        case Ct2DType::kInt8: return static_cast<int8_t>(v->data[0]);
        case Ct2DType::kInt16: {
            int16_t x;
            std::memcpy(&x, v->data, 2);
            return x;
        }
        case Ct2DType::kInt32: {
            int32_t x;
            std::memcpy(&x, v->data, 4);
            return x;
        }
        default: return def;
    }
}

std::vector<std::string> Ct2File::names() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : vars_) out.push_back(k);
    return out;
}

}  // namespace ag::io
