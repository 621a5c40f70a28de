// Images of a chat request: `image_url` urls → bytes → RGB → GLM-4.1V pixel patches, and the
// expansion of each image's single placeholder token into its run of image tokens.
// URL policy (docs/api.md): data: URLs (base64 PNG/JPEG[/WebP]); file:// URLs or absolute paths
// only inside --allowed-local-media-path; http(s) is refused (the server has no network access).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ag/engine.h"
#include "chat/chat_template.h"
#include "multimodal/glm4v_image_processor.h"
#include "multimodal/image_decode.h"
#include "server/openai/api_error.h"

namespace ag::server {

struct MediaOptions {
    bool enabled = false;                  ///< the model has a vision tower
    int32_t image_token_id = -1;           ///< the <|image|> placeholder id
    int32_t limit_images = 999;            ///< --limit-mm-per-prompt image count
    std::string allowed_local_media_path;  ///< canonical directory; empty: no local files
    mm::ImageLimits limits;
    mm::Glm4vImageProcessorConfig processor;
};

}  // namespace ag::server

namespace ag::server::openai {

/// The image urls of `messages` in prompt order (every kImage part).
std::vector<std::string> collect_image_urls(const std::vector<chat::Message>& messages);

/// Every image of `messages` loaded (load_image) in prompt order; a 400 when the model has no
/// vision tower or there are more than --limit-mm-per-prompt.
std::optional<ApiError> load_images(const MediaOptions& opts,
                                    const std::vector<chat::Message>& messages,
                                    std::vector<EngineImage>& images);

/// Loads, decodes and preprocesses one image; every failure is a 400 naming the image (index).
std::optional<ApiError> load_image(const MediaOptions& opts, const std::string& url, size_t index,
                                   EngineImage& out);

/// Replaces the k-th image placeholder token in `ids` by images[k]'s run of placeholder tokens
/// (grid_t·grid_h·grid_w / merge²). 400 when the prompt's placeholders do not match the images.
std::optional<ApiError> expand_image_tokens(const MediaOptions& opts,
                                            const std::vector<EngineImage>& images,
                                            std::vector<int32_t>& ids);

}  // namespace ag::server::openai
