// Server-sent events framing as vLLM writes it: `data: <payload>\n\n` per event, and
// `data: [DONE]\n\n` last.
#pragma once

#include <string>
#include <string_view>

namespace ag::server::http {

/// One event carrying `payload` (a single-line JSON text).
std::string sse_event(std::string_view payload);
/// The terminator event.
std::string sse_done();

}  // namespace ag::server::http
