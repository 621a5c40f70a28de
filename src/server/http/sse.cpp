#include "server/http/sse.h"

namespace ag::server::http {

std::string sse_event(std::string_view payload) {
    std::string out;
    out.reserve(payload.size() + 8);
    out += "data: ";
    out += payload;
    out += "\n\n";
    return out;
}

std::string sse_done() { return "data: [DONE]\n\n"; }

}  // namespace ag::server::http
