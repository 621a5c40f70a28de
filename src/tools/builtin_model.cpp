#include "tools/builtin_model.h"

#include <fmt/format.h>
#include <unistd.h>

#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string_view>

#include "io/safetensors.h"
#include "tensor/tensor.h"

namespace ag::assets {
std::string_view tokenizer_json();
std::string_view tokenizer_config_json();
std::string_view chat_template_jinja();
}  // namespace ag::assets

namespace ag::tools {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Bump when the weights or config change, so stale copies on disk are rewritten.
constexpr int kBuiltinVersion = 1;

// Small GLM-4.1V-shaped dimensions.
constexpr int64_t kHidden = 256, kLayers = 4, kHeads = 8, kKvHeads = 2, kInter = 512;
constexpr int64_t kVisHidden = 64, kVisDepth = 2, kVisHeads = 2, kVisImage = 336, kPatch = 14;
constexpr int64_t kMergerInter = 512;

// splitmix64 -> Box-Muller: deterministic, platform-independent normal samples.
class Rng {
public:
    explicit Rng(uint64_t seed) : s_(seed) {}
    uint64_t next() {
        uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double uniform() { return (static_cast<double>(next() >> 11) + 0.5) / 9007199254740992.0; }
    float normal() {
        const double u1 = uniform(), u2 = uniform();
        return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
    }

private:
    uint64_t s_;
};

class WeightWriter {
public:
    void normal(const std::string& name, std::vector<int64_t> shape, float std_dev) {
        Tensor t = Tensor::empty(DType::kBF16, std::move(shape));
        auto* p = t.mutable_as<uint16_t>();
        for (int64_t i = 0; i < t.numel(); ++i) p[i] = f32_to_bf16(rng_.normal() * std_dev);
        out_.push_back({name, std::move(t)});
    }
    void constant(const std::string& name, std::vector<int64_t> shape, float value) {
        Tensor t = Tensor::empty(DType::kBF16, std::move(shape));
        auto* p = t.mutable_as<uint16_t>();
        for (int64_t i = 0; i < t.numel(); ++i) p[i] = f32_to_bf16(value);
        out_.push_back({name, std::move(t)});
    }
    const std::vector<io::TensorToWrite>& tensors() const { return out_; }

private:
    Rng rng_{0x61676c6d};  // "aglm"
    std::vector<io::TensorToWrite> out_;
};

int32_t token_id(const json& tok, const std::string& s) {
    for (const auto& a : tok.at("added_tokens")) {
        if (a.at("content") == s) return a.at("id").get<int32_t>();
    }
    const auto& vocab = tok.at("model").at("vocab");
    if (vocab.contains(s)) return vocab.at(s).get<int32_t>();
    throw Error(ErrorCode::kInternal, "built-in tokenizer lacks token " + s);
}

int64_t tokenizer_size(const json& tok) {
    int64_t n = 0;
    for (const auto& [k, v] : tok.at("model").at("vocab").items()) n = std::max<int64_t>(n, v.get<int64_t>() + 1);
    for (const auto& a : tok.at("added_tokens")) n = std::max<int64_t>(n, a.at("id").get<int64_t>() + 1);
    return n;
}

json make_config(const json& tok, int64_t vocab, const std::vector<int32_t>& eos) {
    // head_dim 32 -> rotary dim 16 -> 8 frequency pairs = mrope_section 2 + 3 + 3.
    json text = {
        {"model_type", "glm4v_text"}, {"vocab_size", vocab}, {"hidden_size", kHidden},
        {"intermediate_size", kInter}, {"num_hidden_layers", kLayers},
        {"num_attention_heads", kHeads}, {"num_key_value_heads", kKvHeads},
        {"hidden_act", "silu"}, {"rms_norm_eps", 1e-5}, {"attention_bias", true},
        {"max_position_embeddings", 8192}, {"eos_token_id", eos},
        {"pad_token_id", token_id(tok, "<|endoftext|>")},
        {"rope_parameters", {{"rope_type", "default"}, {"rope_theta", 10000.0},
                             {"partial_rotary_factor", 0.5}, {"mrope_section", {2, 3, 3}}}},
        {"dtype", "bfloat16"}};
    json vision = {
        {"model_type", "glm4v_vision"}, {"depth", kVisDepth}, {"hidden_size", kVisHidden},
        {"num_heads", kVisHeads}, {"intermediate_size", kMergerInter},
        {"out_hidden_size", kHidden}, {"hidden_act", "silu"}, {"attention_bias", false},
        {"image_size", kVisImage}, {"patch_size", kPatch}, {"temporal_patch_size", 2},
        {"spatial_merge_size", 2}, {"in_channels", 3}, {"rms_norm_eps", 1e-5}};
    return {{"architectures", {"Glm4vForConditionalGeneration"}},
            {"model_type", "glm4v"},
            {"tie_word_embeddings", false},
            {"image_token_id", token_id(tok, "<|image|>")},
            {"video_token_id", token_id(tok, "<|video|>")},
            {"image_start_token_id", token_id(tok, "<|begin_of_image|>")},
            {"image_end_token_id", token_id(tok, "<|end_of_image|>")},
            {"video_start_token_id", token_id(tok, "<|begin_of_video|>")},
            {"video_end_token_id", token_id(tok, "<|end_of_video|>")},
            {"text_config", text},
            {"vision_config", vision},
            {"autoglm_builtin_version", kBuiltinVersion}};
}

void make_weights(WeightWriter& w, int64_t vocab) {
    const int64_t d = kHidden, hd = kHidden / kHeads;
    const std::string p = "model.language_model.";
    w.normal(p + "embed_tokens.weight", {vocab, d}, 1.0f);
    for (int64_t l = 0; l < kLayers; ++l) {
        const std::string lp = fmt::format("{}layers.{}.", p, l);
        w.normal(lp + "self_attn.q_proj.weight", {kHeads * hd, d}, 0.08f);
        w.normal(lp + "self_attn.q_proj.bias", {kHeads * hd}, 0.05f);
        w.normal(lp + "self_attn.k_proj.weight", {kKvHeads * hd, d}, 0.08f);
        w.normal(lp + "self_attn.k_proj.bias", {kKvHeads * hd}, 0.05f);
        w.normal(lp + "self_attn.v_proj.weight", {kKvHeads * hd, d}, 0.08f);
        w.normal(lp + "self_attn.v_proj.bias", {kKvHeads * hd}, 0.05f);
        w.normal(lp + "self_attn.o_proj.weight", {d, kHeads * hd}, 0.08f);
        w.normal(lp + "mlp.gate_up_proj.weight", {2 * kInter, d}, 0.08f);
        w.normal(lp + "mlp.down_proj.weight", {d, kInter}, 0.06f);
        for (const char* n : {"input_layernorm", "post_self_attn_layernorm",
                              "post_attention_layernorm", "post_mlp_layernorm"}) {
            w.constant(lp + n + ".weight", {d}, 1.0f);
        }
    }
    w.constant(p + "norm.weight", {d}, 1.0f);
    w.normal("lm_head.weight", {vocab, d}, 0.15f);

    const std::string v = "model.visual.";
    const int64_t vd = kVisHidden, grid = kVisImage / kPatch;
    w.normal(v + "patch_embed.proj.weight", {vd, 3, 2, kPatch, kPatch}, 0.05f);
    w.normal(v + "patch_embed.proj.bias", {vd}, 0.02f);
    w.constant(v + "post_conv_layernorm.weight", {vd}, 1.0f);
    w.normal(v + "embeddings.position_embedding.weight", {grid * grid, vd}, 0.05f);
    for (int64_t j = 0; j < kVisDepth; ++j) {
        const std::string bp = fmt::format("{}blocks.{}.", v, j);
        w.constant(bp + "norm1.weight", {vd}, 1.0f);
        w.normal(bp + "attn.qkv.weight", {3 * vd, vd}, 0.08f);
        w.normal(bp + "attn.proj.weight", {vd, vd}, 0.08f);
        w.constant(bp + "norm2.weight", {vd}, 1.0f);
        w.normal(bp + "mlp.gate_proj.weight", {kHidden, vd}, 0.08f);
        w.normal(bp + "mlp.up_proj.weight", {kHidden, vd}, 0.08f);
        w.normal(bp + "mlp.down_proj.weight", {vd, kHidden}, 0.05f);
    }
    w.constant(v + "post_layernorm.weight", {vd}, 1.0f);
    w.normal(v + "downsample.weight", {kHidden, vd, 2, 2}, 0.05f);
    w.normal(v + "downsample.bias", {kHidden}, 0.02f);
    w.normal(v + "merger.proj.weight", {kHidden, kHidden}, 0.05f);
    w.constant(v + "merger.post_projection_norm.weight", {kHidden}, 1.0f);
    w.constant(v + "merger.post_projection_norm.bias", {kHidden}, 0.0f);
    w.normal(v + "merger.gate_proj.weight", {kMergerInter, kHidden}, 0.05f);
    w.normal(v + "merger.up_proj.weight", {kMergerInter, kHidden}, 0.05f);
    w.normal(v + "merger.down_proj.weight", {kHidden, kMergerInter}, 0.05f);
}

Status write_file(const fs::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) return Status(ErrorCode::kIoError, path.string() + ": write failed");
    return {};
}

}  // namespace

