#include "multimodal/image_source.h"

#include <cctype>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "multimodal/data_url.h"

namespace ag::mm {
namespace {

namespace fs = std::filesystem;

Status bad(std::string message) { return {ErrorCode::kInvalidArgument, std::move(message)}; }

std::string lower_prefix(std::string_view s, size_t n) {
    std::string out(s.substr(0, std::min(n, s.size())));
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// True when `path` equals `dir` or lies inside it (component-wise; both canonical).
bool is_within(const fs::path& path, const fs::path& dir) {
    auto p = path.begin();
    for (auto d = dir.begin(); d != dir.end(); ++d, ++p) {
        if (d->empty()) continue;  // trailing separator
        if (p == path.end() || *p != *d) return false;
    }
    return true;
}

}  // namespace

Result<std::string> file_url_to_path(std::string_view url) {
    if (lower_prefix(url, 7) != "file://") return bad("not a file:// URL");
    std::string_view rest = url.substr(7);
    if (lower_prefix(rest, 9) == "localhost") rest.remove_prefix(9);
    if (rest.empty() || rest.front() != '/') {
        return bad("unsupported file URL: expected file:///absolute/path (no remote host)");
    }
    std::string path;
    for (size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '%') {
            if (i + 2 >= rest.size()) return bad("malformed percent-escape in file URL");
            const int hi = hex_value(rest[i + 1]);
            const int lo = hex_value(rest[i + 2]);
            if (hi < 0 || lo < 0) return bad("malformed percent-escape in file URL");
            path.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (rest[i] == '?' || rest[i] == '#') {
            break;
        } else {
            path.push_back(rest[i]);
        }
    }
    if (path.find('\0') != std::string::npos) return bad("file URL contains a NUL byte");
    return path;
}

Result<std::string> local_media_path(std::string_view url, const std::string& allowed_dir,
                                     std::string_view kind) {
    const std::string scheme = lower_prefix(url, 8);
    std::string path;
    if (scheme.starts_with("file://")) {
        Result<std::string> p = file_url_to_path(url);
        if (!p.ok()) return p.status();
        path = std::move(*p);
    } else {
        const size_t colon = url.find(':');
        const size_t slash = url.find('/');
        if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) {
            return bad(fmt::format("unsupported {} URL scheme '{}': use a data: URL", kind,
                                   std::string(url.substr(0, colon))));
        }
        path = std::string(url);
    }
    if (allowed_dir.empty()) {
        return bad(fmt::format("local {} files are not allowed (start the server with "
                               "--allowed-local-media-path DIR)", kind));
    }
    std::error_code ec;
    const fs::path dir = fs::weakly_canonical(fs::absolute(allowed_dir, ec), ec);
    if (ec) return bad("invalid --allowed-local-media-path");
    const fs::path file = fs::weakly_canonical(fs::absolute(path, ec), ec);  // resolves .. and symlinks
    if (ec || !is_within(file, dir)) {
        return bad(fmt::format("{} path '{}' is outside the allowed local media directory", kind,
                               path));
    }
    if (!fs::is_regular_file(file, ec)) return bad(fmt::format("{} file '{}' not found", kind, path));
    return file.string();
}

Result<RgbImage> load_image_from_url(std::string_view url, const ImageSourcePolicy& policy) {
    if (url.empty()) return bad("empty image URL");
    if (is_data_url(url)) return decode_image_data_url(url, policy.limits);
    const std::string scheme = lower_prefix(url, 8);
    if (scheme.starts_with("http://") || scheme.starts_with("https://")) {
        return bad("http(s) image URLs are not supported: this server does not access the network; send the "
                   "image inline as a data URL (data:image/png;base64,...)");
    }
    Result<std::string> file = local_media_path(url, policy.allowed_local_media_path, "image");
    if (!file.ok()) return file.status();
    Result<RgbImage> img = decode_image_file(*file, policy.limits);
    if (!img.ok()) return Status(ErrorCode::kInvalidArgument, img.status().message());
    return img;
}

uint64_t image_content_hash(const RgbImage& image) {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](uint8_t b) {
        h ^= b;
        h *= 1099511628211ull;
    };
    for (int v : {image.width, image.height}) {
        for (int i = 0; i < 4; ++i) mix(static_cast<uint8_t>(static_cast<uint32_t>(v) >> (8 * i)));
    }
    for (uint8_t b : image.data) mix(b);
    return h;
}

}  // namespace ag::mm
