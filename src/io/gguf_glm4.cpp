#include "io/gguf_glm4.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace ag::io {

namespace {

using nlohmann::json;

constexpr const char* kArch = "glm4";

// HF suffix (after the text prefix) <-> GGUF suffix (after "blk.N.") for per-layer tensors.
struct LayerName {
    const char* hf;
    const char* gguf;
};
constexpr LayerName kLayerNames[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"post_self_attn_layernorm.weight", "post_attention_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
    {"post_mlp_layernorm.weight", "post_ffw_norm.weight"},
};

class Meta {
public:
    explicit Meta(const GgufFile& f) : f_(f) {}

    [[noreturn]] void fail(ErrorCode code, const std::string& what) const {
        throw Error(code, fmt::format("{}: {}", f_.path(), what));
    }
    // An integer key; per-layer arrays (some converters write them) must hold one value.
    std::optional<int64_t> opt_int(const std::string& key) const {
        const GgufValue* v = f_.find_value(key);
        if (v == nullptr) return std::nullopt;
        const GgufValue* s = v;
        if (v->is_array()) {
            if (v->items.empty()) fail(ErrorCode::kParseError, fmt::format("'{}' is an empty array", key));
            for (const auto& it : v->items) {
                if (it.as_int() != v->items[0].as_int()) {
                    fail(ErrorCode::kUnsupported,
                         fmt::format("'{}' differs between layers (not supported)", key));
                }
            }
            s = &v->items[0];
        }
        const auto r = s->as_int();
        if (!r || *r < 0) {
            fail(ErrorCode::kParseError,
                 fmt::format("'{}' must be a non-negative integer (is {})", key,
                             gguf_value_type_name(s->type)));
        }
        return r;
    }
    int64_t req_int(const std::string& key) const {
        const auto r = opt_int(key);
        if (!r) fail(ErrorCode::kParseError, fmt::format("missing metadata key '{}'", key));
        return *r;
    }
    std::optional<double> opt_double(const std::string& key) const {
        const GgufValue* v = f_.find_value(key);
        if (v == nullptr) return std::nullopt;
        const auto r = v->as_double();
        if (!r) fail(ErrorCode::kParseError, fmt::format("'{}' must be a number", key));
        return r;
    }

private:
    const GgufFile& f_;
};

}  // namespace

const char* const kGlm4PreTokenizerRegex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

