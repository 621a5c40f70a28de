#include "multimodal/image_decode.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>

#include "test_util.h"

namespace ag::mm {
namespace {

using test::kImageDir;
using test::read_bytes;

std::string be32(uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

uint32_t crc32(const std::string& data) {
    uint32_t crc = 0xffffffffu;
    for (unsigned char c : data) {
        crc ^= c;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xffffffffu;
}

// A PNG whose IHDR claims width x height (valid CRC), followed by a tiny IDAT and IEND.
std::string png_header(uint32_t width, uint32_t height) {
    std::string ihdr = "IHDR" + be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
    std::string png = "\x89PNG\r\n\x1a\n";
    png += be32(13) + ihdr + be32(crc32(ihdr));
    const std::string idat = std::string("IDAT") + std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
    png += be32(8) + idat + be32(crc32(idat));
    png += be32(0) + "IEND" + be32(crc32("IEND"));
    return png;
}

// A JPEG with SOI, an SOF0 claiming width x height, and EOI.
std::string jpeg_header(uint16_t width, uint16_t height) {
    std::string j = "\xff\xd8";
    j += std::string("\xff\xc0\x00\x11\x08", 5);
    j += static_cast<char>(height >> 8);
    j += static_cast<char>(height & 0xff);
    j += static_cast<char>(width >> 8);
    j += static_cast<char>(width & 0xff);
    j += std::string("\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01", 10);
    j += "\xff\xd9";
    return j;
}

void expect_invalid(const Result<RgbImage>& r, const std::string& needle) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << r.status().message();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

TEST(ImageDecode, SniffsFormats) {
    EXPECT_EQ(sniff_image_format(read_bytes(kImageDir + "rgb_200x150.png")), ImageFormat::kPng);
    EXPECT_EQ(sniff_image_format(read_bytes(kImageDir + "photo_160x120.jpg")), ImageFormat::kJpeg);
    EXPECT_EQ(sniff_image_format(read_bytes(kImageDir + "lossless_70x90.webp")), ImageFormat::kWebp);
    EXPECT_EQ(sniff_image_format("GIF89a...."), ImageFormat::kGif);
    EXPECT_EQ(sniff_image_format("BM\x00\x00"), ImageFormat::kBmp);
    EXPECT_EQ(sniff_image_format("hello"), ImageFormat::kUnknown);
    EXPECT_EQ(sniff_image_format(""), ImageFormat::kUnknown);
}

TEST(ImageDecode, ProbeReadsHeader) {
    Result<ImageInfo> info = probe_image(read_bytes(kImageDir + "odd_57x101.png"));
    ASSERT_TRUE(info.ok()) << info.status().message();
    EXPECT_EQ(info->format, ImageFormat::kPng);
    EXPECT_EQ(info->width, 57);
    EXPECT_EQ(info->height, 101);
    info = probe_image(read_bytes(kImageDir + "photo_160x120.jpg"));
    ASSERT_TRUE(info.ok()) << info.status().message();
    EXPECT_EQ(info->format, ImageFormat::kJpeg);
    EXPECT_EQ(info->width, 160);
    EXPECT_EQ(info->height, 120);
}

TEST(ImageDecode, DecodesEveryFixtureFormat) {
    for (const char* name : {"rgb_200x150.png", "grey_123x77.png", "rgba_150x96.png", "la_44x60.png",
                             "palette_trns_64x64.png", "grey16_40x50.png", "photo_160x120.jpg",
                             "photo444_90x70.jpg", "lossless_70x90.webp"}) {
        Result<RgbImage> img = decode_image_file(kImageDir + name);
        if (!image_format_supported(ImageFormat::kWebp) && std::string(name).ends_with(".webp")) {
            EXPECT_FALSE(img.ok());
            continue;
        }
        ASSERT_TRUE(img.ok()) << name << ": " << img.status().message();
        EXPECT_EQ(img->data.size(), static_cast<size_t>(img->width) * img->height * 3) << name;
    }
}

TEST(ImageDecode, AlphaIsCompositedOnWhite) {
    // rgba_150x96: alpha 0 in the top-left 10x10 block and along the whole left column.
    Result<RgbImage> img = decode_image_file(kImageDir + "rgba_150x96.png");
    ASSERT_TRUE(img.ok());
    for (int y = 0; y < 10; ++y) {
        for (int x = 0; x < 10; ++x) {
            const uint8_t* p = img->pixel(y, x);
            EXPECT_EQ(p[0], 255);
            EXPECT_EQ(p[1], 255);
            EXPECT_EQ(p[2], 255);
        }
    }
}

TEST(ImageDecode, EmptyGarbageAndUnsupported) {
    expect_invalid(decode_image(""), "empty image data");
    expect_invalid(decode_image("this is not an image at all"), "not a PNG");
    expect_invalid(decode_image("GIF89a\x01\x00\x01\x00\x00\x00\x00"), "unsupported image format GIF");
    expect_invalid(decode_image("BM\x00\x00\x00\x00"), "unsupported image format BMP");
    expect_invalid(decode_image(std::string("II*\0\x08\0\0\0", 8)), "unsupported image format TIFF");
}

TEST(ImageDecode, TruncatedPngAndJpeg) {
    const std::string png = read_bytes(kImageDir + "rgb_200x150.png");
    expect_invalid(decode_image(png.substr(0, png.size() / 2)), "PNG");
    expect_invalid(decode_image(png.substr(0, 8)), "PNG");
    expect_invalid(decode_image(png.substr(0, 30)), "PNG");
    const std::string jpg = read_bytes(kImageDir + "photo_160x120.jpg");
    expect_invalid(decode_image(jpg.substr(0, 3)), "JPEG");
    expect_invalid(decode_image(jpg.substr(0, 200)), "JPEG");
}

TEST(ImageDecode, PixelBombHeaderRefusedBeforeDecoding) {
    Result<RgbImage> r = decode_image(png_header(60000, 60000));
    expect_invalid(r, "60000x60000");
    EXPECT_NE(r.status().message().find("PNG"), std::string::npos);
    r = decode_image(jpeg_header(60000, 60000));
    expect_invalid(r, "60000x60000");
    EXPECT_NE(r.status().message().find("JPEG"), std::string::npos);
    // Under max_side but over max_pixels.
    r = decode_image(png_header(10000, 9000));
    expect_invalid(r, "90000000 pixels");
    // Custom limits.
    ImageLimits small;
    small.max_pixels = 100;
    expect_invalid(decode_image(read_bytes(kImageDir + "tiny_10x13.png"), small), "130 pixels");
    small = ImageLimits{};
    small.max_encoded_bytes = 100;
    expect_invalid(decode_image(read_bytes(kImageDir + "tiny_10x13.png"), small), "over the limit of 100 bytes");
    expect_invalid(decode_image_file(kImageDir + "rgb_200x150.png", small), "over the limit of 100 bytes");
    // Zero-sized header.
    expect_invalid(decode_image(png_header(0, 10)), "0x10");
}

TEST(ImageDecode, MissingFile) {
    Result<RgbImage> r = decode_image_file(kImageDir + "does_not_exist.png");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
}

// Mutated and truncated encodings must give an image or an error, never a crash or a hang.
TEST(ImageDecode, FuzzMutatedAndTruncatedInputsNeverCrash) {
    std::mt19937 rng(1234);
    int decoded = 0, refused = 0;
    // AG_FUZZ_ITERS raises the number of mutations per file for a longer local run (e.g. under ASan).
    const char* env = std::getenv("AG_FUZZ_ITERS");
    const int iters = env != nullptr ? std::max(1, std::atoi(env)) : 400;
    for (const char* name : {"odd_57x101.png", "palette_trns_64x64.png", "grey16_40x50.png", "la_44x60.png",
                             "photo444_90x70.jpg", "photo_160x120.jpg", "lossless_70x90.webp"}) {
        const std::string orig = read_bytes(kImageDir + name);
        ASSERT_FALSE(orig.empty()) << name;
        auto run = [&](const std::string& data) {
            Result<RgbImage> r = decode_image(data);
            if (r.ok()) {
                EXPECT_EQ(r->data.size(), static_cast<size_t>(r->width) * r->height * 3);
                ++decoded;
            } else {
                EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
                EXPECT_FALSE(r.status().message().empty());
                ++refused;
            }
        };
        // Every truncation length for the first bytes (headers), then coarser.
        for (size_t n = 0; n < orig.size(); n += (n < 300 ? 1 : 37)) run(orig.substr(0, n));
        // Random byte flips, byte runs, and header-field corruption.
        for (int iter = 0; iter < iters; ++iter) {
            std::string m = orig;
            const int flips = 1 + static_cast<int>(rng() % 8);
            for (int f = 0; f < flips; ++f) {
                const size_t pos = rng() % m.size();
                switch (rng() % 4) {
                    case 0: m[pos] = static_cast<char>(rng()); break;
                    case 1: m[pos] = static_cast<char>(m[pos] ^ (1 << (rng() % 8))); break;
                    case 2: m[pos] = static_cast<char>(0xff); break;
                    default: m.insert(pos, std::string(1 + rng() % 16, static_cast<char>(rng()))); break;
                }
            }
            if (iter % 5 == 0) m.resize(m.size() * (rng() % 100) / 100);
            run(m);
        }
    }
    EXPECT_GT(decoded, 0);
    EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace ag::mm
