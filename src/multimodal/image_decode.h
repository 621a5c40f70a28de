// Image decoding: encoded bytes (PNG, JPEG, WebP when built with libwebp) -> 8-bit RGB.
//
// The result equals what transformers (5.x) feeds its image processors: convert_to_rgb composites
// any transparency onto WHITE (Pillow alpha_composite over an opaque white image, then
// convert("RGB")); vLLM's loader does the same for RGBA. So:
//   grey -> R=G=B; RGBA, grey+alpha, palette or grey/RGB with tRNS -> composited over white,
//   bit-exact with Pillow's fixed-point blend; palette -> palette colours; 16-bit samples -> high
//   byte, except 16-bit grey without alpha, which Pillow opens as I;16 and clips at 255.
// EXIF orientation is ignored (as Pillow's open/convert and vLLM's loader do).
//
// Limits are checked before any pixel is decoded: the encoded size first, then the header's
// width x height (a 60000x60000 header is refused at once). Every failure is a Status with
// ErrorCode::kInvalidArgument and a message meant for an API client.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ag::mm {

enum class ImageFormat { kUnknown, kPng, kJpeg, kWebp, kGif, kBmp, kTiff };

// "PNG", "JPEG", "WebP", "GIF", ... ("unknown" for kUnknown).
const char* image_format_name(ImageFormat format);
// MIME type of a supported format ("image/png", "image/jpeg", "image/webp"), "" otherwise.
const char* image_format_mime(ImageFormat format);
// Detects the format from the magic bytes only (no decoding).
ImageFormat sniff_image_format(std::string_view bytes);
// Whether decode_image() can decode this format in this build (WebP needs libwebp).
bool image_format_supported(ImageFormat format);

struct ImageLimits {
    size_t max_encoded_bytes = 32u << 20;  // 32 MiB of PNG/JPEG/WebP data
    int64_t max_pixels = 40'000'000;       // decoded width x height (8000x5000; 120 MB as RGB)
    int max_side = 20000;                  // either dimension
};

// Header facts, read without decoding pixels.
struct ImageInfo {
    ImageFormat format = ImageFormat::kUnknown;
    int width = 0;
    int height = 0;
    int channels = 0;  // as stored: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (palette PNGs report 3 or 4)
};

// Row-major 8-bit RGB, data.size() == height * width * 3.
struct RgbImage {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> data;

    uint8_t* pixel(int y, int x) { return data.data() + (static_cast<size_t>(y) * width + x) * 3; }
    const uint8_t* pixel(int y, int x) const {
        return data.data() + (static_cast<size_t>(y) * width + x) * 3;
    }
};

// Reads the header only; checks the encoded-size and pixel limits.
Result<ImageInfo> probe_image(std::string_view bytes, const ImageLimits& limits = {});
// Full decode to RGB (after probe_image's checks).
Result<RgbImage> decode_image(std::string_view bytes, const ImageLimits& limits = {});
// Reads a file (refusing files over limits.max_encoded_bytes before reading) and decodes it.
Result<RgbImage> decode_image_file(const std::string& path, const ImageLimits& limits = {});

}  // namespace ag::mm
