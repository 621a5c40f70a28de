#include "multimodal/image_source.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "multimodal/data_url.h"
#include "test_util.h"

namespace ag::mm {
namespace {

using test::kImageDir;
using test::read_bytes;

void expect_error(const Status& s, const std::string& needle) {
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.message();
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

TEST(ImageSource, DataUrlsAlwaysWork) {
    const std::string png = read_bytes(kImageDir + "odd_57x101.png");
    Result<RgbImage> img = load_image_from_url("data:image/png;base64," + base64_encode(png), {});
    ASSERT_TRUE(img.ok()) << img.status().message();
    EXPECT_EQ(img->width, 57);
}

TEST(ImageSource, RemoteAndUnknownSchemesRefused) {
    expect_error(load_image_from_url("https://example.com/a.png", {}).status(), "does not access the network");
    expect_error(load_image_from_url("HTTP://example.com/a.png", {}).status(), "does not access the network");
    expect_error(load_image_from_url("ftp://example.com/a.png", {}).status(), "unsupported image URL scheme 'ftp'");
    expect_error(load_image_from_url("", {}).status(), "empty image URL");
}

TEST(ImageSource, LocalFilesOnlyUnderAllowedDirectory) {
    const std::string abs = std::filesystem::absolute(kImageDir + "odd_57x101.png").string();
    expect_error(load_image_from_url(abs, {}).status(), "--allowed-local-media-path");
    ImageSourcePolicy policy;
    policy.allowed_local_media_path = std::filesystem::absolute(kImageDir).string();
    Result<RgbImage> img = load_image_from_url(abs, policy);
    ASSERT_TRUE(img.ok()) << img.status().message();
    EXPECT_EQ(img->height, 101);
    img = load_image_from_url("file://" + abs, policy);
    ASSERT_TRUE(img.ok()) << img.status().message();
    // Escapes via .. are resolved before the check.
    expect_error(load_image_from_url(abs + "/../../README.md", policy).status(), "outside the allowed");
    expect_error(load_image_from_url("file:///etc/passwd", policy).status(), "outside the allowed");
    expect_error(load_image_from_url(kImageDir + "../io/x.png", policy).status(), "outside the allowed");
    // A sibling directory sharing the prefix is outside too.
    policy.allowed_local_media_path = std::filesystem::absolute("tests/fixtures/im").string();
    expect_error(load_image_from_url(abs, policy).status(), "outside the allowed");
    policy.allowed_local_media_path = std::filesystem::absolute(kImageDir).string();
    expect_error(load_image_from_url(policy.allowed_local_media_path + "/nope.png", policy).status(), "not found");
}

TEST(ImageSource, FileUrlParsing) {
    EXPECT_EQ(file_url_to_path("file:///a/b%20c.png").value(), "/a/b c.png");
    EXPECT_EQ(file_url_to_path("file://localhost/a.png").value(), "/a.png");
    EXPECT_FALSE(file_url_to_path("file://host/a.png").ok());
    EXPECT_FALSE(file_url_to_path("file:///a%2").ok());
    EXPECT_FALSE(file_url_to_path("file:///a%00b").ok());
}

TEST(ImageSource, ContentHashFollowsPixelsNotEncoding) {
    // The same pixels as PNG and as a data URL hash equal; different images differ.
    const std::string png = read_bytes(kImageDir + "exact_140x112.png");
    const RgbImage a = decode_image(png).value();
    const RgbImage b = load_image_from_url("data:image/png;base64," + base64_encode(png), {}).value();
    EXPECT_EQ(image_content_hash(a), image_content_hash(b));
    RgbImage c = a;
    c.data[100] ^= 1;
    EXPECT_NE(image_content_hash(a), image_content_hash(c));
}

}  // namespace
}  // namespace ag::mm
