// Base64 and `data:` URLs carrying images (OpenAI `image_url` parts).
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "multimodal/image_decode.h"

namespace ag::mm {

// Standard base64 (RFC 4648 alphabet '+' '/'; the URL-safe '-' '_' are accepted too). ASCII
// whitespace is skipped; '=' padding may be present or omitted but nothing may follow it.
// Errors (kInvalidArgument) name the offending character and its offset.
Result<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);
// Upper bound of the decoded size of `text` (no validation).
size_t base64_decoded_size_bound(std::string_view text);

struct DataUrl {
    std::string mime_type;  // lower-cased, e.g. "image/png" ("" when the URL names none)
    std::string data;       // decoded bytes
};

// True when `url` starts with "data:" (case-insensitive).
bool is_data_url(std::string_view url);

// Parses `data:<mime>[;param=value...];base64,<payload>`. Only base64 payloads are accepted.
// Checks the payload size against limits.max_encoded_bytes before decoding it.
Result<DataUrl> parse_data_url(std::string_view url, const ImageLimits& limits = {});

// parse_data_url + MIME check + decode_image: the MIME type must be image/png, image/jpeg
// (image/jpg accepted), or image/webp (when supported), and must agree with the format sniffed
// from the bytes ("data URL says image/png but the data is a JPEG image").
Result<RgbImage> decode_image_data_url(std::string_view url, const ImageLimits& limits = {});

}  // namespace ag::mm