Result<Glm4Gguf> glm4_from_gguf(const GgufFile& file) {
    try {
        Meta m(file);
        const GgufValue* arch = file.find_value("general.architecture");
        if (arch == nullptr || !arch->is_string()) {
            m.fail(ErrorCode::kParseError, "missing metadata key 'general.architecture'");
        }
        if (arch->s != kArch) {
            m.fail(ErrorCode::kUnsupported,
                   fmt::format("GGUF architecture '{}' is not supported (supported: glm4)", arch->s));
        }
        const std::string a = std::string(kArch) + ".";
        const int64_t d = m.req_int(a + "embedding_length");
        const int64_t n_layer = m.req_int(a + "block_count");
        const int64_t ff = m.req_int(a + "feed_forward_length");
        const int64_t n_head = m.req_int(a + "attention.head_count");
        const int64_t n_head_kv = m.opt_int(a + "attention.head_count_kv").value_or(n_head);
        if (d <= 0 || n_layer <= 0 || ff <= 0 || n_head <= 0 || n_head_kv <= 0) {
            m.fail(ErrorCode::kParseError, "embedding_length, block_count, feed_forward_length and "
                                           "attention head counts must be positive");
        }
        const int64_t head_dim = m.opt_int(a + "attention.key_length").value_or(d / n_head);
        const int64_t v_dim = m.opt_int(a + "attention.value_length").value_or(head_dim);
        if (v_dim != head_dim || head_dim <= 0) {
            m.fail(ErrorCode::kUnsupported, fmt::format("key_length {} and value_length {} must be "
                                                        "equal and positive", head_dim, v_dim));
        }
        const int64_t rot = m.opt_int(a + "rope.dimension_count").value_or(head_dim);
        if (rot <= 0 || rot > head_dim || rot % 2 != 0) {
            m.fail(ErrorCode::kParseError,
                   fmt::format("rope.dimension_count {} for head dim {}", rot, head_dim));
        }
        const double eps = m.opt_double(a + "attention.layer_norm_rms_epsilon").value_or(1e-5);
        const double theta = m.opt_double(a + "rope.freq_base").value_or(10000.0);
        const int64_t ctx = m.opt_int(a + "context_length").value_or(0);
        const bool mrope = file.find_value(a + "rope.dimension_sections") != nullptr;

        const GgufTensorInfo* embd = file.find("token_embd.weight");
        if (embd == nullptr || embd->shape.size() != 2) {
            m.fail(ErrorCode::kNotFound, "tensor 'token_embd.weight' missing or not 2-D");
        }
        const int64_t vocab = embd->shape[0];
        const bool bias = file.find("blk.0.attn_q.bias") != nullptr ||
                          file.find("blk.0.attn_qkv.bias") != nullptr;

        Glm4Gguf out;
        json& c = out.config;
        c["architectures"] = json::array({"Glm4ForCausalLM"});
        c["model_type"] = "glm4";
        c["vocab_size"] = vocab;
        c["hidden_size"] = d;
        c["intermediate_size"] = ff;
        c["num_hidden_layers"] = n_layer;
        c["num_attention_heads"] = n_head;
        c["num_key_value_heads"] = n_head_kv;
        c["head_dim"] = head_dim;
        c["rms_norm_eps"] = eps;
        c["max_position_embeddings"] = ctx;
        c["attention_bias"] = bias;
        c["tie_word_embeddings"] = file.find("output.weight") == nullptr;
        c["rope_parameters"] = {{"rope_type", "default"},
                                {"rope_theta", theta},
                                {"partial_rotary_factor",
                                 static_cast<double>(rot) / static_cast<double>(head_dim)}};
        json eos = json::array();
        for (const char* k : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                              "tokenizer.ggml.eom_token_id"}) {
            if (auto id = m.opt_int(k); id && *id < vocab && std::find(eos.begin(), eos.end(), *id) == eos.end()) {
                eos.push_back(*id);
            }
        }
        if (!eos.empty()) c["eos_token_id"] = eos;
        if (auto pad = m.opt_int("tokenizer.ggml.padding_token_id"); pad && *pad < vocab) {
            c["pad_token_id"] = *pad;
        }

        auto& t = out.tensors;
        t.push_back({"model.embed_tokens.weight", {"token_embd.weight"}});
        t.push_back({"model.norm.weight", {"output_norm.weight"}});
        t.push_back({"lm_head.weight", {"output.weight"}});
        const int64_t q_out = n_head * head_dim, kv_out = n_head_kv * head_dim;
        for (int64_t l = 0; l < n_layer; ++l) {
            const std::string hp = fmt::format("model.layers.{}.", l);
            const std::string gp = fmt::format("blk.{}.", l);
            const bool fused = file.find(gp + "attn_q.weight") == nullptr &&
                               file.find(gp + "attn_qkv.weight") != nullptr;
            for (const auto& n : kLayerNames) {
                GgufSource src{gp + n.gguf};
                const std::string hf = n.hf;
                const bool is_q = hf.rfind("self_attn.q_proj", 0) == 0;
                const bool is_k = hf.rfind("self_attn.k_proj", 0) == 0;
                const bool is_v = hf.rfind("self_attn.v_proj", 0) == 0;
                if (fused && (is_q || is_k || is_v)) {
                    src.gguf_name = gp + (hf.ends_with(".bias") ? "attn_qkv.bias" : "attn_qkv.weight");
                    src.row_begin = is_q ? 0 : is_k ? q_out : q_out + kv_out;
                    src.n_rows = is_q ? q_out : kv_out;
                }
                if (mrope && (is_q || is_k)) src.unpermute_heads = is_q ? n_head : n_head_kv;
                t.push_back({hp + hf, std::move(src)});
            }
        }
        return out;
    } catch (const Error& e) {
        return e.status();
    }
}

