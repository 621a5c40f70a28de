// Helpers shared by the tokenizer tests: fixture paths and JSONL/base64 reading.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace ag::tok::test {

inline const std::vector<std::string>& fixture_names() {
    static const std::vector<std::string> kNames = {"glm4", "gpt2", "splitmix"};
    return kNames;
}

// Test-name generator for suites parameterised by fixture name.
struct ParamName {
    template <class Info>
    std::string operator()(const Info& param_info) const {
        return param_info.param;
    }
};

inline std::string fixture_dir(const std::string& name) {
    return "tests/fixtures/tokenizers/" + name;
}

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::vector<nlohmann::json> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
    }
    return rows;
}

inline std::string base64_decode(const std::string& in) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    int bits = 0;
    int acc = 0;
    for (char c : in) {
        const int v = value(c);
        if (v < 0) continue;  // '=' padding
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    return out;
}

}  // namespace ag::tok::test
