#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace ag::tok {
namespace {

struct ByteTables {
    std::array<char32_t, 256> byte_to_cp{};
    std::array<std::string, 256> byte_to_utf8;
    std::array<int16_t, 324> cp_to_byte{};  // every mapped code point is < 324

    ByteTables() {
        cp_to_byte.fill(-1);
        int next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable =
                (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            const char32_t cp =
                printable ? static_cast<char32_t>(b) : static_cast<char32_t>(next++);
            byte_to_cp[b] = cp;
            append_code_point(cp, byte_to_utf8[b]);
            cp_to_byte[cp] = static_cast<int16_t>(b);
        }
    }
};

const ByteTables& tables() {
    static const ByteTables kTables;
    return kTables;
}

}  // namespace

void append_byte_level(std::string_view in, std::string& out) {
    const auto& t = tables();
    for (char c : in) out += t.byte_to_utf8[static_cast<uint8_t>(c)];
}

int byte_level_byte(char32_t cp) {
    const auto& t = tables();
    return cp < t.cp_to_byte.size() ? t.cp_to_byte[cp] : -1;
}

void append_byte_level_decoded(std::string_view token, std::string& out) {
    const size_t mark = out.size();
    size_t pos = 0;
    while (pos < token.size()) {
        const int b = byte_level_byte(next_code_point(token, pos));
        if (b < 0) {
            out.resize(mark);
            out += token;
            return;
        }
        out += static_cast<char>(b);
    }
}

}  // namespace ag::tok
