// AG_CHECK: invariants that, when broken, mean a bug in this program. Always on; aborts with
// file:line, the condition and a message. Never use it for bad user input or bad files.
#pragma once

#include <fmt/format.h>

namespace ag::detail {
[[noreturn]] void check_failed(const char* file, int line, const char* cond, const std::string& msg);
}  // namespace ag::detail

#define AG_CHECK(cond, ...)                                                                 \
    do {                                                                                    \
        if (!(cond)) [[unlikely]] {                                                         \
            ::ag::detail::check_failed(__FILE__, __LINE__, #cond, ::fmt::format(__VA_ARGS__)); \
        }                                                                                   \
    } while (0)
