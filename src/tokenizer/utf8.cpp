#include "tokenizer/utf8.h"

#include <cstdint>

namespace ag::tok {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the well-formed sequence announced by `lead`, or 0 if it cannot start one.
int sequence_length(uint8_t lead) {
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    return 0;
}

// Whether `b` is valid as byte number `index` (1-based) after `lead` (Unicode table 3-7).
bool valid_continuation(uint8_t lead, int index, uint8_t b) {
    if (index == 1) {
        switch (lead) {
        case 0xE0:
            return b >= 0xA0 && b <= 0xBF;
        case 0xED:
            return b >= 0x80 && b <= 0x9F;
        case 0xF0:
            return b >= 0x90 && b <= 0xBF;
        case 0xF4:
            return b >= 0x80 && b <= 0x8F;
        default:
            break;
        }
    }
    return b >= 0x80 && b <= 0xBF;
}

}  // namespace

size_t append_utf8_lossy(std::string_view in, std::string& out, bool final) {
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    const size_t n = in.size();
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            size_t j = i + 1;
            while (j < n && p[j] < 0x80) ++j;
            out.append(in.data() + i, j - i);
            i = j;
            continue;
        }
        const int len = sequence_length(p[i]);
        if (len == 0) {
            out += kReplacement;
            ++i;
            continue;
        }
        int good = 1;  // bytes of the maximal well-formed prefix
        while (good < len && i + good < n && valid_continuation(p[i], good, p[i + good])) ++good;
        if (good == len) {
            out.append(in.data() + i, len);
        } else if (i + good == n && !final) {
            return i;  // incomplete prefix at the end: wait for more bytes
        } else {
            out += kReplacement;
        }
        i += good;
    }
    return n;
}

std::string to_utf8_lossy(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    append_utf8_lossy(in, out, true);
    return out;
}

bool is_valid_utf8(std::string_view in) {
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    const size_t n = in.size();
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            ++i;
            continue;
        }
        const int len = sequence_length(p[i]);
        if (len == 0 || i + len > n) return false;
        for (int k = 1; k < len; ++k) {
            if (!valid_continuation(p[i], k, p[i + k])) return false;
        }
        i += len;
    }
    return true;
}

char32_t next_code_point(std::string_view s, size_t& pos) {
    const auto b0 = static_cast<uint8_t>(s[pos]);
    const int len = sequence_length(b0);
    if (len <= 1) {
        ++pos;
        return b0;
    }
    char32_t cp = b0 & (0xFF >> (len + 1));
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[pos + k]) & 0x3F);
    pos += len;
    return cp;
}

char32_t prev_code_point(std::string_view s, size_t end, size_t& start) {
    start = end - 1;
    while (start > 0 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) --start;
    size_t pos = start;
    return next_code_point(s, pos);
}

void append_code_point(char32_t cp, std::string& out) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

}  // namespace ag::tok
