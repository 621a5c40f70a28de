#include "tools/quantize.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

#include "base/mapped_file.h"
#include "base/thread_pool.h"
#include "io/checkpoint.h"
#include "io/gguf.h"
#include "io/gguf_glm4.h"
#include "model/model_config.h"
#include "tensor/quant.h"

namespace ag::tools {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using io::GgufValue;

// llama_ftype values for general.file_type.
uint32_t file_type_of(DType t) {
    switch (t) {
        case DType::kF32: return 0;    // ALL_F32
        case DType::kF16: return 1;    // MOSTLY_F16
        case DType::kQ4_0: return 2;   // MOSTLY_Q4_0
        case DType::kQ8_0: return 7;   // MOSTLY_Q8_0
        case DType::kQ4_K: return 14;  // MOSTLY_Q4_K_S (every matrix Q4_K)
        case DType::kBF16: return 32;  // MOSTLY_BF16
        default: return 0;
    }
}

struct Layout {
    std::string text_prefix, lm_head;
};

// Where the text model lives (GLM-4, and the three GLM-4.1V layouts the model loader accepts).
std::optional<Layout> find_layout(const io::Checkpoint& ck) {
    const Layout layouts[] = {{"model.language_model.", "lm_head.weight"},
                              {"language_model.model.", "language_model.lm_head.weight"},
                              {"model.", "lm_head.weight"}};
    for (const auto& l : layouts) {
        if (ck.has_tensor(l.text_prefix + "embed_tokens.weight")) return l;
    }
    return std::nullopt;
}

struct Planned {
    std::string hf, gguf;
    DType type;
    std::vector<int64_t> shape;
};

// Tokenizer metadata from <dir>/tokenizer.json (+ tokenizer_config.json, chat_template.jinja),
// laid out as llama.cpp's converter does for GLM-4 (gpt2 BPE, pre "glm4").
Status add_tokenizer(io::GgufWriter& w, const fs::path& dir, const model::ModelConfig& cfg,
                     std::vector<std::string>& notes) {
    const fs::path tj_path = dir / "tokenizer.json";
    std::error_code ec;
    if (!fs::exists(tj_path, ec)) {
        notes.push_back(fmt::format("{} not found: the GGUF has no tokenizer (logits/bench only)",
                                    tj_path.string()));
        return {};
    }
    auto tj = io::read_json_file(tj_path.string());
    if (!tj.ok()) return tj.status();
    const json& model = (*tj)["model"];
    if (!model.is_object() || model.value("type", "") != "BPE" || !model.contains("vocab") ||
        !model["vocab"].is_object() || !model.contains("merges") || !model["merges"].is_array()) {
        return Status(ErrorCode::kUnsupported,
                      fmt::format("{}: only a BPE tokenizer with vocab and merges can be written "
                                  "to GGUF", tj_path.string()));
    }
    const auto n_vocab = static_cast<size_t>(cfg.text.vocab_size);
    std::vector<std::string> tokens(n_vocab);
    std::vector<int32_t> types(n_vocab, io::kTokUnused);
    std::vector<bool> set(n_vocab, false);
    size_t dropped = 0;
    auto put = [&](int64_t id, const std::string& s, int32_t type) {
        if (id < 0 || static_cast<size_t>(id) >= n_vocab) {
            ++dropped;
            return;
        }
        tokens[static_cast<size_t>(id)] = s;
        types[static_cast<size_t>(id)] = type;
        set[static_cast<size_t>(id)] = true;
    };
    for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
        if (it.value().is_number_integer()) put(it.value().get<int64_t>(), it.key(), io::kTokNormal);
    }
    std::map<std::string, int64_t> added_ids;
    if (tj->contains("added_tokens") && (*tj)["added_tokens"].is_array()) {
        for (const auto& a : (*tj)["added_tokens"]) {
            if (!a.is_object() || !a.contains("id") || !a.contains("content")) continue;
            const auto id = a["id"].get<int64_t>();
            const auto content = a["content"].get<std::string>();
            put(id, content, a.value("special", false) ? io::kTokControl : io::kTokUserDefined);
            added_ids[content] = id;
        }
    }
    for (size_t i = 0; i < n_vocab; ++i) {
        if (!set[i]) tokens[i] = fmt::format("[PAD{}]", i);
    }
    if (dropped > 0) {
        notes.push_back(fmt::format("{} tokenizer tokens have ids beyond vocab_size {} and are "
                                    "left out", dropped, n_vocab));
    }
    std::vector<std::string> merges;
    merges.reserve(model["merges"].size());
    for (const auto& m : model["merges"]) {
        if (m.is_string()) {
            merges.push_back(m.get<std::string>());
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
        } else {
            return Status(ErrorCode::kParseError,
                          fmt::format("{}: a merge is neither \"a b\" nor [a, b]", tj_path.string()));
        }
    }
    w.add("tokenizer.ggml.model", GgufValue::str("gpt2"));
    w.add("tokenizer.ggml.pre", GgufValue::str("glm4"));
    w.add("tokenizer.ggml.tokens", GgufValue::str_array(tokens));
    w.add("tokenizer.ggml.token_type", GgufValue::i32_array(types));
    w.add("tokenizer.ggml.merges", GgufValue::str_array(merges));
    // As llama.cpp's Glm4Model.set_vocab: bos = eos = unk = <|endoftext|>, eot = <|user|>.
    auto id_of = [&](const char* s) -> std::optional<int64_t> {
        auto it = added_ids.find(s);
        if (it == added_ids.end() || it->second >= static_cast<int64_t>(n_vocab)) return std::nullopt;
        return it->second;
    };
    std::optional<int64_t> eos = id_of("<|endoftext|>");
    if (!eos && !cfg.eos_token_ids.empty()) eos = cfg.eos_token_ids[0];
    if (eos) {
        for (const char* k : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                              "tokenizer.ggml.unknown_token_id"}) {
            w.add(k, GgufValue::u32(static_cast<uint32_t>(*eos)));
        }
    }
    if (auto eot = id_of("<|user|>")) w.add("tokenizer.ggml.eot_token_id", GgufValue::u32(static_cast<uint32_t>(*eot)));
    if (auto eom = id_of("<|observation|>")) w.add("tokenizer.ggml.eom_token_id", GgufValue::u32(static_cast<uint32_t>(*eom)));
    if (cfg.pad_token_id && *cfg.pad_token_id >= 0 && static_cast<size_t>(*cfg.pad_token_id) < n_vocab) {
        w.add("tokenizer.ggml.padding_token_id", GgufValue::u32(static_cast<uint32_t>(*cfg.pad_token_id)));
    }
    // Chat template: chat_template.jinja, else tokenizer_config.json's chat_template.
    std::string tmpl;
    if (auto j = read_text_file((dir / "chat_template.jinja").string()); j.ok()) {
        tmpl = *j;
    } else if (fs::exists(dir / "tokenizer_config.json", ec)) {
        auto tc = io::read_json_file((dir / "tokenizer_config.json").string());
        if (tc.ok() && tc->is_object() && tc->contains("chat_template")) {
            const json& ct = (*tc)["chat_template"];
            if (ct.is_string()) tmpl = ct.get<std::string>();
            if (ct.is_array()) {
                for (const auto& e : ct) {
                    if (e.is_object() && e.value("name", "") == "default") tmpl = e.value("template", "");
                }
            }
        }
    }
    if (!tmpl.empty()) w.add("tokenizer.chat_template", GgufValue::str(tmpl));
    return {};
}

