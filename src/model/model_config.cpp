#include "model/model_config.h"

#include <fmt/format.h>

#include <cmath>
#include <numeric>

namespace ag::model {

namespace {

using nlohmann::json;

// Looks a key up in the given objects, first match wins.
const json* find_key(std::initializer_list<const json*> scopes, const char* key) {
    for (const json* s : scopes) {
        if (s != nullptr && s->is_object()) {
            auto it = s->find(key);
            if (it != s->end() && !it->is_null()) return &*it;
        }
    }
    return nullptr;
}

class Reader {
public:
    Reader(std::string source) : source_(std::move(source)) {}

    int64_t get_int(std::initializer_list<const json*> scopes, const char* key,
                    std::optional<int64_t> def = {}) {
        const json* v = find_key(scopes, key);
        if (v == nullptr) {
            if (def) return *def;
            throw Error(ErrorCode::kInvalidArgument, fmt::format("{}: missing field '{}'", source_, key));
        }
        if (!v->is_number_integer() || v->get<int64_t>() < 0) {
            throw Error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: field '{}' must be a non-negative integer, got {}", source_,
                                    key, v->dump()));
        }
        return v->get<int64_t>();
    }

    double get_double(std::initializer_list<const json*> scopes, const char* key, double def) {
        const json* v = find_key(scopes, key);
        if (v == nullptr) return def;
        if (!v->is_number()) {
            throw Error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: field '{}' must be a number, got {}", source_, key, v->dump()));
        }
        return v->get<double>();
    }

    bool get_bool(std::initializer_list<const json*> scopes, const char* key, bool def) {
        const json* v = find_key(scopes, key);
        if (v == nullptr) return def;
        if (!v->is_boolean()) {
            throw Error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: field '{}' must be true or false", source_, key));
        }
        return v->get<bool>();
    }

    std::optional<int32_t> get_opt_id(std::initializer_list<const json*> scopes, const char* key) {
        const json* v = find_key(scopes, key);
        if (v == nullptr) return std::nullopt;
        if (!v->is_number_integer()) {
            throw Error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: field '{}' must be an integer token id", source_, key));
        }
        return v->get<int32_t>();
    }

    // An int or a list of ints (eos_token_id).
    std::vector<int32_t> get_id_list(const json& v, const char* key) {
        std::vector<int32_t> out;
        if (v.is_number_integer()) {
            out.push_back(v.get<int32_t>());
        } else if (v.is_array()) {
            for (const auto& e : v) {
                if (!e.is_number_integer()) {
                    throw Error(ErrorCode::kInvalidArgument,
                                fmt::format("{}: '{}' must hold integer ids", source_, key));
                }
                out.push_back(e.get<int32_t>());
            }
        } else if (!v.is_null()) {
            throw Error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: '{}' must be an id or a list of ids", source_, key));
        }
        return out;
    }

    const std::string& source() const { return source_; }

private:
    std::string source_;
};

