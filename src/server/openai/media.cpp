#include "server/openai/media.h"

#include <fmt/format.h>

#include <algorithm>

#include "multimodal/image_source.h"

namespace ag::server::openai {

namespace {

// The hash keys the prefix cache: decoded pixels (any encoding of the same image matches) mixed
// with the processor settings through the grid.
uint64_t content_hash(const mm::RgbImage& rgb, const EngineImage& im) {
    uint64_t h = mm::image_content_hash(rgb);
    for (int32_t v : {im.grid_t, im.grid_h, im.grid_w}) {
        h = (h ^ static_cast<uint64_t>(v)) * 0x100000001b3ull;
    }
    return h;
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
    auto rgb = mm::load_image_from_url(url, {opts.limits, opts.allowed_local_media_path});
    if (!rgb.ok()) return fail(rgb.status().message());
    auto inputs = mm::glm4v_preprocess(*rgb, opts.processor);
    if (!inputs.ok()) return fail(inputs.status().message());
    const Tensor& pv = inputs->pixel_values;
    const float* v = pv.as<float>();
    out.pixel_values.assign(v, v + pv.numel());
    out.grid_t = static_cast<int32_t>(inputs->grid_thw[0]);
    out.grid_h = static_cast<int32_t>(inputs->grid_thw[1]);
    out.grid_w = static_cast<int32_t>(inputs->grid_thw[2]);
    out.hash = content_hash(*rgb, out);
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

std::optional<ApiError> load_images(const MediaOptions& opts,
                                    const std::vector<chat::Message>& messages,
                                    std::vector<EngineImage>& images) {
    const std::vector<std::string> urls = collect_image_urls(messages);
    if (urls.empty()) return std::nullopt;
    if (!opts.enabled) {
        return bad_request("this model does not accept image input (it has no vision tower)",
                           "messages");
    }
    if (urls.size() > static_cast<size_t>(opts.limit_images)) {
        return bad_request(fmt::format("At most {} image(s) may be provided in one request "
                                       "(--limit-mm-per-prompt); this one has {}.",
                                       opts.limit_images, urls.size()),
                           "messages");
    }
    images.resize(urls.size());
    for (size_t i = 0; i < urls.size(); ++i) {
        if (auto e = load_image(opts, urls[i], i, images[i])) return e;
    }
    return std::nullopt;
}

}  // namespace ag::server::openai
