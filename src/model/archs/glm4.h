// GLM-4 text decoder (Glm4ForCausalLM, and the language model of Glm4vForConditionalGeneration):
// pre-norm layers with FOUR norms (input, post-self-attn on the attention output,
// post-attention = pre-MLP, post-MLP on the MLP output), q/k/v with bias, GQA with contiguous
// groups, partial rotary on neighbour pairs with M-RoPE sections, fused gate|up SiLU MLP.
// Activations f32; weights stay in the checkpoint dtype (mmap'd) and are widened in the kernels.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "model/model.h"
#include "tensor/tensor.h"

namespace ag::model {

class Glm4TextModel final : public Model {
public:
    // `prefix`: where the decoder lives in the checkpoint ("model." for GLM-4,
    // "model.language_model." for GLM-4.1V); `lm_head`: the output projection's tensor name.
    static Result<std::unique_ptr<Glm4TextModel>> load(const io::Checkpoint& ckpt, ModelConfig cfg,
                                                       const std::string& prefix,
                                                       const std::string& lm_head,
                                                       const LoadOptions& opts = {});

    const ModelConfig& config() const override { return cfg_; }
    Status forward_batch(std::span<const SeqInput> seqs, KvStorage& kv,
                         float* logits) const override;

private:
    struct Layer {
        // q|k|v projections [Hq·D, d], [Hkv·D, d], [Hkv·D, d]. When the three share a dtype they
        // are stacked at load into w_qkv [Hq·D + 2·Hkv·D, d] (one matmul, x quantized once) and
        // wq/wk/wv stay empty; bqkv: the three biases in the same order (empty: none).
        bool qkv_fused = false;
        Tensor w_qkv, wq, wk, wv;
        Tensor wo;                    // [d, Hq·D]
        Tensor w_gate_up, w_down;     // [2F, d], [d, F]
        std::vector<float> bqkv;                            // f32 biases (empty: none)
        std::vector<float> norm_in, norm_post_attn_out;     // input_layernorm, post_self_attn_layernorm
        std::vector<float> norm_pre_mlp, norm_post_mlp_out; // post_attention_layernorm, post_mlp_layernorm
    };

    struct BatchPlan;  // flattened view of a batch (token offsets, slots)
    struct Workspace;  // activation buffers (below)
    void layer_forward(const Layer& L, int64_t l, const BatchPlan& plan, float* x,
                       KvStorage& kv, Workspace& ws) const;
    Status validate(std::span<const SeqInput> seqs, const KvStorage& kv) const;

    // Activation buffers reused by every layer and call (grown, never shrunk): a fresh
    // allocation per layer costs page faults and zeroing on long prompts. forward_batch holds
    // ws_mu_ while it uses them.
    struct Workspace {
        std::vector<float> h, qkv, q, k, v, attn, tmp, gu, act;
    };
    mutable std::mutex ws_mu_;
    mutable Workspace ws_;

    ModelConfig cfg_;
    Tensor embed_;                    // [V, d]
    Tensor lm_head_;                  // [V, d]
    std::vector<float> norm_final_;   // [d]
    std::vector<Layer> layers_;
    std::vector<double> inv_freq_;    // [rotary_dim / 2]
};

}  // namespace ag::model