// The file name of the vision tower written beside `out`: "<stem>-mmproj-<type>.gguf".
fs::path mmproj_path_for(const std::string& out, DType t) {
    const fs::path o(out);
    std::string type(dtype_name(t));
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
    return o.parent_path() / (o.stem().string() + "-mmproj-" + type + ".gguf");
}

// Opens `path`, converts every planned tensor row block by row block (in parallel over the pool)
// and writes it; counts into res.
Status write_gguf(const io::Checkpoint& ck, const std::vector<Planned>& plan, io::GgufWriter& w,
                  const std::string& path, QuantizeResult& res) {
    AG_RETURN_IF_ERROR(w.open(path));
    constexpr int64_t kChunkRows = 64;
    for (const auto& p : plan) {
        auto tv = ck.tensor(p.hf);
        if (!tv.ok()) return tv.status();
        const Tensor& src = *tv;
        const int64_t k = src.shape().back();
        const int64_t rows = src.numel() / std::max<int64_t>(k, 1);
        const size_t in_row = dtype_row_bytes(src.dtype(), k);
        const size_t out_row = dtype_row_bytes(p.type, k);
        std::vector<uint8_t> buf;
        for (int64_t r0 = 0; r0 < rows; r0 += kChunkRows * 16) {
            const int64_t nr = std::min<int64_t>(kChunkRows * 16, rows - r0);
            buf.assign(static_cast<size_t>(nr) * out_row, 0);
            const auto* in = static_cast<const uint8_t*>(src.data()) + static_cast<size_t>(r0) * in_row;
            ThreadPool::global().parallel_for(nr, kChunkRows, [&](int64_t b0, int64_t b1) {
                std::vector<float> f(static_cast<size_t>(k));
                for (int64_t r = b0; r < b1; ++r) {
                    convert_to_f32(src.dtype(), in + static_cast<size_t>(r) * in_row, f.data(), k);
                    uint8_t* o = buf.data() + static_cast<size_t>(r) * out_row;
                    switch (p.type) {
                        case DType::kF32: std::memcpy(o, f.data(), out_row); break;
                        case DType::kF16: {
                            auto* h = reinterpret_cast<uint16_t*>(o);
                            for (int64_t i = 0; i < k; ++i) h[i] = f32_to_f16(f[static_cast<size_t>(i)]);
                            break;
                        }
                        case DType::kBF16: {
                            auto* h = reinterpret_cast<uint16_t*>(o);
                            for (int64_t i = 0; i < k; ++i) h[i] = f32_to_bf16(f[static_cast<size_t>(i)]);
                            break;
                        }
                        default: quant::quantize_row(p.type, f.data(), o, k); break;
                    }
                }
            });
            AG_RETURN_IF_ERROR(w.write_tensor_data(buf.data(), buf.size()));
            res.n_bytes += buf.size();
        }
        ++res.n_tensors;
    }
    return w.close();
}

}  // namespace

