// llama.cpp's `glm4` GGUF architecture <-> the Hugging Face GLM-4 checkpoint layout.
//
// Names (verified against llama.cpp's llama-arch.cpp / models/glm4.cpp / gguf-py tensor map):
//   model.embed_tokens.weight                   token_embd.weight
//   model.norm.weight                           output_norm.weight
//   lm_head.weight                              output.weight (absent: tied to token_embd)
//   model.layers.N.input_layernorm              blk.N.attn_norm         (pre-attention)
//   model.layers.N.self_attn.{q,k,v}_proj       blk.N.attn_{q,k,v}      (weight + bias)
//   model.layers.N.self_attn.o_proj             blk.N.attn_output
//   model.layers.N.post_self_attn_layernorm     blk.N.post_attention_norm (on attention out)
//   model.layers.N.post_attention_layernorm     blk.N.ffn_norm          (pre-MLP)
//   model.layers.N.mlp.gate_up_proj             blk.N.ffn_up            ([gate; up], 2F rows)
//   model.layers.N.mlp.down_proj                blk.N.ffn_down
//   model.layers.N.post_mlp_layernorm           blk.N.post_ffw_norm     (on MLP out)
// Rope: llama.cpp runs glm4 with LLAMA_ROPE_TYPE_NORM (adjacent pairs, as HF GLM-4), so q/k are
// stored unpermuted -- except when glm4.rope.dimension_sections is present (a GLM-4.1V language
// model converted by llama.cpp for M-RoPE): then the converter reordered the rotary rows of every
// q/k head to NeoX order (evens, then odds) and the reader puts them back.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "io/gguf.h"

namespace ag::io {

// Where a Hugging Face tensor comes from in a glm4 GGUF file.
struct GgufSource {
    std::string gguf_name;
    int64_t row_begin = 0;   // a row range of a fused tensor (attn_qkv); n_rows < 0: all rows
    int64_t n_rows = -1;
    int64_t unpermute_heads = 0;  // > 0: undo the NeoX row order of this many heads
};

struct Glm4Gguf {
    nlohmann::json config;                           // as config.json would be
    std::vector<std::pair<std::string, GgufSource>> tensors;  // HF name -> source
};

// Checks general.architecture == "glm4" and the hyper-parameters; errors name the file and key.
Result<Glm4Gguf> glm4_from_gguf(const GgufFile& file);

// The tensor for `src` with PyTorch-order shape (a view, or an owning copy when rows must be
// reordered). `head_dim` and `rotary_dim` are needed only for unpermute_heads > 0.
Result<Tensor> glm4_gguf_tensor(const GgufFile& file, const GgufSource& src, int64_t head_dim,
                                int64_t rotary_dim);

// HF tensor name (with `text_prefix`, e.g. "model." or "model.language_model.", and `lm_head`)
// -> glm4 GGUF name; nullopt for tensors that are not part of the text model.
std::optional<std::string> glm4_gguf_name(const std::string& hf_name, const std::string& text_prefix,
                                          const std::string& lm_head);

// tokenizer.json / tokenizer_config.json texts synthesized from tokenizer.ggml.* (model gpt2,
// pre glm4 or chatglm-bpe) and tokenizer.chat_template; nullopt when the file has no vocab.
struct TokenizerTexts {
    std::string tokenizer_json;
    std::string tokenizer_config_json;
};
Result<std::optional<TokenizerTexts>> tokenizer_from_gguf(const GgufFile& file);

// general.architecture of the vision-tower file `autoglm quantize` writes beside a GLM-4.1V
// language model (docs/checkpoints.md).
inline constexpr const char* kMmprojArch = "autoglm-glm4v-vision";

// GLM-4's pre-tokenizer split regex (HF tokenizer.json form).
extern const char* const kGlm4PreTokenizerRegex;

// Token types of tokenizer.ggml.token_type (llama_token_type).
enum GgufTokenType : int32_t {
    kTokNormal = 1, kTokUnknown = 2, kTokControl = 3, kTokUserDefined = 4, kTokUnused = 5,
    kTokByte = 6,
};

}  // namespace ag::io
