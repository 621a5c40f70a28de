#include "multimodal/data_url.h"

#include <array>
#include <cctype>

#include <fmt/format.h>

namespace ag::mm {
namespace {

Status bad(std::string message) { return {ErrorCode::kInvalidArgument, std::move(message)}; }

constexpr int kSkip = -2;
constexpr int kPad = -3;
constexpr int kInvalid = -1;

constexpr std::array<int8_t, 256> make_table() {
    std::array<int8_t, 256> t{};
    for (auto& v : t) v = kInvalid;
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    t['-'] = 62;
    t['_'] = 63;
    t['='] = kPad;
    for (unsigned char c : {' ', '\t', '\n', '\r', '\f', '\v'}) t[c] = kSkip;
    return t;
}
constexpr std::array<int8_t, 256> kTable = make_table();

std::string printable(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) return fmt::format("'{}'", c);
    return fmt::format("byte 0x{:02x}", u);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

}  // namespace

size_t base64_decoded_size_bound(std::string_view text) { return (text.size() / 4 + 1) * 3; }

Result<std::string> base64_decode(std::string_view text) {
    std::string out;
    out.reserve(base64_decoded_size_bound(text));
    uint32_t acc = 0;
    int n = 0;     // sextets in acc
    int pads = 0;  // '=' seen
    for (size_t i = 0; i < text.size(); ++i) {
        const int v = kTable[static_cast<unsigned char>(text[i])];
        if (v == kSkip) continue;
        if (v == kInvalid) {
            return bad(fmt::format("invalid base64: unexpected {} at offset {}", printable(text[i]), i));
        }
        if (v == kPad) {
            if (n < 2 || n + pads >= 4) {
                return bad(fmt::format("invalid base64: misplaced '=' padding at offset {}", i));
            }
            ++pads;
            continue;
        }
        if (pads > 0) return bad(fmt::format("invalid base64: data after '=' padding at offset {}", i));
        acc = (acc << 6) | static_cast<uint32_t>(v);
        if (++n == 4) {
            out.push_back(static_cast<char>((acc >> 16) & 0xff));
            out.push_back(static_cast<char>((acc >> 8) & 0xff));
            out.push_back(static_cast<char>(acc & 0xff));
            acc = 0;
            n = 0;
        }
    }
    if (pads > 0 && n + pads != 4) return bad("invalid base64: incomplete '=' padding");
    if (n == 1) return bad("invalid base64: truncated data (a single trailing symbol)");
    if (n == 2) {
        out.push_back(static_cast<char>((acc >> 4) & 0xff));
    } else if (n == 3) {
        out.push_back(static_cast<char>((acc >> 10) & 0xff));
        out.push_back(static_cast<char>((acc >> 2) & 0xff));
    }
    return out;
}

std::string base64_encode(std::string_view bytes) {
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                           static_cast<uint8_t>(bytes[i + 2]);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    const size_t rest = bytes.size() - i;
    if (rest > 0) {
        uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
        if (rest == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

bool is_data_url(std::string_view url) { return url.size() >= 5 && lower(url.substr(0, 5)) == "data:"; }

Result<DataUrl> parse_data_url(std::string_view url, const ImageLimits& limits) {
    if (!is_data_url(url)) return bad("not a data URL (expected 'data:<mime type>;base64,<data>')");
    const size_t comma = url.find(',');
    if (comma == std::string_view::npos) return bad("malformed data URL: no ',' before the data");
    const std::string_view header = url.substr(5, comma - 5);
    const std::string_view payload = url.substr(comma + 1);
    DataUrl result;
    bool base64 = false;
    size_t start = 0;
    for (int part = 0; start <= header.size(); ++part) {
        size_t semi = header.find(';', start);
        if (semi == std::string_view::npos) semi = header.size();
        const std::string item = lower(trim(header.substr(start, semi - start)));
        if (part == 0) {
            result.mime_type = item;
        } else if (item == "base64") {
            base64 = true;
        }
        start = semi + 1;
    }
    if (!base64) return bad("unsupported data URL: only base64-encoded data (';base64,') is accepted");
    if (payload.size() / 4 * 3 > limits.max_encoded_bytes) {
        return bad(fmt::format("data URL carries about {} bytes, over the limit of {} bytes",
                               payload.size() / 4 * 3, limits.max_encoded_bytes));
    }
    Result<std::string> data = base64_decode(payload);
    if (!data.ok()) return Status(ErrorCode::kInvalidArgument, "data URL: " + data.status().message());
    result.data = std::move(*data);
    return result;
}

Result<RgbImage> decode_image_data_url(std::string_view url, const ImageLimits& limits) {
    Result<DataUrl> parsed = parse_data_url(url, limits);
    if (!parsed.ok()) return parsed.status();
    if (parsed->data.empty()) return bad("empty image data in data URL");
    std::string mime = parsed->mime_type;
    if (mime == "image/jpg" || mime == "image/pjpeg") mime = "image/jpeg";
    const ImageFormat sniffed = sniff_image_format(parsed->data);
    ImageFormat declared = ImageFormat::kUnknown;
    for (ImageFormat f : {ImageFormat::kPng, ImageFormat::kJpeg, ImageFormat::kWebp}) {
        if (mime == image_format_mime(f) && image_format_supported(f)) declared = f;
    }
    if (declared == ImageFormat::kUnknown) {
        return bad(fmt::format("unsupported media type '{}' in data URL: use image/png or image/jpeg{}",
                               parsed->mime_type.empty() ? "(none)" : parsed->mime_type,
                               image_format_supported(ImageFormat::kWebp) ? " or image/webp" : ""));
    }
    if (sniffed != declared && sniffed != ImageFormat::kUnknown) {
        return bad(fmt::format("data URL says {} but the data is a {} image", parsed->mime_type,
                               image_format_name(sniffed)));
    }
    if (sniffed == ImageFormat::kUnknown) {
        return bad(fmt::format("data URL says {} but the data is not a {} image (no {} signature)",
                               parsed->mime_type, image_format_name(declared), image_format_name(declared)));
    }
    return decode_image(parsed->data, limits);
}

}  // namespace ag::mm
