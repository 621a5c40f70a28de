#include "multimodal/glm4v_image_processor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/check.h"
#include "multimodal/jpeg_decode.h"
#include "test_util.h"

namespace ag::mm {
namespace {

using test::kImageDir;
using test::read_bytes;

constexpr int64_t kMax = 9633792;  // GLM-4.1V size.longest_edge
constexpr int64_t k5M = 5000000;   // AutoGLM's vLLM --mm-processor-kwargs

Glm4vImageProcessorConfig cfg(int64_t max_pixels, int64_t min_pixels = 12544) {
    Glm4vImageProcessorConfig c;
    c.max_pixels = max_pixels;
    c.min_pixels = min_pixels;
    return c;
}

// glm4v.md §3.1.4 token-count test vectors.
TEST(Glm4vSmartResize, SpecTokenCountVectors) {
    struct Row {
        int h, w;
        int64_t max;  // 0 = either
        int hb, wb, gh, gw, tokens;
    };
    const Row rows[] = {
        {2400, 1080, kMax, 2408, 1092, 172, 78, 3354}, {2400, 1080, k5M, 2352, 1036, 168, 74, 3108},
        {2340, 1080, kMax, 2352, 1092, 168, 78, 3276}, {2340, 1080, k5M, 2324, 1064, 166, 76, 3154},
        {1600, 720, 0, 1596, 728, 114, 52, 1482},      {3200, 1440, kMax, 3192, 1428, 228, 102, 5814},
        {3000, 4000, kMax, 1876, 2520, 134, 180, 6030}, {4000, 6000, kMax, 1792, 2688, 128, 192, 6144},
        {1920, 1080, 0, 1932, 1092, 138, 78, 2691},    {336, 336, 0, 336, 336, 24, 24, 144},
        {224, 224, 0, 224, 224, 16, 16, 64},           {56, 84, 0, 84, 112, 6, 8, 12},
        {28, 28, 0, 84, 84, 6, 6, 9},                  {126, 1000, 0, 112, 1008, 8, 72, 144},
    };
    for (const Row& r : rows) {
        for (int64_t max : {kMax, k5M}) {
            if (r.max != 0 && r.max != max) continue;
            SCOPED_TRACE(testing::Message() << r.h << "x" << r.w << " max " << max);
            const Glm4vImageProcessorConfig c = cfg(max);
            Result<ResizedSize> s = glm4v_smart_resize(r.h, r.w, c);
            ASSERT_TRUE(s.ok()) << s.status().message();
            EXPECT_EQ(s->height, r.hb);
            EXPECT_EQ(s->width, r.wb);
            Result<std::array<int64_t, 3>> g = glm4v_grid_thw(r.h, r.w, c);
            ASSERT_TRUE(g.ok());
            EXPECT_EQ((*g)[0], 1);
            EXPECT_EQ((*g)[1], r.gh);
            EXPECT_EQ((*g)[2], r.gw);
            EXPECT_EQ(glm4v_image_token_count(r.h, r.w, c).value(), r.tokens);
            EXPECT_EQ(glm4v_num_image_tokens(*g, 2), r.tokens);
        }
    }
}

TEST(Glm4vSmartResize, ErrorsOnExtremeAspectRatioAndBadSize) {
    const Glm4vImageProcessorConfig c = cfg(kMax);
    Result<ResizedSize> r = glm4v_smart_resize(1, 300, c);  // upscaled to 28x8400: ratio 300
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("aspect ratio"), std::string::npos);
    EXPECT_FALSE(glm4v_smart_resize(10, 2001, c).ok());
    EXPECT_TRUE(glm4v_smart_resize(10, 2000, c).ok());  // exactly 200 is allowed
    EXPECT_FALSE(glm4v_smart_resize(0, 10, c).ok());
}

nlohmann::json golden() {
    const std::string text = read_bytes(kImageDir + "golden.json");
    return nlohmann::json::parse(text);
}

// Thousands of (h, w, min, max) cases evaluated by transformers' smart_resize itself.
TEST(Glm4vSmartResize, MatchesTransformersOnGoldenCases) {
    const nlohmann::json g = golden();
    const auto& cases = g.at("smart_resize_cases_h_w_min_max_hbar_wbar");
    ASSERT_GT(cases.size(), 1000u);
    int failures = 0;
    for (const auto& k : cases) {
        const Glm4vImageProcessorConfig c = cfg(k[3].get<int64_t>(), k[2].get<int64_t>());
        Result<ResizedSize> r = glm4v_smart_resize(k[0].get<int>(), k[1].get<int>(), c);
        ASSERT_TRUE(r.ok()) << k.dump();
        if (r->height != k[4].get<int>() || r->width != k[5].get<int>()) {
            if (++failures < 10) ADD_FAILURE() << k.dump() << " gave " << r->height << "x" << r->width;
        }
    }
    EXPECT_EQ(failures, 0);
}

RgbImage decode_or_die(const std::string& path) {
    Result<RgbImage> r = decode_image_file(path);
    AG_CHECK(r.ok(), "{}: {}", path, r.status().message());
    return std::move(r).value();
}

// Every golden image (PNG grey/RGB/RGBA/LA/palette+tRNS/16-bit, JPEG 4:2:0/4:4:4/grey/CMYK,
// WebP lossless/lossy+alpha; upscales, downscales, both pass orders, no-resize): our decode +
// resize must equal HF's uint8 image exactly, and so every pixel_values value. (With the stb_image
// JPEG fallback, JPEGs are only required to be within one grey level.)
TEST(Glm4vPreprocess, MatchesTransformersGoldens) {
    const nlohmann::json g = golden();
    ASSERT_GE(g.at("images").size(), 10u);
    for (const auto& e : g.at("images")) {
        const std::string name = e.at("name");
        const std::string file = e.at("file");
        SCOPED_TRACE(name);
        if (file.ends_with(".webp") && !image_format_supported(ImageFormat::kWebp)) continue;
        const Glm4vImageProcessorConfig c = cfg(e.at("max_pixels").get<int64_t>(), e.at("min_pixels").get<int64_t>());
        const RgbImage img = decode_or_die(kImageDir + file);
        ASSERT_EQ(img.width, e.at("width").get<int>());
        ASSERT_EQ(img.height, e.at("height").get<int>());

        // 1. The resized uint8 image.
        const RgbImage hf = decode_or_die(kImageDir + name + ".hf.png");
        Result<RgbImage> ours = glm4v_resize_image(img, c);
        ASSERT_TRUE(ours.ok()) << ours.status().message();
        ASSERT_EQ(ours->width, hf.width);
        ASSERT_EQ(ours->height, hf.height);
        int max_diff = 0;
        size_t n_diff = 0;
        for (size_t i = 0; i < hf.data.size(); ++i) {
            const int d = std::abs(static_cast<int>(ours->data[i]) - static_cast<int>(hf.data[i]));
            max_diff = std::max(max_diff, d);
            n_diff += d != 0;
        }
        // libjpeg-turbo decodes JPEG exactly as Pillow does; the stb_image fallback may not.
        const bool lossy = file.ends_with(".jpg") && !detail::have_libjpeg();
        const int allowed = lossy ? 16 : 0;  // grey levels
        EXPECT_LE(max_diff, allowed) << n_diff << " of " << hf.data.size() << " values differ";

        // 2. pixel_values and grid.
        Result<Glm4vImageInputs> in = glm4v_preprocess(img, c);
        ASSERT_TRUE(in.ok()) << in.status().message();
        const auto& grid = e.at("grid_thw");
        EXPECT_EQ(in->grid_thw[0], grid[0].get<int64_t>());
        EXPECT_EQ(in->grid_thw[1], grid[1].get<int64_t>());
        EXPECT_EQ(in->grid_thw[2], grid[2].get<int64_t>());
        EXPECT_EQ(in->num_tokens(), e.at("num_tokens").get<int64_t>());
        const int64_t n_rows = in->grid_thw[1] * in->grid_thw[2];
        ASSERT_EQ(in->pixel_values.shape(), (std::vector<int64_t>{n_rows, 1176}));
        const float* pv = in->pixel_values.as<float>();

        // HF's full pixel_values = the processor applied (without resizing) to HF's uint8 image;
        // the stored float rows below prove that this reconstruction is bit-exact.
        Glm4vImageProcessorConfig no_resize = c;
        no_resize.do_resize = false;
        Result<Glm4vImageInputs> hf_in = glm4v_preprocess(hf, no_resize);
        ASSERT_TRUE(hf_in.ok());
        const float* hpv = hf_in->pixel_values.as<float>();
        const std::string rows_bytes = read_bytes(kImageDir + name + ".rows.f32");
        const auto& rows = e.at("rows");
        ASSERT_EQ(rows_bytes.size(), rows.size() * 1176 * sizeof(float));
        for (size_t k = 0; k < rows.size(); ++k) {
            const int64_t row = rows[k].get<int64_t>();
            EXPECT_EQ(std::memcmp(rows_bytes.data() + k * 1176 * sizeof(float), hpv + row * 1176,
                                  1176 * sizeof(float)),
                      0)
                << "HF row " << row;
            if (!lossy) {
                EXPECT_EQ(std::memcmp(rows_bytes.data() + k * 1176 * sizeof(float), pv + row * 1176,
                                      1176 * sizeof(float)),
                          0)
                    << "our row " << row;
            }
        }
        // `allowed` grey levels over the smallest std (0 = bit-exact).
        const float tol = static_cast<float>(allowed) * (1.0f / 255.0f) / 0.26130258f + 1e-6f * allowed;
        float worst = 0.0f;
        for (int64_t i = 0; i < n_rows * 1176; ++i) worst = std::max(worst, std::fabs(pv[i] - hpv[i]));
        EXPECT_LE(worst, tol);
    }
}

// The documented patch order (glm4v.md §3.1.5), independently of HF.
TEST(Glm4vPreprocess, PatchOrderIsMergeWindowThenChannelTimeRowCol) {
    Glm4vImageProcessorConfig c;
    c.do_normalize = false;
    c.do_rescale = false;
    RgbImage img;
    img.width = 84;  // grid 4 x 6 patches
    img.height = 56;
    img.data.resize(84 * 56 * 3);
    for (int y = 0; y < 56; ++y)
        for (int x = 0; x < 84; ++x)
            for (int ch = 0; ch < 3; ++ch) img.pixel(y, x)[ch] = static_cast<uint8_t>((y * 7 + x * 3 + ch * 50) % 256);
    c.min_pixels = 1;  // 56x84 stays as is
    Result<Glm4vImageInputs> in = glm4v_preprocess(img, c);
    ASSERT_TRUE(in.ok()) << in.status().message();
    ASSERT_EQ(in->grid_thw[1], 4);
    ASSERT_EQ(in->grid_thw[2], 6);
    EXPECT_EQ(in->num_tokens(), 6);
    const float* pv = in->pixel_values.as<float>();
    const int gw = 6;
    for (int r = 0; r < 4; ++r) {
        for (int col = 0; col < 6; ++col) {
            const int by = r / 2, iy = r % 2, bx = col / 2, ix = col % 2;
            const int n = ((by * (gw / 2) + bx) * 2 + iy) * 2 + ix;
            for (int ch = 0; ch < 3; ++ch)
                for (int t = 0; t < 2; ++t)
                    for (int y = 0; y < 14; ++y)
                        for (int x = 0; x < 14; ++x) {
                            const float want = img.pixel(14 * r + y, 14 * col + x)[ch];
                            ASSERT_EQ(pv[n * 1176 + ((ch * 2 + t) * 14 + y) * 14 + x], want)
                                << r << "," << col << " ch " << ch << " t " << t;
                        }
        }
    }
}

TEST(Glm4vConfig, ParsesRealPreprocessorConfig) {
    const char* text = R"({
      "size": {"shortest_edge": 12544, "longest_edge": 9633792},
      "do_rescale": true, "patch_size": 14, "temporal_patch_size": 2, "merge_size": 2,
      "image_mean": [0.48145466, 0.4578275, 0.40821073],
      "image_std": [0.26862954, 0.26130258, 0.27577711],
      "image_processor_type": "Glm4vImageProcessor", "processor_class": "Glm4vProcessor"})";
    Result<Glm4vImageProcessorConfig> c = Glm4vImageProcessorConfig::from_json(text);
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->min_pixels, 12544);
    EXPECT_EQ(c->max_pixels, 9633792);
    EXPECT_EQ(c->patch_size, 14);
    EXPECT_EQ(c->merge_size, 2);
    EXPECT_EQ(c->temporal_patch_size, 2);
    EXPECT_EQ(c->factor(), 28);
    EXPECT_EQ(c->patch_dim(), 1176);
    EXPECT_EQ(c->image_std[2], 0.27577711f);
    EXPECT_EQ(c->resample, ResampleFilter::kBicubic);
    EXPECT_EQ(glm4v_image_token_count(2400, 1080, *c).value(), 3354);

    // AutoGLM's reference deployment: --mm-processor-kwargs '{"max_pixels": 5000000}'.
    ASSERT_TRUE(c->apply_overrides(R"({"max_pixels": 5000000})").ok());
    EXPECT_EQ(c->max_pixels, 5000000);
    EXPECT_EQ(glm4v_image_token_count(2400, 1080, *c).value(), 3108);
    ASSERT_TRUE(c->apply_overrides(R"({"size": {"shortest_edge": 6272, "longest_edge": 1003520}})").ok());
    EXPECT_EQ(c->min_pixels, 6272);
    EXPECT_EQ(c->max_pixels, 1003520);
}

