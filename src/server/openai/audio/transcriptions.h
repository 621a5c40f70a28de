// POST /v1/audio/transcriptions and /v1/audio/translations (multipart/form-data, as the openai
// SDK's audio.transcriptions.create / audio.translations.create send them).
// Fields: file (required), model, language, prompt, response_format (json | text | srt | vtt |
// verbose_json), temperature, timestamp_granularities[] (segment), stream. Unknown fields are
// ignored. The work runs on the AsrWorker (asr/asr_worker.h), never on the HTTP or engine
// threads' pools.
#pragma once

#include "server/http/http_server.h"
#include "server/openai/serving_context.h"

namespace ag::server::openai {

http::HttpResponse handle_transcriptions(const ServingContext& ctx, const http::HttpRequest& req);
http::HttpResponse handle_translations(const ServingContext& ctx, const http::HttpRequest& req);

}  // namespace ag::server::openai
