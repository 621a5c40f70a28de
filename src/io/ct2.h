// CTranslate2 model files (model.bin, as ctranslate2/specs/model_spec.py `_serialize` writes
// them: binary version, spec name and revision, then named variables with shape and dtype, then
// aliases). The faster-whisper layout is a directory with model.bin (or model.bin.part1,
// model.bin.part2, ... to be concatenated in order), config.json and a tokenizer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace ag::io {

// CTranslate2's DataType enum order.
enum class Ct2DType : uint8_t { kF32 = 0, kInt8 = 1, kInt16 = 2, kInt32 = 3, kF16 = 4, kBF16 = 5 };
const char* ct2_dtype_name(Ct2DType t);

struct Ct2Variable {
    std::vector<int64_t> shape;  // empty for a scalar
    Ct2DType dtype = Ct2DType::kF32;
    const uint8_t* data = nullptr;
    size_t n_bytes = 0;
    int64_t numel() const;
};

class Ct2File {
public:
    // Opens DIR/model.bin, or DIR/model.bin.part1, .part2, ... concatenated. Every structural
    // problem (missing or truncated file or part, bad sizes, unknown dtype ids) is an error
    // naming the file.
    static Result<Ct2File> open_dir(const std::string& dir);
    // Parses an in-memory model.bin image (`name` for messages).
    static Result<Ct2File> parse(std::shared_ptr<const std::vector<uint8_t>> bytes,
                                 const std::string& name);

    const std::string& spec_name() const { return spec_; }
    uint32_t spec_revision() const { return revision_; }
    uint32_t binary_version() const { return version_; }
    const std::string& name() const { return name_; }

    bool has(const std::string& var) const;
    // The variable (aliases resolved); kNotFound naming it and the file.
    Result<Ct2Variable> get(const std::string& var) const;
    // An integer scalar variable (int8/int16/int32), or `def` when absent.
    int64_t scalar_int(const std::string& var, int64_t def) const;
    std::vector<std::string> names() const;

private:
    std::shared_ptr<const std::vector<uint8_t>> bytes_;
    std::string name_, spec_;
    uint32_t version_ = 0, revision_ = 0;
    std::map<std::string, Ct2Variable> vars_;
    std::map<std::string, std::string> aliases_;
};

}  // namespace ag::io