TEST(Glm4vConfig, DefaultsAndKeyVariants) {
    Result<Glm4vImageProcessorConfig> c = Glm4vImageProcessorConfig::from_json("{}");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->max_pixels, 28 * 28 * 15000);  // transformers' class default without "size"
    EXPECT_EQ(c->min_pixels, 12544);
    c = Glm4vImageProcessorConfig::from_json(R"({"size": {"min_pixels": 100, "max_pixels": 200000}})");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->min_pixels, 100);
    EXPECT_EQ(c->max_pixels, 200000);
    c = Glm4vImageProcessorConfig::from_json(
        R"({"max_pixels": 300000, "size": {"shortest_edge": 1, "longest_edge": 9}, "resample": 2})");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->max_pixels, 300000);
    EXPECT_EQ(c->resample, ResampleFilter::kBilinear);
    EXPECT_EQ(Glm4vImageProcessorConfig().max_pixels, kMax);  // struct defaults = the real file
}

TEST(Glm4vConfig, RejectsBadInput) {
    EXPECT_EQ(Glm4vImageProcessorConfig::from_json("not json").status().code(), ErrorCode::kParseError);
    EXPECT_FALSE(Glm4vImageProcessorConfig::from_json(R"({"patch_size": "14"})").ok());
    EXPECT_FALSE(Glm4vImageProcessorConfig::from_json(R"({"size": {"shortest_edge": 10, "longest_edge": 5}})").ok());
    EXPECT_FALSE(Glm4vImageProcessorConfig::from_json(R"({"image_std": [1, 0, 1]})").ok());
    EXPECT_FALSE(Glm4vImageProcessorConfig::from_json(R"({"resample": 0})").ok());
    Glm4vImageProcessorConfig c;
    Status s = c.apply_overrides(R"({"max_pixel": 5})");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(s.message().find("unsupported key 'max_pixel'"), std::string::npos);
    EXPECT_FALSE(c.apply_overrides("[1]").ok());
    EXPECT_FALSE(c.apply_overrides(R"({"max_pixels": -1})").ok());
    EXPECT_FALSE(c.apply_overrides(R"({"max_pixels": 1.5})").ok());
    EXPECT_EQ(c.max_pixels, kMax);  // failed overrides leave the config unchanged
}

}  // namespace
}  // namespace ag::mm
