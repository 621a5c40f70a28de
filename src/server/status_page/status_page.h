// GET /: a self-contained HTML status page (no external assets): a health light, the model and
// its settings, uptime, live metrics polled from GET /status, and a small chat box streaming
// from /v1/chat/completions.
#pragma once

#include <string_view>

namespace ag::server {

std::string_view status_page_html();

}  // namespace ag::server
