// Whisper encoder-decoder (WhisperForConditionalGeneration); the interface is SpeechModel.
#pragma once

#include <memory>

#include "model/speech_model.h"

namespace ag::io {
class Checkpoint;
}

namespace ag::model {

// A Hugging Face WhisperForConditionalGeneration checkpoint.
Result<std::unique_ptr<SpeechModel>> load_whisper(const io::Checkpoint& ck,
                                                  const LoadOptions& opts);
// A CTranslate2 (faster-whisper) directory: model.bin or model.bin.part1..N, config.json
// (suppress_ids, lang_ids, ...: returned as generation_config()), tokenizer.json or
// vocabulary.{json,txt}. float32/float16/bfloat16 weights are used in place; int8 weights are
// dequantized with their per-row scales and, unless LoadOptions asks otherwise, stored as Q8_0.
Result<std::unique_ptr<SpeechModel>> load_whisper_ct2(const std::string& dir,
                                                      const LoadOptions& opts);

}  // namespace ag::model
