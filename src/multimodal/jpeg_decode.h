// JPEG decoding with libjpeg(-turbo), the decoder Pillow uses, so JPEG pixels match
// transformers' input bit for bit (stb_image's IDCT and chroma upsampling differ by up to ~14
// grey levels near colour edges). Internal to the multimodal layer.
#pragma once

#include <string_view>

#include "base/status.h"
#include "multimodal/image_decode.h"

namespace ag::mm::detail {

// True when built with libjpeg (AG_HAVE_LIBJPEG); otherwise stb_image decodes JPEG.
bool have_libjpeg();
// Decodes to RGB like Pillow's open + convert("RGB"): grey replicated, CMYK/YCCK converted with
// Pillow's formula. The caller has already checked the header size against the limits.
Result<RgbImage> decode_jpeg_libjpeg(std::string_view bytes, int expected_width, int expected_height);

}  // namespace ag::mm::detail