Status write_builtin_model(const std::string& dir_str) {
    try {
        const fs::path dir(dir_str);
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) return Status(ErrorCode::kIoError, dir_str + ": cannot create: " + ec.message());
        const json tok = json::parse(assets::tokenizer_json());
        const int64_t vocab = tokenizer_size(tok);
        const std::vector<int32_t> eos = {token_id(tok, "<|endoftext|>"), token_id(tok, "<|user|>"),
                                          token_id(tok, "<|observation|>")};
        const json gen = {{"eos_token_id", eos}, {"pad_token_id", eos[0]},
                          {"do_sample", false}, {"temperature", 1.0}, {"top_p", 1.0}};
        const json pre = {
            {"size", {{"shortest_edge", 12544}, {"longest_edge", 9633792}}},
            {"patch_size", kPatch}, {"temporal_patch_size", 2}, {"merge_size", 2},
            {"image_mean", {0.48145466, 0.4578275, 0.40821073}},
            {"image_std", {0.26862954, 0.26130258, 0.27577711}},
            {"do_rescale", true}, {"rescale_factor", 1.0 / 255.0}, {"do_normalize", true},
            {"do_convert_rgb", true}, {"do_resize", true}, {"resample", 3},
            {"image_processor_type", "Glm4vImageProcessor"}, {"processor_class", "Glm4vProcessor"}};
        WeightWriter w;
        make_weights(w, vocab);
        // Weights first, config last: a directory with a config.json is complete.
        AG_RETURN_IF_ERROR(io::write_safetensors((dir / "model.safetensors").string(), w.tensors(),
                                                 {{"format", "pt"}}));
        AG_RETURN_IF_ERROR(write_file(dir / "tokenizer.json", assets::tokenizer_json()));
        AG_RETURN_IF_ERROR(write_file(dir / "tokenizer_config.json", assets::tokenizer_config_json()));
        AG_RETURN_IF_ERROR(write_file(dir / "chat_template.jinja", assets::chat_template_jinja()));
        AG_RETURN_IF_ERROR(write_file(dir / "generation_config.json", gen.dump(2)));
        AG_RETURN_IF_ERROR(write_file(dir / "preprocessor_config.json", pre.dump(2)));
        return write_file(dir / "config.json", make_config(tok, vocab, eos).dump(2));
    } catch (const Error& e) {
        return e.status();
    } catch (const std::exception& e) {
        return Status(ErrorCode::kInternal, std::string("built-in model: ") + e.what());
    }
}

Result<std::string> ensure_builtin_model() {
    char buf[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    fs::path base = n > 0 ? fs::path(std::string(buf, static_cast<size_t>(n))).parent_path()
                          : fs::current_path();
    const fs::path dir = base / "builtin-model";
    std::ifstream cfg(dir / "config.json");
    if (cfg) {
        try {
            const json j = json::parse(cfg);
            if (j.value("autoglm_builtin_version", 0) == kBuiltinVersion) return dir.string();
        } catch (const std::exception&) {
            // rewrite below
        }
    }
    AG_RETURN_IF_ERROR(write_builtin_model(dir.string()));
    return dir.string();
}

const char* builtin_model_notice() {
    return "Using the built-in default model: a tiny GLM-4.1V-shaped network with generated "
           "weights. Its output text is NOT meaningful. Point --model at a real checkpoint "
           "directory (e.g. --model /path/to/AutoGLM-Phone-9B) for real output.";
}

}  // namespace ag::tools
