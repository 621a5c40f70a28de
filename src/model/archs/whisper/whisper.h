// Whisper encoder-decoder (WhisperForConditionalGeneration); the interface is SpeechModel.
#pragma once

#include <memory>

#include "model/speech_model.h"

namespace ag::io {
class Checkpoint;
}

namespace ag::model {

Result<std::unique_ptr<SpeechModel>> load_whisper(const io::Checkpoint& ck,
                                                  const LoadOptions& opts);

}  // namespace ag::model
