#include "io/checkpoint.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>

#include "base/log.h"
#include "base/mapped_file.h"

namespace ag::io {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";

// Where the weights are: the files to open and, for a sharded checkpoint, the index's
// tensor -> shard file name map (authoritative for the tensors it lists).
struct WeightLayout {
    std::vector<std::string> files;
    std::map<std::string, std::string> weight_map;
    std::string index_path;
};

Result<json> read_json_object(const std::string& path) {
    auto j = read_json_file(path);
    if (!j.ok()) return j.status();
    if (!j->is_object()) {
        return Status(ErrorCode::kParseError,
                      fmt::format("{}: expected a JSON object at the top level, got {}", path,
                                  j->type_name()));
    }
    return j;
}

Result<WeightLayout> read_index(const fs::path& dir) {
    WeightLayout w;
    w.index_path = (dir / kIndexName).string();
    auto idx = read_json_object(w.index_path);
    if (!idx.ok()) return idx.status();
    const auto wm = idx->find("weight_map");
    if (wm == idx->end() || !wm->is_object() || wm->empty()) {
        return Status(ErrorCode::kParseError,
                      fmt::format("{}: missing or empty \"weight_map\" object", w.index_path));
    }
    for (auto it = wm->begin(); it != wm->end(); ++it) {
        if (!it.value().is_string()) {
            return Status(ErrorCode::kParseError,
                          fmt::format("{}: weight_map['{}'] is not a file name", w.index_path,
                                      it.key()));
        }
        const std::string shard = it.value().get<std::string>();
        // Shards live next to the index; refuse paths that would read outside the directory.
        if (shard.empty() || shard.find('/') != std::string::npos || shard == "." ||
            shard == "..") {
            return Status(ErrorCode::kParseError,
                          fmt::format("{}: shard name '{}' (for '{}') is not a plain file name",
                                      w.index_path, shard, it.key()));
        }
        w.weight_map[it.key()] = shard;
        const std::string file = (dir / shard).string();
        if (std::find(w.files.begin(), w.files.end(), file) == w.files.end()) {
            w.files.push_back(file);
        }
    }
    std::sort(w.files.begin(), w.files.end());
    return w;
}

Result<WeightLayout> find_weights(const fs::path& dir) {
    std::error_code ec;
    if (fs::exists(dir / kIndexName, ec)) return read_index(dir);
    WeightLayout w;
    if (fs::exists(dir / kSingleName, ec)) {
        w.files.push_back((dir / kSingleName).string());
        return w;
    }
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.path().extension() == ".safetensors") found.push_back(e.path().filename().string());
    }
    std::sort(found.begin(), found.end());
    if (found.size() == 1) {
        w.files.push_back((dir / found[0]).string());
        return w;
    }
    return Status(ErrorCode::kNotFound,
                  fmt::format("{}: no weights found: looked for {}, {}, or exactly one "
                              "*.safetensors file (found {}{}{})",
                              dir.string(), kIndexName, kSingleName, found.size(),
                              found.empty() ? "" : ": ", fmt::join(found, ", ")));
}

}  // namespace

Result<json> read_json_file(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("{}: is a directory, expected a JSON file", path));
    }
    auto text = read_text_file(path);
    if (!text.ok()) return text.status();
    try {
        return json::parse(*text);
    } catch (const json::parse_error& e) {
        // nlohmann counts the offending byte from 1; report the 0-based offset (== file size
        // for an unexpected end of input). e.what() adds line and column.
        const size_t offset = e.byte > 0 ? e.byte - 1 : 0;
        return Status(ErrorCode::kParseError,
                      fmt::format("{}: malformed JSON at byte offset {}: {}", path, offset,
                                  e.what()));
    } catch (const std::exception& e) {
        return Status(ErrorCode::kParseError, fmt::format("{}: {}", path, e.what()));
    }
}

