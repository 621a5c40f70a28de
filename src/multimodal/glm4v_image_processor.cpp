#include "multimodal/glm4v_image_processor.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ag::mm {
namespace {

using json = nlohmann::json;

Status bad(std::string message) { return {ErrorCode::kInvalidArgument, std::move(message)}; }

// Python's round() on a float: nearest integer, ties to even.
double round_half_even(double x) {
    const double f = std::floor(x);
    const double diff = x - f;
    if (diff > 0.5) return f + 1.0;
    if (diff < 0.5) return f;
    return std::fmod(f, 2.0) == 0.0 ? f : f + 1.0;
}

// Reads an integer-valued number (JSON int, or a float with an integral value).
Status get_int(const json& v, const std::string& key, int64_t& out) {
    if (v.is_number_integer()) {
        out = v.get<int64_t>();
        return {};
    }
    if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() && std::fabs(v.get<double>()) < 9e15) {
        out = static_cast<int64_t>(v.get<double>());
        return {};
    }
    return bad(fmt::format("'{}' must be an integer, got {}", key, v.dump()));
}

Status get_int(const json& v, const std::string& key, int& out) {
    int64_t x = 0;
    AG_RETURN_IF_ERROR(get_int(v, key, x));
    if (x < INT32_MIN || x > INT32_MAX) return bad(fmt::format("'{}' out of range: {}", key, x));
    out = static_cast<int>(x);
    return {};
}

Status get_bool(const json& v, const std::string& key, bool& out) {
    if (!v.is_boolean()) return bad(fmt::format("'{}' must be true or false, got {}", key, v.dump()));
    out = v.get<bool>();
    return {};
}

Status get_triple(const json& v, const std::string& key, std::array<float, 3>& out) {
    if (v.is_number()) {
        out.fill(static_cast<float>(v.get<double>()));
        return {};
    }
    if (!v.is_array() || v.size() != 3) return bad(fmt::format("'{}' must be a list of 3 numbers", key));
    for (size_t i = 0; i < 3; ++i) {
        if (!v[i].is_number()) return bad(fmt::format("'{}' must be a list of 3 numbers", key));
        out[i] = static_cast<float>(v[i].get<double>());  // numpy: Python float -> float32
    }
    return {};
}

Status apply_size(const json& size, Glm4vImageProcessorConfig& c) {
    if (!size.is_object()) return bad("'size' must be an object like {\"shortest_edge\": N, \"longest_edge\": M}");
    for (const auto& [key, value] : size.items()) {
        if (key == "shortest_edge" || key == "min_pixels") {
            AG_RETURN_IF_ERROR(get_int(value, "size." + key, c.min_pixels));
        } else if (key == "longest_edge" || key == "max_pixels") {
            AG_RETURN_IF_ERROR(get_int(value, "size." + key, c.max_pixels));
        } else {
            return bad(fmt::format("unsupported key 'size.{}' (expected shortest_edge/longest_edge)", key));
        }
    }
    return {};
}

// One key of preprocessor_config.json or of --mm-processor-kwargs. Returns false in `known`
// for keys it does not handle.
Status apply_key(const std::string& key, const json& v, Glm4vImageProcessorConfig& c, bool& known) {
    known = true;
    if (key == "size") return apply_size(v, c);
    if (key == "min_pixels") return get_int(v, key, c.min_pixels);
    if (key == "max_pixels") return get_int(v, key, c.max_pixels);
    if (key == "patch_size") return get_int(v, key, c.patch_size);
    if (key == "merge_size") return get_int(v, key, c.merge_size);
    if (key == "temporal_patch_size") return get_int(v, key, c.temporal_patch_size);
    if (key == "image_mean") return get_triple(v, key, c.image_mean);
    if (key == "image_std") return get_triple(v, key, c.image_std);
    if (key == "do_resize") return get_bool(v, key, c.do_resize);
    if (key == "do_rescale") return get_bool(v, key, c.do_rescale);
    if (key == "do_normalize") return get_bool(v, key, c.do_normalize);
    if (key == "rescale_factor") {
        if (!v.is_number()) return bad("'rescale_factor' must be a number");
        c.rescale_factor = v.get<double>();
        return {};
    }
    if (key == "resample") {
        int r = 0;
        AG_RETURN_IF_ERROR(get_int(v, key, r));
        if (r < 0 || r > 5) return bad(fmt::format("'resample' must be a Pillow filter code 0..5, got {}", r));
        c.resample = static_cast<ResampleFilter>(r);
        return {};
    }
    known = false;
    return {};
}

Result<json> parse_object(std::string_view text, const char* what) {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Status(ErrorCode::kParseError, fmt::format("{}: not valid JSON", what));
    if (!j.is_object()) return Status(ErrorCode::kParseError, fmt::format("{}: expected a JSON object", what));
    return j;
}

}  // namespace

