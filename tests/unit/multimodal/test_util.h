// Shared helpers for the multimodal tests (fixtures are read relative to the repo root).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace ag::mm::test {

inline const std::string kImageDir = "tests/fixtures/images/";

inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace ag::mm::test
