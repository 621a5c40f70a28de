// The speech-recognition interface: an encoder-decoder over log-mel audio windows (Whisper).
// Separate from Model (a decoder-only LM over a paged KV cache): the encoder runs once per
// 30 s window, and a decoder keeps its own small self-attention cache plus cross-attention
// keys/values computed once from the encoder output. registry.cpp lists the architectures.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "model/model.h"

namespace ag::model {

// Hyper-parameters of a WhisperForConditionalGeneration config.json.
struct WhisperConfig {
    int64_t n_mels = 80;
    int64_t d_model = 0;
    int64_t encoder_layers = 0, encoder_heads = 0, encoder_ffn = 0;
    int64_t decoder_layers = 0, decoder_heads = 0, decoder_ffn = 0;
    int64_t vocab_size = 0;
    int64_t max_source_positions = 1500;  // encoder frames after the stride-2 conv
    int64_t max_target_positions = 448;   // decoder context
    int32_t decoder_start_token_id = -1;  // <|startoftranscript|>
    int32_t eos_token_id = -1;            // <|endoftext|>
    // Mel frames of one window (2 × max_source_positions: 3000 for 30 s at hop 160).
    int64_t n_frames() const { return 2 * max_source_positions; }
};

// Parses config.json (`src` names it in messages).
Result<WhisperConfig> parse_whisper_config(const nlohmann::json& config, const std::string& src);

// One decoding pass over one audio window: the cross-attention keys/values of every decoder
// layer (from the encoder output, computed once) and the self-attention cache of the tokens so
// far. Independent states may be decoded concurrently.
struct SpeechDecoderState {
    // Cross-attention keys/values per layer: [n_audio, d] f32, shared by copies of the state (the
    // hypotheses of one window). (bf16 records through the KvView path were measured slower on
    // the decode step of Whisper base: the per-tile widening costs more than the bytes saved.)
    std::vector<std::shared_ptr<const std::vector<float>>> cross_k, cross_v;
    std::vector<std::vector<float>> self_k, self_v;    // per layer [max_target_positions, d]
    int64_t n_audio = 0;                               // encoder frames
    int64_t n_past = 0;                                // tokens already decoded
};

class SpeechModel {
public:
    virtual ~SpeechModel() = default;
    virtual const WhisperConfig& config() const = 0;
    // generation_config.json (null when the checkpoint has none).
    virtual const nlohmann::json& generation_config() const = 0;

    // Encoder: log-mel [n_mels, n_frames] (row-major, as WhisperFeatureExtractor's
    // input_features[0]) -> [max_source_positions, d_model] f32.
    [[nodiscard]] virtual Result<std::vector<float>> encode(std::span<const float> mel) const = 0;
    // A decoder over `encoder_out` (encode()'s result) with an empty token history.
    [[nodiscard]] virtual Result<SpeechDecoderState> start_decoder(
        std::span<const float> encoder_out) const = 0;
    // Appends `tokens` to the state's history and writes their logits: [n, vocab] when
    // all_logits, else the last token's [vocab]. The history must stay within
    // max_target_positions; token ids must be in [0, vocab).
    [[nodiscard]] virtual Status decode(std::span<const int32_t> tokens, SpeechDecoderState& st,
                                        float* logits, bool all_logits = false) const = 0;
};

// Loads a speech-model checkpoint directory by its config.json architecture
// (WhisperForConditionalGeneration). Unknown architectures give kUnsupported listing the known.
Result<std::unique_ptr<SpeechModel>> load_speech_model(const std::string& path,
                                                       const LoadOptions& opts = {});

}  // namespace ag::model
