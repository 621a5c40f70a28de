#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <string>

namespace ag::log {

namespace {
std::atomic<Level> g_level{Level::kInfo};
const char* tag(Level l) {
    switch (l) {
        case Level::kDebug: return "[DEBUG] ";
        case Level::kInfo: return "[INFO] ";
        case Level::kWarn: return "[WARN] ";
        case Level::kError: return "[ERROR] ";
    }
    return "";
}
}  // namespace

void set_level(Level l) { g_level.store(l); }
Level level() { return g_level.load(); }

void write(Level l, std::string_view line) {
    std::string s = tag(l);
    s.append(line);
    s.push_back('\n');
    std::fwrite(s.data(), 1, s.size(), stderr);
}

}  // namespace ag::log
