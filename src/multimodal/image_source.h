// Where an `image_url` may point: data URLs always; local files (`file://...` or a plain path)
// only under an allowed directory; http(s) never (the server has no network access).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "multimodal/image_decode.h"

namespace ag::mm {

struct ImageSourcePolicy {
    ImageLimits limits;
    // --allowed-local-media-path: a directory; empty = local files are refused.
    std::string allowed_local_media_path;
};

// Loads and decodes the image an OpenAI `image_url.url` names. Errors are kInvalidArgument with
// a client-facing message (http(s): "... not supported: no network access ...", a path outside
// the allowed directory, a missing file, plus every decode / data URL error).
Result<RgbImage> load_image_from_url(std::string_view url, const ImageSourcePolicy& policy);

// The canonical path of a local media file named by `url` (file:// URL or plain path) when it
// lies inside `allowed_dir` (empty: local files refused) and exists; kInvalidArgument messages
// name the media `kind` ("image", "audio").
Result<std::string> local_media_path(std::string_view url, const std::string& allowed_dir,
                                     std::string_view kind);

// Local path named by a file:// URL (percent-decoded; "file://localhost/x" and "file:///x").
Result<std::string> file_url_to_path(std::string_view url);

// 64-bit content hash of decoded pixels and size (FNV-1a over width, height, RGB bytes): equal
// images hash equal whatever their encoding, for keying cached image tokens.
uint64_t image_content_hash(const RgbImage& image);

}  // namespace ag::mm