Result<Tensor> glm4_gguf_tensor(const GgufFile& file, const GgufSource& src, int64_t head_dim,
                                int64_t rotary_dim) {
    auto r = file.tensor(src.gguf_name);
    if (!r.ok()) return r.status();
    Tensor t = std::move(r).value();
    if (src.n_rows < 0 && src.unpermute_heads == 0) return t;
    const DType dt = t.dtype();
    std::vector<int64_t> shape = t.shape();
    const int64_t rows = shape[0];
    const size_t row_bytes = shape.size() == 1 ? dtype_row_bytes(dt, 1)
                                               : static_cast<size_t>(t.n_bytes() / static_cast<size_t>(rows));
    if (shape.size() == 1 && dtype_is_quantized(dt)) {
        return Status(ErrorCode::kUnsupported,
                      fmt::format("tensor '{}' in {}: a quantized 1-D tensor", src.gguf_name, file.path()));
    }
    const auto* base = static_cast<const uint8_t*>(t.data());
    if (src.n_rows >= 0) {
        if (src.row_begin + src.n_rows > rows) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("tensor '{}' in {} has {} rows, expected at least {}",
                                      src.gguf_name, file.path(), rows, src.row_begin + src.n_rows));
        }
        base += static_cast<size_t>(src.row_begin) * row_bytes;
        shape[0] = src.n_rows;
    }
    if (src.unpermute_heads == 0) return Tensor::view(dt, shape, base, file.mapping());
    const int64_t heads = src.unpermute_heads;
    if (shape[0] != heads * head_dim || rotary_dim > head_dim || rotary_dim % 2 != 0) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("tensor '{}' in {} has {} rows, expected {} heads of {}",
                                  src.gguf_name, file.path(), shape[0], heads, head_dim));
    }
    Tensor out = Tensor::empty(dt, shape);
    auto* dst = static_cast<uint8_t*>(out.mutable_data());
    const int64_t half = rotary_dim / 2;
    for (int64_t h = 0; h < heads; ++h) {
        for (int64_t r2 = 0; r2 < head_dim; ++r2) {
            // Row r2 of the original order comes from row `from` of the NeoX order.
            int64_t from = r2;
            if (r2 < rotary_dim) from = (r2 % 2 == 0) ? r2 / 2 : half + r2 / 2;
            std::memcpy(dst + static_cast<size_t>(h * head_dim + r2) * row_bytes,
                        base + static_cast<size_t>(h * head_dim + from) * row_bytes, row_bytes);
        }
    }
    return out;
}