void parse_text(Reader& rd, const json& top, const json* tc, ModelConfig& cfg) {
    TextConfig& t = cfg.text;
    const bool is_v = cfg.has_vision;
    t.vocab_size = rd.get_int({tc, &top}, "vocab_size");
    t.hidden_size = rd.get_int({tc, &top}, "hidden_size");
    t.intermediate_size = rd.get_int({tc, &top}, "intermediate_size");
    t.n_layer = rd.get_int({tc, &top}, "num_hidden_layers");
    t.n_head = rd.get_int({tc, &top}, "num_attention_heads");
    t.n_head_kv = rd.get_int({tc, &top}, "num_key_value_heads", t.n_head);
    if (t.n_head == 0 || t.hidden_size == 0 || t.n_layer == 0 || t.vocab_size == 0) {
        throw Error(ErrorCode::kInvalidArgument,
                    fmt::format("{}: vocab_size, hidden_size, num_hidden_layers and "
                                "num_attention_heads must be positive", rd.source()));
    }
    // transformers: Glm4 reads `head_dim` (class default 128); Glm4v's text attention always uses
    // hidden_size / num_attention_heads.
    const int64_t derived = t.hidden_size / t.n_head;
    t.head_dim = is_v ? derived : rd.get_int({tc, &top}, "head_dim", 128);
    if (is_v) {
        const int64_t declared = rd.get_int({tc, &top}, "head_dim", derived);
        if (declared != derived) {
            throw Error(ErrorCode::kUnsupported,
                        fmt::format("{}: head_dim {} differs from hidden_size / num_attention_heads "
                                    "= {}, which GLM-4.1V's attention uses", rd.source(), declared,
                                    derived));
        }
    }
    if (t.n_head_kv == 0 || t.n_head % t.n_head_kv != 0) {
        throw Error(ErrorCode::kInvalidArgument,
                    fmt::format("{}: num_attention_heads {} is not a multiple of "
                                "num_key_value_heads {}", rd.source(), t.n_head, t.n_head_kv));
    }
    t.rms_norm_eps = static_cast<float>(rd.get_double({tc, &top}, "rms_norm_eps", 1e-5));
    t.attention_bias = rd.get_bool({tc, &top}, "attention_bias", true);
    t.tie_word_embeddings = rd.get_bool({&top, tc}, "tie_word_embeddings", false);
    t.max_position_embeddings = rd.get_int({tc, &top}, "max_position_embeddings", 0);

    // Rope parameters live in three places depending on the transformers version that wrote the
    // file: v5 `rope_parameters`, 4.5x `rope_scaling` + top-level keys, or flat top-level keys.
    const json* rp = find_key({tc, &top}, "rope_parameters");
    const json* rs = find_key({tc, &top}, "rope_scaling");
    if (const json* type = find_key({rp, rs}, "rope_type"); type != nullptr) {
        const std::string ty = type->is_string() ? type->get<std::string>() : "";
        if (ty != "default" && ty != "mrope") {
            throw Error(ErrorCode::kUnsupported,
                        fmt::format("{}: rope_type '{}' is not supported (only default)", rd.source(),
                                    type->dump()));
        }
    }
    t.rope_theta = rd.get_double({rp, tc, &top}, "rope_theta", 10000.0);
    // GLM models rotate half of each head; 0.5 is transformers' backwards-compatible default.
    t.partial_rotary_factor = rd.get_double({rp, tc, rs, &top}, "partial_rotary_factor", 0.5);
    t.rotary_dim = static_cast<int64_t>(static_cast<double>(t.head_dim) * t.partial_rotary_factor);
    if (t.rotary_dim <= 0 || t.rotary_dim % 2 != 0 || t.rotary_dim > t.head_dim) {
        throw Error(ErrorCode::kInvalidArgument,
                    fmt::format("{}: partial_rotary_factor {} gives rotary dim {} for head_dim {}",
                                rd.source(), t.partial_rotary_factor, t.rotary_dim, t.head_dim));
    }
    const int64_t n_pairs = t.rotary_dim / 2;
    if (is_v) {
        t.mrope_section = {8, 12, 12};  // transformers' default for Glm4v
        if (const json* ms = find_key({rp, rs, tc, &top}, "mrope_section"); ms != nullptr) {
            if (!ms->is_array() || ms->size() != 3) {
                throw Error(ErrorCode::kInvalidArgument,
                            fmt::format("{}: mrope_section must be a list of 3 integers", rd.source()));
            }
            t.mrope_section.clear();
            for (const auto& e : *ms) {
                if (!e.is_number_integer() || e.get<int64_t>() < 0) {
                    throw Error(ErrorCode::kInvalidArgument,
                                fmt::format("{}: mrope_section must hold non-negative integers",
                                            rd.source()));
                }
                t.mrope_section.push_back(e.get<int64_t>());
            }
        }
    } else {
        t.mrope_section = {n_pairs};
    }
    const int64_t sum = std::accumulate(t.mrope_section.begin(), t.mrope_section.end(), int64_t{0});
    if (sum != n_pairs) {
        throw Error(ErrorCode::kInvalidArgument,
                    fmt::format("{}: mrope_section sums to {} but the rotary dim {} has {} pairs",
                                rd.source(), sum, t.rotary_dim, n_pairs));
    }
}

ModelConfig parse_or_throw(const json& top, const json& gen, const std::string& source) {
    Reader rd(source);
    if (!top.is_object()) throw Error(ErrorCode::kParseError, source + ": not a JSON object");
    ModelConfig cfg;
    const json* arch = find_key({&top}, "architectures");
    if (arch == nullptr || !arch->is_array() || arch->empty() || !(*arch)[0].is_string()) {
        throw Error(ErrorCode::kInvalidArgument,
                    source + ": missing field 'architectures' (a list with the model class name)");
    }
    cfg.architecture = (*arch)[0].get<std::string>();
    const json* tc = find_key({&top}, "text_config");
    cfg.has_vision = find_key({&top}, "vision_config") != nullptr ||
                     cfg.architecture == "Glm4vForConditionalGeneration";
    parse_text(rd, top, tc, cfg);

    cfg.mm.image_token_id = rd.get_opt_id({&top, tc}, "image_token_id");
    cfg.mm.video_token_id = rd.get_opt_id({&top, tc}, "video_token_id");
    cfg.mm.image_start_token_id = rd.get_opt_id({&top, tc}, "image_start_token_id");
    cfg.mm.image_end_token_id = rd.get_opt_id({&top, tc}, "image_end_token_id");
    cfg.mm.video_start_token_id = rd.get_opt_id({&top, tc}, "video_start_token_id");
    cfg.mm.video_end_token_id = rd.get_opt_id({&top, tc}, "video_end_token_id");
    cfg.pad_token_id = rd.get_opt_id({tc, &top}, "pad_token_id");

    if (const json* e = find_key({&gen}, "eos_token_id"); e != nullptr) {
        cfg.eos_token_ids = rd.get_id_list(*e, "eos_token_id");
    } else if (const json* e2 = find_key({tc, &top}, "eos_token_id"); e2 != nullptr) {
        cfg.eos_token_ids = rd.get_id_list(*e2, "eos_token_id");
    }
    cfg.generation_config = gen;
    return cfg;
}

}  // namespace

Result<ModelConfig> parse_model_config(const json& config, const json& generation_config,
                                       const std::string& source) {
    try {
        return parse_or_throw(config, generation_config, source);
    } catch (const Error& e) {
        return e.status();
    } catch (const std::exception& e) {
        return Status(ErrorCode::kParseError, source + ": " + e.what());
    }
}

}  // namespace ag::model