Result<Checkpoint> Checkpoint::open(const std::string& path) {
    std::error_code ec;
    Checkpoint ck;
    const fs::path p(path);
    WeightLayout layout;
    if (fs::is_regular_file(p, ec) && p.extension() == ".gguf") {
        return open_gguf(path);
    }
    if (fs::is_directory(p, ec)) {
        ck.dir_ = path;
    } else if (fs::is_regular_file(p, ec) && p.extension() == ".safetensors") {
        ck.dir_ = p.parent_path().empty() ? "." : p.parent_path().string();
        layout.files.push_back(path);
    } else {
        return Status(ErrorCode::kNotFound,
                      fmt::format("{}: not a checkpoint directory, a .safetensors or a .gguf file",
                                  path));
    }
    const fs::path dir(ck.dir_);

    auto cfg = read_json_object((dir / "config.json").string());
    if (!cfg.ok()) return cfg.status();
    ck.config_ = std::move(cfg).value();
    const fs::path gen = dir / "generation_config.json";
    if (fs::exists(gen, ec)) {
        auto g = read_json_object(gen.string());
        if (!g.ok()) return g.status();
        ck.generation_config_ = std::move(g).value();
    }

    if (layout.files.empty()) {
        auto w = find_weights(dir);
        if (!w.ok()) return w.status();
        layout = std::move(w).value();
    }
    std::map<std::string, size_t> file_index;  // path -> index into files_
    for (const auto& wf : layout.files) {
        auto f = SafetensorsFile::open(wf);
        if (!f.ok()) {
            if (layout.index_path.empty()) return f.status();
            return Status(f.status().code(), fmt::format("{} (shard listed in {})",
                                                         f.status().message(), layout.index_path));
        }
        file_index[wf] = ck.files_.size();
        ck.files_.push_back(std::make_shared<SafetensorsFile>(std::move(f).value()));
    }
    // The index decides which shard a listed tensor comes from; tensors a shard holds beyond
    // the index are still loadable (transformers loads every tensor of every listed shard).
    for (const auto& [name, shard] : layout.weight_map) {
        const size_t i = file_index.at((dir / shard).string());
        if (ck.files_[i]->find(name) == nullptr) {
            return Status(ErrorCode::kNotFound,
                          fmt::format("tensor '{}' is listed in {} under {} but {} does not "
                                      "contain it", name, layout.index_path, shard,
                                      ck.files_[i]->path()));
        }
        ck.tensor_file_[name] = i;
    }
    for (size_t i = 0; i < ck.files_.size(); ++i) {
        for (const auto& t : ck.files_[i]->tensors()) ck.tensor_file_.emplace(t.name, i);
    }
    return ck;
}

Result<Checkpoint> Checkpoint::open_gguf(const std::string& path) {
    auto f = GgufFile::open(path);
    if (!f.ok()) return f.status();
    Checkpoint ck;
    ck.dir_ = path;
    ck.gguf_ = std::make_shared<GgufFile>(std::move(f).value());
    auto g = glm4_from_gguf(*ck.gguf_);
    if (!g.ok()) return g.status();
    ck.config_ = std::move(g->config);
    ck.gguf_head_dim_ = ck.config_.at("head_dim").get<int64_t>();
    ck.gguf_rotary_dim_ = static_cast<int64_t>(
        static_cast<double>(ck.gguf_head_dim_) *
        ck.config_.at("rope_parameters").at("partial_rotary_factor").get<double>());
    for (auto& [hf, src] : g->tensors) ck.gguf_map_.emplace(hf, std::move(src));
    if (const GgufValue* mv = ck.gguf_->find_value("autoglm.mmproj"); mv && mv->is_string()) {
        const fs::path mp = fs::path(path).parent_path() / mv->s;
        std::error_code ec;
        if (fs::exists(mp, ec)) {
            AG_RETURN_IF_ERROR(ck.attach_mmproj(mp.string()));
        } else {
            log::warn("{}: its vision tower file {} is missing; loading the language model only",
                      path, mp.string());
        }
    }
    return ck;
}

// The vision tower file: its config.json replaces the synthesized one, the language model's
// tensors move to that layout's names (glm4_from_gguf names them "model.*" / "lm_head.weight").
Status Checkpoint::attach_mmproj(const std::string& path) {
    auto f = GgufFile::open(path);
    if (!f.ok()) return f.status();
    const auto str = [&](const char* key) -> const std::string* {
        const GgufValue* v = f->find_value(key);
        return v && v->is_string() ? &v->s : nullptr;
    };
    const std::string* arch = str("general.architecture");
    if (!arch || *arch != kMmprojArch) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("{}: general.architecture is '{}', expected '{}' (a vision tower "
                                  "written by autoglm quantize)", path, arch ? *arch : "", kMmprojArch));
    }
    const std::string *cfg = str("autoglm.hf_config"), *prefix = str("autoglm.text_prefix"),
                      *lm_head = str("autoglm.lm_head"), *shapes = str("autoglm.shapes");
    if (!cfg || !prefix || !lm_head || !shapes) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("{}: autoglm.hf_config, autoglm.text_prefix, autoglm.lm_head and "
                                  "autoglm.shapes are required", path));
    }
    json config = json::parse(*cfg, nullptr, false), shape_map = json::parse(*shapes, nullptr, false);
    if (!config.is_object() || !shape_map.is_object()) {
        return Status(ErrorCode::kParseError,
                      fmt::format("{}: autoglm.hf_config / autoglm.shapes are not JSON objects", path));
    }
    for (auto it = shape_map.begin(); it != shape_map.end(); ++it) {
        const GgufTensorInfo* info = f->find(it.key());
        std::vector<int64_t> shape;
        if (it.value().is_array()) {
            for (const auto& d : it.value()) shape.push_back(d.is_number_integer() ? d.get<int64_t>() : -1);
        }
        int64_t numel = 1, stored = 1;
        for (int64_t d : shape) numel = d > 0 ? numel * d : -1;
        if (info) {
            for (int64_t d : info->shape) stored *= d;
        }
        if (!info || shape.empty() || numel != stored) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("{}: tensor '{}' is missing or does not have the {} elements "
                                      "autoglm.shapes gives it", path, it.key(), numel));
        }
        mmproj_shapes_[it.key()] = std::move(shape);
    }
    std::map<std::string, GgufSource> text;
    for (auto& [hf, src] : gguf_map_) {
        if (hf == "lm_head.weight") {
            text.emplace(*lm_head, std::move(src));
        } else if (hf.rfind("model.", 0) == 0) {
            text.emplace(*prefix + hf.substr(6), std::move(src));
        }
    }
    gguf_map_ = std::move(text);
    config_ = std::move(config);
    if (const std::string* g = str("autoglm.hf_generation_config")) {
        json gc = json::parse(*g, nullptr, false);
        if (gc.is_object()) generation_config_ = std::move(gc);
    }
    if (const std::string* pc = str("autoglm.hf_preprocessor_config")) mmproj_preprocessor_ = *pc;
    mmproj_ = std::make_shared<GgufFile>(std::move(f).value());
    return {};
}