Result<Glm4vImageProcessorConfig> Glm4vImageProcessorConfig::from_json(std::string_view json_text) {
    Result<json> j = parse_object(json_text, "preprocessor_config.json");
    if (!j.ok()) return j.status();
    Glm4vImageProcessorConfig c;
    c.max_pixels = 28 * 28 * 15000;  // transformers' class default when the file has no "size"
    // "size" first, so that top-level min_pixels/max_pixels override it.
    if (j->contains("size")) AG_RETURN_IF_ERROR(apply_size((*j)["size"], c));
    for (const auto& [key, value] : j->items()) {
        if (key == "size") continue;
        bool known = false;
        AG_RETURN_IF_ERROR(apply_key(key, value, c, known));
    }
    if (c.resample == ResampleFilter::kNearest) {
        return Status(ErrorCode::kUnsupported, "preprocessor_config.json: resample=0 (nearest) is not supported");
    }
    AG_RETURN_IF_ERROR(c.validate());
    return c;
}

Result<Glm4vImageProcessorConfig> Glm4vImageProcessorConfig::from_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status(ErrorCode::kNotFound, fmt::format("cannot open '{}'", path));
    std::ostringstream ss;
    ss << in.rdbuf();
    Result<Glm4vImageProcessorConfig> c = from_json(ss.str());
    if (!c.ok()) return Status(c.status().code(), fmt::format("{}: {}", path, c.status().message()));
    return c;
}

Status Glm4vImageProcessorConfig::apply_overrides(std::string_view kwargs_json) {
    Result<json> j = parse_object(kwargs_json, "--mm-processor-kwargs");
    if (!j.ok()) return Status(ErrorCode::kInvalidArgument, j.status().message());
    Glm4vImageProcessorConfig c = *this;
    for (const auto& [key, value] : j->items()) {
        bool known = false;
        Status s = apply_key(key, value, c, known);
        if (!s.ok()) return bad("--mm-processor-kwargs: " + s.message());
        if (!known) {
            return bad(fmt::format("--mm-processor-kwargs: unsupported key '{}' (supported: max_pixels, "
                                   "min_pixels, size, patch_size, merge_size, temporal_patch_size, image_mean, "
                                   "image_std, do_resize, do_rescale, do_normalize, rescale_factor, resample)",
                                   key));
        }
    }
    if (c.resample == ResampleFilter::kNearest) return bad("--mm-processor-kwargs: resample=0 (nearest) is not supported");
    Status s = c.validate();
    if (!s.ok()) return bad("--mm-processor-kwargs: " + s.message());
    *this = c;
    return {};
}

Status Glm4vImageProcessorConfig::validate() const {
    if (patch_size < 1 || merge_size < 1 || temporal_patch_size < 1 || patch_size > 1024 || merge_size > 64 ||
        temporal_patch_size > 64) {
        return bad(fmt::format("invalid patch_size/merge_size/temporal_patch_size {}/{}/{}", patch_size, merge_size,
                               temporal_patch_size));
    }
    if (min_pixels < 1 || max_pixels < 1 || min_pixels > max_pixels) {
        return bad(fmt::format("invalid pixel bounds: min_pixels (size.shortest_edge) {} and max_pixels "
                               "(size.longest_edge) {} must be positive with min <= max",
                               min_pixels, max_pixels));
    }
    for (int i = 0; i < 3; ++i) {
        if (image_std[i] == 0.0f || !std::isfinite(image_std[i]) || !std::isfinite(image_mean[i])) {
            return bad("image_std must be finite and non-zero, image_mean finite");
        }
    }
    return {};
}

Result<ResizedSize> glm4v_smart_resize(int height, int width, const Glm4vImageProcessorConfig& c) {
    if (height <= 0 || width <= 0) return bad(fmt::format("invalid image size {}x{}", width, height));
    const int factor = c.factor();
    const int64_t num_frames = c.temporal_patch_size;  // a still image is passed as one temporal patch
    const int64_t temporal_factor = c.temporal_patch_size;
    // All arithmetic below mirrors the Python (float = IEEE double, int() truncates).
    double h = height;
    double w = width;
    if (height < factor || width < factor) {
        const double scale = std::max(static_cast<double>(factor) / height, static_cast<double>(factor) / width);
        h = std::trunc(height * scale);
        w = std::trunc(width * scale);
    }
    if (std::max(h, w) / std::min(h, w) > 200) {
        return bad(fmt::format("image aspect ratio must be at most 200:1, got {}x{} ({:.4g}:1)", width, height,
                               std::max(h, w) / std::min(h, w)));
    }
    int64_t h_bar = static_cast<int64_t>(round_half_even(h / factor)) * factor;
    int64_t w_bar = static_cast<int64_t>(round_half_even(w / factor)) * factor;
    const int64_t t_bar =
        static_cast<int64_t>(round_half_even(static_cast<double>(num_frames) / temporal_factor)) * temporal_factor;
    const double hwn = static_cast<double>(num_frames) * h * w;  // exact: < 2^53
    if (t_bar * h_bar * w_bar > c.max_pixels) {
        const double beta = std::sqrt(hwn / static_cast<double>(c.max_pixels));
        h_bar = std::max<int64_t>(factor, static_cast<int64_t>(std::floor(h / beta / factor)) * factor);
        w_bar = std::max<int64_t>(factor, static_cast<int64_t>(std::floor(w / beta / factor)) * factor);
    } else if (t_bar * h_bar * w_bar < c.min_pixels) {
        const double beta = std::sqrt(static_cast<double>(c.min_pixels) / hwn);
        h_bar = static_cast<int64_t>(std::ceil(h * beta / factor)) * factor;
        w_bar = static_cast<int64_t>(std::ceil(w * beta / factor)) * factor;
    }
    if (h_bar > 1'000'000 || w_bar > 1'000'000) {
        return bad(fmt::format("image {}x{} would be resized to {}x{}: too large", width, height, w_bar, h_bar));
    }
    return ResizedSize{static_cast<int>(h_bar), static_cast<int>(w_bar)};
}

