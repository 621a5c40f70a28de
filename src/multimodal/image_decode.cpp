#include "multimodal/image_decode.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include <stb/stb_image.h>

#include "multimodal/jpeg_decode.h"

#ifdef AG_HAVE_WEBP
#include <webp/decode.h>
#endif

namespace ag::mm {
namespace {

Status bad(std::string message) { return {ErrorCode::kInvalidArgument, std::move(message)}; }

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

std::string supported_list() {
    return image_format_supported(ImageFormat::kWebp) ? "PNG, JPEG or WebP" : "PNG or JPEG";
}

Status check_dims(ImageFormat format, int64_t width, int64_t height, const ImageLimits& limits) {
    if (width <= 0 || height <= 0) {
        return bad(fmt::format("invalid {} image: header gives size {}x{}", image_format_name(format),
                               width, height));
    }
    if (width > limits.max_side || height > limits.max_side) {
        return bad(fmt::format("{} image is {}x{} (width x height); each side must be at most {} pixels",
                               image_format_name(format), width, height, limits.max_side));
    }
    if (width * height > limits.max_pixels) {
        return bad(fmt::format("{} image is {}x{} = {} pixels, over the limit of {} decoded pixels",
                               image_format_name(format), width, height, width * height,
                               limits.max_pixels));
    }
    return {};
}

uint32_t be16(std::string_view b, size_t i) {
    return (static_cast<uint32_t>(static_cast<uint8_t>(b[i])) << 8) | static_cast<uint8_t>(b[i + 1]);
}
uint32_t be32(std::string_view b, size_t i) { return (be16(b, i) << 16) | be16(b, i + 2); }

// Width and height straight from the PNG IHDR / JPEG SOFn header, so that the pixel limit is
// enforced (with a clear message) before any decoder allocates anything.
bool header_size(std::string_view b, ImageFormat format, int64_t& width, int64_t& height, int& channels) {
    if (format == ImageFormat::kPng) {
        if (b.size() < 24 || b.substr(12, 4) != "IHDR") return false;
        width = be32(b, 16);
        height = be32(b, 20);
        channels = 0;
        return true;
    }
    if (format == ImageFormat::kJpeg) {
        size_t i = 2;
        while (i + 4 <= b.size()) {
            if (static_cast<uint8_t>(b[i]) != 0xff) return false;
            const auto marker = static_cast<uint8_t>(b[i + 1]);
            if (marker == 0xff) {  // fill byte
                ++i;
                continue;
            }
            if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {  // no length field
                i += 2;
                continue;
            }
            const uint32_t len = be16(b, i + 2);
            const bool sof = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
            if (sof) {
                if (i + 10 > b.size()) return false;
                height = be16(b, i + 5);
                width = be16(b, i + 7);
                channels = static_cast<uint8_t>(b[i + 9]);
                return true;
            }
            if (len < 2) return false;
            i += 2 + len;
        }
    }
    return false;
}

const char* stb_reason() {
    const char* r = stbi_failure_reason();
    return r != nullptr ? r : "unknown error";
}

Result<ImageInfo> probe_stb(std::string_view bytes, ImageFormat format) {
    int w = 0, h = 0, comp = 0;
    const auto* p = reinterpret_cast<const stbi_uc*>(bytes.data());
    const int n = static_cast<int>(bytes.size());
    if (stbi_info_from_memory(p, n, &w, &h, &comp) == 0) {
        return bad(fmt::format("corrupt or truncated {} image: cannot read its header ({})",
                               image_format_name(format), stb_reason()));
    }
    return ImageInfo{format, w, h, comp};
}

#ifdef AG_HAVE_WEBP
Result<ImageInfo> probe_webp(std::string_view bytes) {
    WebPBitstreamFeatures features;
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    if (WebPGetFeatures(p, bytes.size(), &features) != VP8_STATUS_OK) {
        return bad("corrupt or truncated WebP image: cannot read its header");
    }
    if (features.has_animation != 0) return bad("animated WebP images are not supported");
    return ImageInfo{ImageFormat::kWebp, features.width, features.height, features.has_alpha ? 4 : 3};
}
#endif

// Pillow's alpha_composite(white, im).convert("RGB"), bit for bit: 7-bit fixed-point blend
// weights and a rounded division by 255. Opaque pixels are unchanged.
void rgba_over_white(const uint8_t* rgba, size_t count, uint8_t* rgb) {
    for (size_t i = 0; i < count; ++i, rgba += 4, rgb += 3) {
        const uint32_t a = rgba[3];
        for (int c = 0; c < 3; ++c) {
            if (a == 0) {
                rgb[c] = 255;
                continue;
            }
            const uint32_t t = rgba[c] * a * 128 + 255 * (255 - a) * 128 + (0x80 << 7);
            rgb[c] = static_cast<uint8_t>((((t >> 8) + t) >> 8) >> 7);
        }
    }
}

Result<RgbImage> decode_stb(std::string_view bytes, const ImageInfo& info) {
    const auto* p = reinterpret_cast<const stbi_uc*>(bytes.data());
    const int n = static_cast<int>(bytes.size());
    RgbImage img;
    img.width = info.width;
    img.height = info.height;
    const size_t count = static_cast<size_t>(info.width) * static_cast<size_t>(info.height);
    int w = 0, h = 0, comp = 0;
    if (info.format == ImageFormat::kPng && info.channels == 1 && stbi_is_16_bit_from_memory(p, n)) {
        // Pillow opens 16-bit grey PNGs as mode I;16, whose conversion to RGB clips at 255.
        std::unique_ptr<stbi_us, void (*)(void*)> px(stbi_load_16_from_memory(p, n, &w, &h, &comp, 1),
                                                     stbi_image_free);
        if (!px) {
            return bad(fmt::format("corrupt or truncated PNG image ({})", stb_reason()));
        }
        if (w != info.width || h != info.height) return bad("corrupt PNG image: size changed");
        img.data.resize(count * 3);
        for (size_t i = 0; i < count; ++i) {
            const auto v = static_cast<uint8_t>(std::min<unsigned>(px.get()[i], 255u));
            img.data[3 * i] = img.data[3 * i + 1] = img.data[3 * i + 2] = v;
        }
        return img;
    }
    // Decoded as RGBA (stb expands grey, palette and tRNS the way Pillow's convert("RGBA")
    // does; 16-bit samples keep their high byte), then composited over white.
    std::unique_ptr<stbi_uc, void (*)(void*)> px(stbi_load_from_memory(p, n, &w, &h, &comp, 4),
                                                 stbi_image_free);
    if (!px) {
        return bad(fmt::format("corrupt or truncated {} image ({})", image_format_name(info.format),
                               stb_reason()));
    }
    if (w != info.width || h != info.height) {
        return bad(fmt::format("corrupt {} image: size changed while decoding", image_format_name(info.format)));
    }
    img.data.resize(count * 3);
    rgba_over_white(px.get(), count, img.data.data());
    return img;
}

#ifdef AG_HAVE_WEBP
Result<RgbImage> decode_webp(std::string_view bytes, const ImageInfo& info) {
    RgbImage img;
    img.width = info.width;
    img.height = info.height;
    const size_t count = static_cast<size_t>(info.width) * info.height;
    std::vector<uint8_t> rgba(count * 4);
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    if (WebPDecodeRGBAInto(p, bytes.size(), rgba.data(), rgba.size(), info.width * 4) == nullptr) {
        return bad("corrupt or truncated WebP image");
    }
    img.data.resize(count * 3);
    rgba_over_white(rgba.data(), count, img.data.data());
    return img;
}
#endif

}  // namespace

const char* image_format_name(ImageFormat format) {
    switch (format) {
        case ImageFormat::kPng: return "PNG";
        case ImageFormat::kJpeg: return "JPEG";
        case ImageFormat::kWebp: return "WebP";
        case ImageFormat::kGif: return "GIF";
        case ImageFormat::kBmp: return "BMP";
        case ImageFormat::kTiff: return "TIFF";
        case ImageFormat::kUnknown: break;
    }
    return "unknown";
}

const char* image_format_mime(ImageFormat format) {
    switch (format) {
        case ImageFormat::kPng: return "image/png";
        case ImageFormat::kJpeg: return "image/jpeg";
        case ImageFormat::kWebp: return "image/webp";
        default: return "";
    }
}

ImageFormat sniff_image_format(std::string_view b) {
    if (starts_with(b, "\x89PNG\r\n\x1a\n")) return ImageFormat::kPng;
    if (starts_with(b, "\xff\xd8\xff")) return ImageFormat::kJpeg;
    if (b.size() >= 12 && starts_with(b, "RIFF") && b.substr(8, 4) == "WEBP") return ImageFormat::kWebp;
    if (starts_with(b, "GIF87a") || starts_with(b, "GIF89a")) return ImageFormat::kGif;
    if (starts_with(b, "BM")) return ImageFormat::kBmp;
    if (starts_with(b, std::string_view("II*\0", 4)) || starts_with(b, std::string_view("MM\0*", 4))) {
        return ImageFormat::kTiff;
    }
    return ImageFormat::kUnknown;
}

bool image_format_supported(ImageFormat format) {
    switch (format) {
        case ImageFormat::kPng:
        case ImageFormat::kJpeg: return true;
#ifdef AG_HAVE_WEBP
        case ImageFormat::kWebp: return true;
#endif
        default: return false;
    }
}

Result<ImageInfo> probe_image(std::string_view bytes, const ImageLimits& limits) {
    if (bytes.empty()) return bad("empty image data");
    if (bytes.size() > limits.max_encoded_bytes || bytes.size() > static_cast<size_t>(INT_MAX)) {
        return bad(fmt::format("image data is {} bytes, over the limit of {} bytes", bytes.size(),
                               limits.max_encoded_bytes));
    }
    const ImageFormat format = sniff_image_format(bytes);
    if (format == ImageFormat::kUnknown) {
        return bad(fmt::format("unrecognised image data ({} bytes): not a {} file", bytes.size(),
                               supported_list()));
    }
    if (!image_format_supported(format)) {
        return bad(fmt::format("unsupported image format {}: only {} images are accepted",
                               image_format_name(format), supported_list()));
    }
    int64_t header_w = 0, header_h = 0;
    int header_channels = 0;
    const bool have_header = header_size(bytes, format, header_w, header_h, header_channels);
    if (have_header) AG_RETURN_IF_ERROR(check_dims(format, header_w, header_h, limits));
    if (format == ImageFormat::kJpeg && detail::have_libjpeg()) {
        // libjpeg (not stb) decodes JPEG: do not let stb's narrower header support (baseline and
        // progressive only) refuse what libjpeg, like Pillow, accepts.
        if (!have_header) return bad("corrupt or truncated JPEG image: cannot read its header");
        return ImageInfo{format, static_cast<int>(header_w), static_cast<int>(header_h), header_channels};
    }
    Result<ImageInfo> info = ImageInfo{};
#ifdef AG_HAVE_WEBP
    if (format == ImageFormat::kWebp) {
        info = probe_webp(bytes);
    } else {
        info = probe_stb(bytes, format);
    }
#else
    info = probe_stb(bytes, format);
#endif
    if (!info.ok()) return info;
    AG_RETURN_IF_ERROR(check_dims(format, info->width, info->height, limits));
    return info;
}

Result<RgbImage> decode_image(std::string_view bytes, const ImageLimits& limits) {
    Result<ImageInfo> info = probe_image(bytes, limits);
    if (!info.ok()) return info.status();
#ifdef AG_HAVE_WEBP
    if (info->format == ImageFormat::kWebp) return decode_webp(bytes, *info);
#endif
    if (info->format == ImageFormat::kJpeg && detail::have_libjpeg()) {
        return detail::decode_jpeg_libjpeg(bytes, info->width, info->height);
    }
    return decode_stb(bytes, *info);
}

Result<RgbImage> decode_image_file(const std::string& path, const ImageLimits& limits) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) return Status(ErrorCode::kNotFound, fmt::format("cannot open image file '{}'", path));
    const std::streamoff size = in.tellg();
    if (size < 0) return Status(ErrorCode::kIoError, fmt::format("cannot read image file '{}'", path));
    if (static_cast<uint64_t>(size) > limits.max_encoded_bytes) {
        return bad(fmt::format("image file '{}' is {} bytes, over the limit of {} bytes", path, size,
                               limits.max_encoded_bytes));
    }
    std::string bytes(static_cast<size_t>(size), '\0');
    in.seekg(0);
    if (!in.read(bytes.data(), size)) {
        return Status(ErrorCode::kIoError, fmt::format("cannot read image file '{}'", path));
    }
    return decode_image(bytes, limits);
}

}  // namespace ag::mm