Result<DType> parse_quant_type(const std::string& s) {
    std::string l = s;
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
    if (l == "q8_0") return DType::kQ8_0;
    if (l == "q4_0") return DType::kQ4_0;
    if (l == "q4_k") return DType::kQ4_K;
    if (l == "f16") return DType::kF16;
    if (l == "bf16") return DType::kBF16;
    if (l == "f32") return DType::kF32;
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("unknown type '{}' (expected q8_0, q4_0, q4_k, f16, bf16 or f32)", s));
}

Result<QuantizeResult> quantize_to_gguf(const std::string& model_path, DType type,
                                        const std::string& out_path, DType vision_type) {
    auto ck = io::Checkpoint::open(model_path);
    if (!ck.ok()) return ck.status();
    if (ck->gguf() != nullptr) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("{}: quantize reads a Hugging Face checkpoint directory, not a "
                                  "GGUF file", model_path));
    }
    auto cfg = model::parse_model_config(ck->config(), ck->generation_config(),
                                         ck->dir() + "/config.json");
    if (!cfg.ok()) return cfg.status();
    if (cfg->architecture != "Glm4ForCausalLM" &&
        cfg->architecture != "Glm4vForConditionalGeneration") {
        return Status(ErrorCode::kUnsupported,
                      fmt::format("{}/config.json: architecture '{}' cannot be written as GGUF "
                                  "(supported: Glm4ForCausalLM, Glm4vForConditionalGeneration)",
                                  ck->dir(), cfg->architecture));
    }
    const auto layout = find_layout(*ck);
    if (!layout) {
        return Status(ErrorCode::kNotFound,
                      fmt::format("{}: no text-model embedding (embed_tokens.weight) found", ck->dir()));
    }
    const model::TextConfig& t = cfg->text;
    QuantizeResult res;
    io::GgufWriter w;
    const std::string a = "glm4.";
    w.add("general.architecture", GgufValue::str("glm4"));
    w.add("general.type", GgufValue::str("model"));
    w.add("general.name", GgufValue::str(fs::path(ck->dir()).filename().string()));
    w.add("general.quantization_version", GgufValue::u32(2));
    w.add("general.file_type", GgufValue::u32(file_type_of(type)));
    const auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
    w.add(a + "context_length", u32(t.max_position_embeddings));
    w.add(a + "embedding_length", u32(t.hidden_size));
    w.add(a + "feed_forward_length", u32(t.intermediate_size));
    w.add(a + "block_count", u32(t.n_layer));
    w.add(a + "attention.head_count", u32(t.n_head));
    w.add(a + "attention.head_count_kv", u32(t.n_head_kv));
    w.add(a + "attention.key_length", u32(t.head_dim));
    w.add(a + "attention.value_length", u32(t.head_dim));
    w.add(a + "attention.layer_norm_rms_epsilon", GgufValue::f32(t.rms_norm_eps));
    w.add(a + "rope.dimension_count", u32(t.rotary_dim));
    w.add(a + "rope.freq_base", GgufValue::f32(static_cast<float>(t.rope_theta)));
    const fs::path dir(ck->dir());
    AG_RETURN_IF_ERROR(add_tokenizer(w, dir, *cfg, res.notes));

    // Plan: every text-model tensor with its GGUF name and type, in llama.cpp's order.
    std::vector<std::string> hf_names;
    hf_names.push_back(layout->text_prefix + "embed_tokens.weight");
    for (int64_t l = 0; l < t.n_layer; ++l) {
        const std::string lp = fmt::format("{}layers.{}.", layout->text_prefix, l);
        for (const char* n : {"input_layernorm.weight", "self_attn.q_proj.weight",
                              "self_attn.q_proj.bias", "self_attn.k_proj.weight",
                              "self_attn.k_proj.bias", "self_attn.v_proj.weight",
                              "self_attn.v_proj.bias", "self_attn.o_proj.weight",
                              "post_self_attn_layernorm.weight", "post_attention_layernorm.weight",
                              "mlp.gate_up_proj.weight", "mlp.down_proj.weight",
                              "post_mlp_layernorm.weight"}) {
            hf_names.push_back(lp + n);
        }
    }
    hf_names.push_back(layout->text_prefix + "norm.weight");
    const bool has_output = ck->has_tensor(layout->lm_head);
    if (has_output) hf_names.push_back(layout->lm_head);
    const bool four_bit = type == DType::kQ4_0 || type == DType::kQ4_K;
    std::vector<Planned> plan;
    // The vision tower (every tensor outside the text model) goes to a second file beside the
    // language model, under its Hugging Face names: 1-D tensors F32, matrices vision_type,
    // tensors of more than 4 dimensions (the Conv3d patch embedding) flattened to 2-D with the
    // real shapes in autoglm.shapes. The text file names it in autoglm.mmproj.
    std::vector<Planned> vision_plan;
    io::GgufWriter vw;
    const fs::path mmproj_path = mmproj_path_for(out_path, vision_type);
    {
        json shapes = json::object();
        for (const auto& n : ck->tensor_names()) {
            if (io::glm4_gguf_name(n, layout->text_prefix, layout->lm_head)) continue;
            auto tv = ck->tensor(n);
            if (!tv.ok()) return tv.status();
            if (n.size() >= 64) {
                return Status(ErrorCode::kUnsupported,
                              fmt::format("{}: tensor name '{}' is longer than GGUF's 63 bytes",
                                          ck->dir(), n));
            }
            Planned p{n, n, tv->n_dims() >= 2 ? vision_type : DType::kF32, tv->shape()};
            if (p.shape.size() > 4) {
                int64_t rest = 1;
                for (size_t i = 1; i < p.shape.size(); ++i) rest *= p.shape[i];
                p.shape = {p.shape[0], rest};
            }
            shapes[n] = tv->shape();
            vision_plan.push_back(std::move(p));
        }
        std::sort(vision_plan.begin(), vision_plan.end(),
                  [](const Planned& x, const Planned& y) { return x.hf < y.hf; });
        if (!vision_plan.empty()) {
            vw.add("general.architecture", GgufValue::str(io::kMmprojArch));
            vw.add("general.type", GgufValue::str("mmproj"));
            vw.add("general.name", GgufValue::str(fs::path(ck->dir()).filename().string()));
            vw.add("autoglm.hf_config", GgufValue::str(ck->config().dump()));
            if (!ck->generation_config().is_null()) {
                vw.add("autoglm.hf_generation_config", GgufValue::str(ck->generation_config().dump()));
            }
            if (auto pc = read_text_file((fs::path(ck->dir()) / "preprocessor_config.json").string()); pc.ok()) {
                vw.add("autoglm.hf_preprocessor_config", GgufValue::str(*pc));
            }
            vw.add("autoglm.text_prefix", GgufValue::str(layout->text_prefix));
            vw.add("autoglm.lm_head", GgufValue::str(layout->lm_head));
            vw.add("autoglm.shapes", GgufValue::str(shapes.dump()));
            for (const auto& p : vision_plan) vw.add_tensor(p.gguf, p.type, p.shape);
            w.add("autoglm.mmproj", GgufValue::str(mmproj_path.filename().string()));
        }
    }
    for (const auto& hf : hf_names) {
        if (!ck->has_tensor(hf)) {
            if (hf.ends_with(".bias") && !t.attention_bias) continue;
            return Status(ErrorCode::kNotFound,
                          fmt::format("tensor '{}' not found in checkpoint {}", hf, ck->dir()));
        }
        auto tv = ck->tensor(hf);
        if (!tv.ok()) return tv.status();
        Planned p{hf, *io::glm4_gguf_name(hf, layout->text_prefix, layout->lm_head), DType::kF32,
                  tv->shape()};
        if (tv->n_dims() >= 2) {
            const bool is_output = hf == layout->lm_head ||
                                   (!has_output && hf == layout->text_prefix + "embed_tokens.weight");
            p.type = is_output && four_bit ? DType::kQ8_0 : type;
            const int64_t k = p.shape.back();
            if (k % dtype_block_elems(p.type) != 0) {
                // Q4_K -> Q4_0 (as the load-time quantizer, model/weight_quant.h), else F16.
                const DType fb = p.type == DType::kQ4_K && k % dtype_block_elems(DType::kQ4_0) == 0
                                     ? DType::kQ4_0
                                     : DType::kF16;
                res.notes.push_back(fmt::format("{}: row length {} is not a multiple of the {} block "
                                                "size {}; written as {}", p.gguf, k,
                                                dtype_name(p.type), dtype_block_elems(p.type),
                                                dtype_name(fb)));
                p.type = fb;
            }
        }
        w.add_tensor(p.gguf, p.type, p.shape);
        plan.push_back(std::move(p));
    }

    AG_RETURN_IF_ERROR(write_gguf(*ck, plan, w, out_path, res));
    if (!vision_plan.empty()) {
        AG_RETURN_IF_ERROR(write_gguf(*ck, vision_plan, vw, mmproj_path.string(), res));
        res.notes.push_back(fmt::format("{} vision-tower tensors written as {} to {} (beside the "
                                        "language model; autoglm's own layout, see docs/checkpoints.md)",
                                        vision_plan.size(), dtype_name(vision_type),
                                        mmproj_path.string()));
    }
    return res;
}

}  // namespace ag::tools
