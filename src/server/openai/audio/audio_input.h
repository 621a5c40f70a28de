// Speech input shared by /v1/audio/* and chat messages: the 400 when no speech model is loaded,
// encoded bytes -> 16 kHz samples under --max-audio-seconds, and chat `input_audio` /
// `audio_url` parts transcribed in place.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "server/openai/api_error.h"
#include "server/openai/serving_context.h"

namespace ag::server::openai {

/// An audio part of a chat message: messages[message].parts[part] is a text part whose text
/// the transcript becomes. `source` is a data URL, a file:// URL or an absolute path.
struct AudioPart {
    size_t message = 0, part = 0;
    std::string source;
    std::string where;  ///< "messages[i].content[j]" for messages
};

/// 400 "speech input is not enabled ..." when the server has no speech model.
std::optional<ApiError> check_audio_enabled(const ServingContext& ctx, const std::string& param);

/// Decoded, downmixed, 16 kHz samples of `bytes`; 400 naming the problem (`what`: "file",
/// "messages[0].content[1]"), 413 over --max-audio-seconds.
std::optional<ApiError> decode_audio(const ServingContext& ctx, const std::string& bytes,
                                     const std::string& what, const std::string& param,
                                     std::vector<float>& samples);

/// Bytes named by an audio part's source (data URL or local file under
/// --allowed-local-media-path; http(s) refused).
std::optional<ApiError> read_audio_source(const ServingContext& ctx, const AudioPart& a,
                                          std::string& bytes);

/// Transcribes every audio part (in order) and writes its text into the message part.
/// `alive` is the client's connection (a disconnect cancels the transcription).
std::optional<ApiError> transcribe_audio_parts(const ServingContext& ctx,
                                               std::vector<chat::Message>& messages,
                                               const std::vector<AudioPart>& audio,
                                               const std::function<bool()>& alive);

}  // namespace ag::server::openai
