#include "io/checkpoint.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "base/mapped_file.h"

namespace ag::io {

namespace {
namespace fs = std::filesystem;
using nlohmann::json;
}  // namespace

Result<json> read_json_file(const std::string& path) {
    auto text = read_text_file(path);
    if (!text.ok()) return text.status();
    try {
        return json::parse(*text);
    } catch (const json::parse_error& e) {
        return Status(ErrorCode::kParseError,
                      fmt::format("{}: malformed JSON at byte {}: {}", path, e.byte, e.what()));
    }
}

Result<Checkpoint> Checkpoint::open(const std::string& path) {
    std::error_code ec;
    Checkpoint ck;
    std::vector<std::string> weight_files;
    const fs::path p(path);
    if (fs::is_regular_file(p, ec) && p.extension() == ".safetensors") {
        ck.dir_ = p.parent_path().empty() ? "." : p.parent_path().string();
        weight_files.push_back(p.string());
    } else if (fs::is_directory(p, ec)) {
        ck.dir_ = path;
    } else {
        return Status(ErrorCode::kNotFound,
                      fmt::format("{}: no such checkpoint directory or .safetensors file", path));
    }
    const fs::path dir(ck.dir_);
    auto cfg = read_json_file((dir / "config.json").string());
    if (!cfg.ok()) return cfg.status();
    ck.config_ = std::move(cfg).value();
    if (fs::exists(dir / "generation_config.json", ec)) {
        auto gen = read_json_file((dir / "generation_config.json").string());
        if (!gen.ok()) return gen.status();
        ck.generation_config_ = std::move(gen).value();
    }

    // Which files hold the weights, and (for an index) which tensor each one must contain.
    std::map<std::string, std::string> expected;  // tensor -> shard file
    if (weight_files.empty()) {
        const fs::path index = dir / "model.safetensors.index.json";
        if (fs::exists(index, ec)) {
            auto idx = read_json_file(index.string());
            if (!idx.ok()) return idx.status();
            const json* wm = idx->contains("weight_map") ? &(*idx)["weight_map"] : nullptr;
            if (wm == nullptr || !wm->is_object() || wm->empty()) {
                return Status(ErrorCode::kParseError,
                              index.string() + ": missing or empty 'weight_map' object");
            }
            std::set<std::string> shards;
            for (auto it = wm->begin(); it != wm->end(); ++it) {
                if (!it.value().is_string()) {
                    return Status(ErrorCode::kParseError,
                                  fmt::format("{}: weight_map['{}'] is not a file name",
                                              index.string(), it.key()));
                }
                const std::string shard = it.value().get<std::string>();
                if (shard.find("..") != std::string::npos || shard.find('/') != std::string::npos) {
                    return Status(ErrorCode::kParseError,
                                  fmt::format("{}: shard name '{}' is not a plain file name",
                                              index.string(), shard));
                }
                expected[it.key()] = shard;
                shards.insert(shard);
            }
            for (const auto& s : shards) weight_files.push_back((dir / s).string());
        } else if (fs::exists(dir / "model.safetensors", ec)) {
            weight_files.push_back((dir / "model.safetensors").string());
        } else {
            std::vector<std::string> found;
            for (const auto& e : fs::directory_iterator(dir, ec)) {
                if (e.path().extension() == ".safetensors") found.push_back(e.path().string());
            }
            if (found.size() != 1) {
                return Status(ErrorCode::kNotFound,
                              fmt::format("{}: no weights (looked for model.safetensors.index.json, "
                                          "model.safetensors, or a single *.safetensors file; found {})",
                                          ck.dir_, found.size()));
            }
            weight_files = found;
        }
    }

    for (const auto& wf : weight_files) {
        auto f = SafetensorsFile::open(wf);
        if (!f.ok()) return f.status();
        const size_t idx = ck.files_.size();
        ck.files_.push_back(std::make_shared<SafetensorsFile>(std::move(f).value()));
        for (const auto& t : ck.files_.back()->tensors()) ck.tensor_file_.emplace(t.name, idx);
    }
    for (const auto& [name, shard] : expected) {
        auto it = ck.tensor_file_.find(name);
        if (it == ck.tensor_file_.end() ||
            fs::path(ck.files_[it->second]->path()).filename() != shard) {
            return Status(ErrorCode::kNotFound,
                          fmt::format("tensor '{}' is listed in {}/model.safetensors.index.json "
                                      "under {} but that shard does not contain it",
                                      name, ck.dir_, shard));
        }
    }
    return ck;
}

bool Checkpoint::has_tensor(const std::string& name) const { return tensor_file_.count(name) != 0; }

std::vector<std::string> Checkpoint::tensor_names() const {
    std::vector<std::string> names;
    names.reserve(tensor_file_.size());
    for (const auto& [n, i] : tensor_file_) names.push_back(n);
    return names;
}

std::string Checkpoint::file_of(const std::string& name) const {
    auto it = tensor_file_.find(name);
    return it == tensor_file_.end() ? dir_ : files_[it->second]->path();
}

Result<Tensor> Checkpoint::tensor(const std::string& name,
                                  const std::optional<std::vector<int64_t>>& expected_shape) const {
    auto it = tensor_file_.find(name);
    if (it == tensor_file_.end()) {
        return Status(ErrorCode::kNotFound,
                      fmt::format("tensor '{}' not found in checkpoint {}", name, dir_));
    }
    auto t = files_[it->second]->tensor(name);
    if (!t.ok()) return t.status();
    if (expected_shape && t->shape() != *expected_shape) {
        Tensor want = Tensor::view(t->dtype(), *expected_shape, nullptr);
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("tensor '{}' in {} has shape {}, expected {}", name,
                                  files_[it->second]->path(), t->shape_string(), want.shape_string()));
    }
    return t;
}

}  // namespace ag::io
