#include "server/openai/media.h"

#include <fmt/format.h>

#include <filesystem>
#include <string_view>

#include "multimodal/data_url.h"

namespace ag::server::openai {

namespace {

namespace fs = std::filesystem;

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    }
    return true;
}

// FNV-1a over the pixel values and the grid: equal images give equal prefix-cache keys.
uint64_t content_hash(const EngineImage& im) {
    uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&h](const void* p, size_t n) {
        const auto* b = static_cast<const unsigned char*>(p);
        for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
    };
    const int32_t grid[3] = {im.grid_t, im.grid_h, im.grid_w};
    mix(grid, sizeof grid);
    mix(im.pixel_values.data(), im.pixel_values.size() * sizeof(float));
    return h;
}

// A local path for a file:// url or an absolute path, if it lies inside the allowed directory.
Result<std::string> local_path(const MediaOptions& opts, std::string_view url) {
    std::string_view path = url;
    if (starts_with_nocase(url, "file://")) path.remove_prefix(7);
    if (opts.allowed_local_media_path.empty()) {
        return Status(ErrorCode::kInvalidArgument,
                      "local image files are disabled; start the server with "
                      "--allowed-local-media-path DIR to allow files under DIR");
    }
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(fs::path(std::string(path)), ec);
    if (ec || !fs::is_regular_file(canonical, ec)) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("the image file '{}' does not exist or is not a file", path));
    }
    const fs::path root(opts.allowed_local_media_path);
    auto [r, c] = std::mismatch(root.begin(), root.end(), canonical.begin(), canonical.end());
    if (r != root.end()) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("the image file '{}' is outside the allowed media path '{}'",
                                  path, opts.allowed_local_media_path));
    }
    return canonical.string();
}

Result<mm::RgbImage> decode_url(const MediaOptions& opts, const std::string& url) {
    if (mm::is_data_url(url)) return mm::decode_image_data_url(url, opts.limits);
    if (starts_with_nocase(url, "http://") || starts_with_nocase(url, "https://")) {
        return Status(ErrorCode::kInvalidArgument,
                      "http(s) image URLs are not supported: this server does not fetch from the "
                      "network; send the image inline as a data: URL (data:image/png;base64,...)");
    }
    if (starts_with_nocase(url, "file://") || (!url.empty() && url[0] == '/')) {
        auto path = local_path(opts, url);
        if (!path.ok()) return path.status();
        return mm::decode_image_file(*path, opts.limits);
    }
    return Status(ErrorCode::kInvalidArgument,
                  "unsupported image url: expected a data: URL (data:image/png;base64,...) or, "
                  "with --allowed-local-media-path, a file:// URL");
}

}  // namespace

std::vector<std::string> collect_image_urls(const std::vector<chat::Message>& messages) {
    std::vector<std::string> urls;
    for (const chat::Message& m : messages) {
        for (const chat::ContentPart& p : m.parts) {
            if (p.type == chat::ContentPart::Type::kImage) urls.push_back(p.text);
        }
    }
    return urls;
}

std::optional<ApiError> load_image(const MediaOptions& opts, const std::string& url, size_t index,
                                   EngineImage& out) {
    auto fail = [index](const std::string& why) {
        return bad_request(fmt::format("image {}: {}", index, why), "messages");
    };
    auto rgb = decode_url(opts, url);
    if (!rgb.ok()) return fail(rgb.status().message());
    auto inputs = mm::glm4v_preprocess(*rgb, opts.processor);
    if (!inputs.ok()) return fail(inputs.status().message());
    const Tensor& pv = inputs->pixel_values;
    const float* v = pv.as<float>();
    out.pixel_values.assign(v, v + pv.numel());
    out.grid_t = static_cast<int32_t>(inputs->grid_thw[0]);
    out.grid_h = static_cast<int32_t>(inputs->grid_thw[1]);
    out.grid_w = static_cast<int32_t>(inputs->grid_thw[2]);
    out.hash = content_hash(out);
    return std::nullopt;
}

std::optional<ApiError> expand_image_tokens(const MediaOptions& opts,
                                            const std::vector<EngineImage>& images,
                                            std::vector<int32_t>& ids) {
    std::vector<int32_t> out;
    out.reserve(ids.size());
    size_t k = 0;
    for (int32_t id : ids) {
        if (id != opts.image_token_id) {
            out.push_back(id);
            continue;
        }
        if (k >= images.size()) break;
        const EngineImage& im = images[k++];
        const int64_t n = mm::glm4v_num_image_tokens({im.grid_t, im.grid_h, im.grid_w},
                                                     opts.processor.merge_size);
        out.insert(out.end(), static_cast<size_t>(n), opts.image_token_id);
    }
    const auto n_placeholders = static_cast<size_t>(
        std::count(ids.begin(), ids.end(), opts.image_token_id));
    if (n_placeholders != images.size()) {
        return bad_request(fmt::format("the prompt has {} image placeholders but {} images were "
                                       "given",
                                       n_placeholders, images.size()),
                           "messages");
    }
    ids = std::move(out);
    return std::nullopt;
}

}  // namespace ag::server::openai