bool Checkpoint::is_mmproj_tensor(const std::string& name) const {
    return mmproj_ && mmproj_shapes_.count(name) != 0;
}

bool Checkpoint::has_tensor(const std::string& name) const {
    if (is_mmproj_tensor(name)) return true;
    if (gguf_) {
        auto it = gguf_map_.find(name);
        return it != gguf_map_.end() && gguf_->find(it->second.gguf_name) != nullptr;
    }
    return tensor_file_.count(name) != 0;
}

std::vector<std::string> Checkpoint::tensor_names() const {
    std::vector<std::string> names;
    if (gguf_) {
        for (const auto& [n, src] : gguf_map_) {
            if (gguf_->find(src.gguf_name) != nullptr) names.push_back(n);
        }
        for (const auto& [n, shape] : mmproj_shapes_) names.push_back(n);
        return names;
    }
    names.reserve(tensor_file_.size());
    for (const auto& [n, i] : tensor_file_) names.push_back(n);
    return names;
}

std::string Checkpoint::file_of(const std::string& name) const {
    if (is_mmproj_tensor(name)) return mmproj_->path();
    if (gguf_) return gguf_->path();
    auto it = tensor_file_.find(name);
    return it == tensor_file_.end() ? dir_ : files_[it->second]->path();
}

Result<Tensor> Checkpoint::tensor(const std::string& name,
                                  const std::optional<std::vector<int64_t>>& expected_shape) const {
    if (is_mmproj_tensor(name)) {
        auto t = mmproj_->tensor(name);
        if (!t.ok()) return t.status();
        const std::vector<int64_t>& shape = mmproj_shapes_.at(name);
        if (expected_shape && shape != *expected_shape) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("tensor '{}' in {} has shape [{}], expected [{}]", name,
                                      mmproj_->path(), fmt::join(shape, ", "),
                                      fmt::join(*expected_shape, ", ")));
        }
        return Tensor::view(t->dtype(), shape, t->data(), mmproj_);
    }
    if (gguf_) {
        auto it = gguf_map_.find(name);
        if (it == gguf_map_.end() || gguf_->find(it->second.gguf_name) == nullptr) {
            return Status(ErrorCode::kNotFound,
                          it == gguf_map_.end()
                              ? fmt::format("tensor '{}' not found in {} (no glm4 GGUF name for it)",
                                            name, dir_)
                              : fmt::format("tensor '{}' (GGUF '{}') not found in {}", name,
                                            it->second.gguf_name, dir_));
        }
        auto t = glm4_gguf_tensor(*gguf_, it->second, gguf_head_dim_, gguf_rotary_dim_);
        if (!t.ok()) return t.status();
        if (expected_shape && t->shape() != *expected_shape) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("tensor '{}' (GGUF '{}') in {} has shape [{}], expected [{}]",
                                      name, it->second.gguf_name, dir_, fmt::join(t->shape(), ", "),
                                      fmt::join(*expected_shape, ", ")));
        }
        return t;
    }
    auto it = tensor_file_.find(name);
    if (it == tensor_file_.end()) {
        return Status(ErrorCode::kNotFound,
                      fmt::format("tensor '{}' not found in checkpoint {}", name, dir_));
    }
    const SafetensorsFile& file = *files_[it->second];
    if (expected_shape) {
        // Checked on the header, so a wrong shape is reported even for an unsupported dtype.
        const TensorInfo* info = file.find(name);
        if (info->shape != *expected_shape) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("tensor '{}' in {} has shape [{}], expected [{}]", name,
                                      file.path(), fmt::join(info->shape, ", "),
                                      fmt::join(*expected_shape, ", ")));
        }
    }
    return file.tensor(name);
}

}  // namespace ag::io
