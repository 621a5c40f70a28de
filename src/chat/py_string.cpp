#include "chat/py_string.h"

#include <cstdio>

#include "chat/jinja_value.h"

namespace ag::chat::jinja {

namespace {

size_t utf8_len(uint8_t lead) {
    if (lead < 0x80) return 1;
    if ((lead >> 5) == 0x6) return 2;
    if ((lead >> 4) == 0xe) return 3;
    if ((lead >> 3) == 0x1e) return 4;
    return 0;
}

// Simple case mapping for the scripts chat templates meet (ASCII, Latin-1, Latin Extended-A,
// Greek, Cyrillic); other code points are unchanged.
char32_t to_upper(char32_t c) {
    if (c >= 'a' && c <= 'z') return c - 32;
    if ((c >= 0xe0 && c <= 0xfe && c != 0xf7)) return c - 32;
    if (c == 0xff) return 0x178;
    if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149) {
        const bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e);
        if (odd_upper ? (c % 2 == 0) : (c % 2 == 1)) return c - 1;
        return c;
    }
    if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2) return c - 32;
    if (c >= 0x430 && c <= 0x44f) return c - 32;
    if (c >= 0x450 && c <= 0x45f) return c - 80;
    return c;
}

char32_t to_lower(char32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c >= 0xc0 && c <= 0xde && c != 0xd7) return c + 32;
    if (c == 0x178) return 0xff;
    if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149) {
        const bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e);
        if (odd_upper ? (c % 2 == 1) : (c % 2 == 0)) return c + 1;
        return c;
    }
    if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 32;
    if (c >= 0x410 && c <= 0x42f) return c + 32;
    if (c >= 0x400 && c <= 0x40f) return c + 80;
    return c;
}

bool is_cased_letter(char32_t c) { return to_upper(c) != c || to_lower(c) != c; }

template <typename F>
std::string map_chars(std::string_view s, F f) {
    std::u32string u = utf8_decode(s);
    for (char32_t& c : u) c = f(c);
    return utf8_encode(u);
}

bool not_printable(char32_t c) {
    return c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
           (c >= 0x205f && c <= 0x2064) || c == 0x3000 || c == 0xfeff ||
           (c >= 0xd800 && c <= 0xdfff);
}

}  // namespace

std::u32string utf8_decode(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const auto lead = static_cast<uint8_t>(s[i]);
        size_t n = utf8_len(lead);
        if (n == 0 || i + n > s.size()) {
            out += static_cast<char32_t>(0xdc00 + lead);  // surrogateescape, round-trips
            ++i;
            continue;
        }
        char32_t c = n == 1 ? lead : (lead & (0x7fu >> n));
        bool ok = true;
        for (size_t k = 1; k < n; ++k) {
            const auto b = static_cast<uint8_t>(s[i + k]);
            if ((b & 0xc0) != 0x80) ok = false;
            c = (c << 6) | (b & 0x3fu);
        }
        if (!ok) {
            out += static_cast<char32_t>(0xdc00 + lead);
            ++i;
            continue;
        }
        out += c;
        i += n;
    }
    return out;
}

void utf8_append(std::string& out, char32_t c) {
    if (c >= 0xdc80 && c <= 0xdcff) {  // an escaped invalid byte
        out += static_cast<char>(c - 0xdc00);
    } else if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xc0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xe0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (c & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (c & 0x3f));
    }
}

std::string utf8_encode(std::u32string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : s) utf8_append(out, c);
    return out;
}

bool is_py_space(char32_t c) {
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left,
                     bool right) {
    const std::u32string u = utf8_decode(s);
    const std::u32string set = chars ? utf8_decode(*chars) : std::u32string();
    const auto strip_it = [&](char32_t c) {
        return chars ? set.find(c) != std::u32string::npos : is_py_space(c);
    };
    size_t b = 0, e = u.size();
    if (left) {
        while (b < e && strip_it(u[b])) ++b;
    }
    if (right) {
        while (e > b && strip_it(u[e - 1])) --e;
    }
    return utf8_encode(std::u32string_view(u).substr(b, e - b));
}

std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit, bool from_right) {
    std::vector<std::string> out;
    if (sep) {
        if (sep->empty()) throw TemplateError("empty separator");
        std::vector<size_t> cuts;  // byte offsets of separators, in scan order
        if (!from_right) {
            for (size_t p = s.find(*sep); p != std::string_view::npos;
                 p = s.find(*sep, p + sep->size())) {
                if (maxsplit >= 0 && static_cast<int64_t>(cuts.size()) >= maxsplit) break;
                cuts.push_back(p);
            }
        } else {
            size_t end = s.size();
            while (end >= sep->size()) {
                if (maxsplit >= 0 && static_cast<int64_t>(cuts.size()) >= maxsplit) break;
                const size_t p = s.rfind(*sep, end - sep->size());
                if (p == std::string_view::npos) break;
                cuts.insert(cuts.begin(), p);
                end = p;
            }
        }
        size_t start = 0;
        for (size_t p : cuts) {
            out.emplace_back(s.substr(start, p - start));
            start = p + sep->size();
        }
        out.emplace_back(s.substr(start));
        return out;
    }
    const std::u32string u = utf8_decode(s);
    std::vector<std::pair<size_t, size_t>> words;
    for (size_t i = 0; i < u.size();) {
        while (i < u.size() && is_py_space(u[i])) ++i;
        if (i == u.size()) break;
        size_t j = i;
        while (j < u.size() && !is_py_space(u[j])) ++j;
        words.emplace_back(i, j);
        i = j;
    }
    if (maxsplit >= 0 && static_cast<int64_t>(words.size()) > maxsplit + 1) {
        const size_t keep = static_cast<size_t>(maxsplit);
        if (!from_right) {  // the remainder keeps its inner and trailing whitespace
            words.resize(keep + 1);
            words[keep].second = u.size();
        } else {
            const size_t first = words.size() - keep - 1;
            words.erase(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(first));
            words[0].first = 0;
        }
    }
    for (auto [b, e] : words) out.push_back(utf8_encode(std::u32string_view(u).substr(b, e - b)));
    return out;
}