std::optional<std::string> glm4_gguf_name(const std::string& hf_name, const std::string& text_prefix,
                                          const std::string& lm_head) {
    if (hf_name == lm_head) return "output.weight";
    if (hf_name.rfind(text_prefix, 0) != 0) return std::nullopt;
    const std::string rest = hf_name.substr(text_prefix.size());
    if (rest == "embed_tokens.weight") return "token_embd.weight";
    if (rest == "norm.weight") return "output_norm.weight";
    if (rest.rfind("layers.", 0) != 0) return std::nullopt;
    const size_t dot = rest.find('.', 7);
    if (dot == std::string::npos) return std::nullopt;
    const std::string layer = rest.substr(7, dot - 7);
    if (layer.empty() || !std::all_of(layer.begin(), layer.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        return std::nullopt;
    }
    const std::string suffix = rest.substr(dot + 1);
    for (const auto& n : kLayerNames) {
        if (suffix == n.hf) return fmt::format("blk.{}.{}", layer, n.gguf);
    }
    return std::nullopt;
}

Result<std::optional<TokenizerTexts>> tokenizer_from_gguf(const GgufFile& file) {
    try {
        Meta m(file);
        const GgufValue* tokens = file.find_value("tokenizer.ggml.tokens");
        if (tokens == nullptr) return std::optional<TokenizerTexts>();
        if (!tokens->is_array() || tokens->array_type != GgufValueType::kString) {
            m.fail(ErrorCode::kParseError, "tokenizer.ggml.tokens must be an array of strings");
        }
        const GgufValue* model = file.find_value("tokenizer.ggml.model");
        if (model == nullptr || !model->is_string() || model->s != "gpt2") {
            m.fail(ErrorCode::kUnsupported,
                   fmt::format("tokenizer.ggml.model '{}' is not supported (only gpt2 byte-level BPE)",
                               model != nullptr && model->is_string() ? model->s : std::string("?")));
        }
        const GgufValue* pre = file.find_value("tokenizer.ggml.pre");
        const std::string pre_s = pre != nullptr && pre->is_string() ? pre->s : "";
        if (pre_s != "glm4" && pre_s != "chatglm-bpe") {
            m.fail(ErrorCode::kUnsupported,
                   fmt::format("tokenizer.ggml.pre '{}' is not supported (supported: glm4, "
                               "chatglm-bpe)", pre_s));
        }
        const GgufValue* types = file.find_value("tokenizer.ggml.token_type");
        if (types != nullptr && (!types->is_array() || types->items.size() != tokens->items.size())) {
            m.fail(ErrorCode::kParseError,
                   "tokenizer.ggml.token_type must be an array as long as tokenizer.ggml.tokens");
        }
        const GgufValue* merges = file.find_value("tokenizer.ggml.merges");
        if (merges == nullptr || !merges->is_array() || merges->array_type != GgufValueType::kString) {
            m.fail(ErrorCode::kParseError, "tokenizer.ggml.merges (array of strings) is missing");
        }

        json vocab = json::object();
        json added = json::array();
        const size_t n = tokens->items.size();
        for (size_t id = 0; id < n; ++id) {
            const std::string& s = tokens->items[id].s;
            int64_t type = kTokNormal;
            if (types != nullptr) {
                const auto tv = types->items[id].as_int();
                if (!tv) m.fail(ErrorCode::kParseError, "tokenizer.ggml.token_type holds a non-integer");
                type = *tv;
            }
            if (type == kTokControl || type == kTokUserDefined) {
                added.push_back({{"id", id},
                                 {"content", s},
                                 {"single_word", false},
                                 {"lstrip", false},
                                 {"rstrip", false},
                                 {"normalized", false},
                                 {"special", type == kTokControl}});
            } else if (type != kTokUnused) {
                vocab[s] = id;
            }
        }
        // A merge can only fire if both parts and the result are tokens; HF's parser rejects any
        // other, llama.cpp ignores them, and so does this (stand-in vocabularies have such).
        json merge_list = json::array();
        for (const auto& mv : merges->items) {
            const size_t sp = mv.s.find(' ');
            if (sp == std::string::npos || mv.s.find(' ', sp + 1) != std::string::npos) continue;
            const std::string l = mv.s.substr(0, sp), r = mv.s.substr(sp + 1);
            if (vocab.contains(l) && vocab.contains(r) && vocab.contains(l + r)) {
                merge_list.push_back(mv.s);
            }
        }
        json tj = {
            {"version", "1.0"},
            {"truncation", nullptr},
            {"padding", nullptr},
            {"added_tokens", added},
            {"normalizer", nullptr},
            {"pre_tokenizer",
             {{"type", "Sequence"},
              {"pretokenizers",
               json::array({{{"type", "Split"},
                             {"pattern", {{"Regex", kGlm4PreTokenizerRegex}}},
                             {"behavior", "Isolated"},
                             {"invert", false}},
                            {{"type", "ByteLevel"},
                             {"add_prefix_space", false},
                             {"trim_offsets", true},
                             {"use_regex", false}}})}}},
            {"post_processor", nullptr},
            {"decoder",
             {{"type", "ByteLevel"},
              {"add_prefix_space", true},
              {"trim_offsets", true},
              {"use_regex", true}}},
            {"model",
             {{"type", "BPE"},
              {"dropout", nullptr},
              {"unk_token", nullptr},
              {"continuing_subword_prefix", nullptr},
              {"end_of_word_suffix", nullptr},
              {"fuse_unk", false},
              {"byte_fallback", false},
              {"ignore_merges", false},
              {"vocab", vocab},
              {"merges", merge_list}}},
        };
        json cfg = json::object();
        auto token_of = [&](const char* key) -> std::optional<std::string> {
            const auto id = m.opt_int(key);
            if (!id || static_cast<size_t>(*id) >= n) return std::nullopt;
            return tokens->items[static_cast<size_t>(*id)].s;
        };
        if (auto e = token_of("tokenizer.ggml.eos_token_id")) cfg["eos_token"] = *e;
        if (auto p = token_of("tokenizer.ggml.padding_token_id")) cfg["pad_token"] = *p;
        if (const GgufValue* ct = file.find_value("tokenizer.chat_template"); ct != nullptr && ct->is_string()) {
            cfg["chat_template"] = ct->s;
        }
        const auto dump = [](const json& j) {
            return j.dump(-1, ' ', false, json::error_handler_t::replace);
        };
        return std::optional<TokenizerTexts>(TokenizerTexts{dump(tj), dump(cfg)});
    } catch (const Error& e) {
        return e.status();
    }
}

}  // namespace ag::io