int64_t glm4v_num_image_tokens(const std::array<int64_t, 3>& grid_thw, int merge_size) {
    return grid_thw[0] * grid_thw[1] * grid_thw[2] / (static_cast<int64_t>(merge_size) * merge_size);
}

Result<std::array<int64_t, 3>> glm4v_grid_thw(int height, int width, const Glm4vImageProcessorConfig& c) {
    int64_t h = height, w = width;
    if (c.do_resize) {
        Result<ResizedSize> r = glm4v_smart_resize(height, width, c);
        if (!r.ok()) return r.status();
        h = r->height;
        w = r->width;
    } else if (height % c.factor() != 0 || width % c.factor() != 0) {
        return bad(fmt::format("with do_resize=false the image size ({}x{}) must be a multiple of {}", width, height,
                               c.factor()));
    }
    return std::array<int64_t, 3>{1, h / c.patch_size, w / c.patch_size};
}

Result<int64_t> glm4v_image_token_count(int height, int width, const Glm4vImageProcessorConfig& c) {
    Result<std::array<int64_t, 3>> g = glm4v_grid_thw(height, width, c);
    if (!g.ok()) return g.status();
    return glm4v_num_image_tokens(*g, c.merge_size);
}

Result<RgbImage> glm4v_resize_image(const RgbImage& image, const Glm4vImageProcessorConfig& c) {
    AG_RETURN_IF_ERROR(c.validate());
    if (image.width <= 0 || image.height <= 0 ||
        image.data.size() != static_cast<size_t>(image.width) * image.height * 3) {
        return bad("invalid RGB image buffer");
    }
    if (!c.do_resize) {
        Result<std::array<int64_t, 3>> g = glm4v_grid_thw(image.height, image.width, c);
        if (!g.ok()) return g.status();
        return image;
    }
    if (c.resample == ResampleFilter::kNearest) return Status(ErrorCode::kUnsupported, "nearest resampling");
    Result<ResizedSize> r = glm4v_smart_resize(image.height, image.width, c);
    if (!r.ok()) return r.status();
    return resize_rgb(image, r->width, r->height, c.resample);
}

Result<Glm4vImageInputs> glm4v_preprocess(const RgbImage& image, const Glm4vImageProcessorConfig& c) {
    Result<RgbImage> resized = glm4v_resize_image(image, c);
    if (!resized.ok()) return resized.status();
    const RgbImage& img = *resized;
    const int P = c.patch_size, M = c.merge_size, T = c.temporal_patch_size;
    const int64_t gh = img.height / P, gw = img.width / P;

    // Per-channel lookup of the 256 possible normalised values, computed as numpy does:
    // rescale in f64 then cast to f32; normalise in f32.
    std::array<std::array<float, 256>, 3> lut{};
    for (int ch = 0; ch < 3; ++ch) {
        for (int v = 0; v < 256; ++v) {
            float x = static_cast<float>(v);
            if (c.do_rescale) x = static_cast<float>(static_cast<double>(v) * c.rescale_factor);
            if (c.do_normalize) x = (x - c.image_mean[ch]) / c.image_std[ch];
            lut[ch][v] = x;
        }
    }

    Glm4vImageInputs out;
    out.grid_thw = {1, gh, gw};
    out.merge_size = M;
    const int64_t dim = c.patch_dim();
    out.pixel_values = Tensor::empty(DType::kF32, {gh * gw, dim});
    float* dst = out.pixel_values.mutable_as<float>();
    int64_t row = 0;
    for (int64_t by = 0; by < gh / M; ++by) {
        for (int64_t bx = 0; bx < gw / M; ++bx) {
            for (int iy = 0; iy < M; ++iy) {
                for (int ix = 0; ix < M; ++ix, ++row) {
                    const int64_t y0 = (by * M + iy) * P, x0 = (bx * M + ix) * P;
                    float* r = dst + row * dim;
                    for (int ch = 0; ch < 3; ++ch) {
                        float* first = r + static_cast<int64_t>(ch) * T * P * P;  // t = 0 slice
                        for (int y = 0; y < P; ++y) {
                            const uint8_t* src = img.pixel(static_cast<int>(y0 + y), static_cast<int>(x0));
                            for (int x = 0; x < P; ++x) first[y * P + x] = lut[ch][src[3 * x + ch]];
                        }
                        for (int t = 1; t < T; ++t) std::copy(first, first + P * P, first + t * P * P);
                    }
                }
            }
        }
    }
    return out;
}

}  // namespace ag::mm