std::string py_upper(std::string_view s) { return map_chars(s, to_upper); }
std::string py_lower(std::string_view s) { return map_chars(s, to_lower); }

std::string py_title(std::string_view s) {
    std::u32string u = utf8_decode(s);
    bool prev_cased = false;
    for (char32_t& c : u) {
        c = prev_cased ? to_lower(c) : to_upper(c);
        prev_cased = is_cased_letter(c);
    }
    return utf8_encode(u);
}

std::string py_capitalize(std::string_view s) {
    std::u32string u = utf8_decode(s);
    for (size_t i = 0; i < u.size(); ++i) u[i] = i == 0 ? to_upper(u[i]) : to_lower(u[i]);
    return utf8_encode(u);
}

std::string py_replace(std::string_view s, std::string_view old, std::string_view repl,
                       int64_t count) {
    std::string out;
    if (old.empty()) {  // Python inserts repl between every code point
        const std::u32string u = utf8_decode(s);
        int64_t n = 0;
        for (size_t i = 0; i <= u.size(); ++i) {
            if (count < 0 || n < count) {
                out += repl;
                ++n;
            }
            if (i < u.size()) utf8_append(out, u[i]);
        }
        return out;
    }
    size_t start = 0;
    int64_t n = 0;
    for (size_t p = s.find(old); p != std::string_view::npos && (count < 0 || n < count);
         p = s.find(old, start)) {
        out.append(s.substr(start, p - start));
        out.append(repl);
        start = p + old.size();
        ++n;
    }
    out.append(s.substr(start));
    return out;
}

size_t py_count(std::string_view s, std::string_view sub) {
    if (sub.empty()) return utf8_decode(s).size() + 1;
    size_t n = 0;
    for (size_t p = s.find(sub); p != std::string_view::npos; p = s.find(sub, p + sub.size())) ++n;
    return n;
}

int64_t py_find(std::string_view s, std::string_view sub, bool from_right) {
    const size_t p = from_right ? s.rfind(sub) : s.find(sub);
    if (p == std::string_view::npos) return -1;
    return static_cast<int64_t>(utf8_decode(s.substr(0, p)).size());
}

std::string py_repr(std::string_view s) {
    const std::u32string u = utf8_decode(s);
    const bool has_single = u.find(U'\'') != std::u32string::npos;
    const bool has_double = u.find(U'"') != std::u32string::npos;
    const char quote = has_single && !has_double ? '"' : '\'';
    std::string out(1, quote);
    char buf[16];
    for (char32_t c : u) {
        if (c == static_cast<char32_t>(quote) || c == U'\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == U'\n') {
            out += "\\n";
        } else if (c == U'\r') {
            out += "\\r";
        } else if (c == U'\t') {
            out += "\\t";
        } else if (c >= 0xdc80 && c <= 0xdcff) {
            std::snprintf(buf, sizeof(buf), "\\udc%02x", static_cast<unsigned>(c - 0xdc00));
            out += buf;
        } else if (not_printable(c)) {
            if (c < 0x100) std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
            else std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        } else {
            utf8_append(out, c);
        }
    }
    out += quote;
    return out;
}

std::string json_quote(std::string_view s, bool ensure_ascii) {
    std::string out = "\"";
    char buf[16];
    const std::u32string u = utf8_decode(s);
    for (char32_t c : u) {
        switch (c) {
            case U'"': out += "\\\""; continue;
            case U'\\': out += "\\\\"; continue;
            case U'\n': out += "\\n"; continue;
            case U'\r': out += "\\r"; continue;
            case U'\t': out += "\\t"; continue;
            case U'\b': out += "\\b"; continue;
            case U'\f': out += "\\f"; continue;
            default: break;
        }
        if (c < 0x20 || (ensure_ascii && c >= 0x80)) {
            if (c >= 0x10000) {
                const char32_t v = c - 0x10000;
                std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x",
                              static_cast<unsigned>(0xd800 + (v >> 10)),
                              static_cast<unsigned>(0xdc00 + (v & 0x3ff)));
            } else {
                std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
            }
            out += buf;
        } else {
            utf8_append(out, c);
        }
    }
    return out + "\"";
}

}  // namespace ag::chat::jinja
