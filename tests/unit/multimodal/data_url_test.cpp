#include "multimodal/data_url.h"

#include <gtest/gtest.h>

#include <random>

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

TEST(Base64, KnownVectors) {
    // RFC 4648 section 10.
    const std::pair<const char*, const char*> cases[] = {{"", ""},         {"f", "Zg=="},     {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, enc] : cases) {
        EXPECT_EQ(base64_encode(plain), enc);
        Result<std::string> d = base64_decode(enc);
        ASSERT_TRUE(d.ok()) << enc;
        EXPECT_EQ(*d, plain);
    }
}

TEST(Base64, RoundTripsBinaryAndToleratesWhitespaceAndMissingPadding) {
    std::mt19937 rng(7);
    for (int n = 0; n < 200; ++n) {
        std::string bytes(n, '\0');
        for (char& c : bytes) c = static_cast<char>(rng());
        std::string enc = base64_encode(bytes);
        Result<std::string> d = base64_decode(enc);
        ASSERT_TRUE(d.ok());
        EXPECT_EQ(*d, bytes);
        while (!enc.empty() && enc.back() == '=') enc.pop_back();
        d = base64_decode(enc);
        ASSERT_TRUE(d.ok()) << enc;
        EXPECT_EQ(*d, bytes);
    }
    Result<std::string> d = base64_decode("Zm9v\nYmFy\r\n");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, "foobar");
    d = base64_decode("-_-_");  // URL-safe alphabet
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, base64_decode("+/+/").value());
}

TEST(Base64, RejectsBadInput) {
    expect_error(base64_decode("Zm9v!mFy").status(), "unexpected '!' at offset 4");
    expect_error(base64_decode("Zm9v\x01").status(), "byte 0x01");
    expect_error(base64_decode("Z").status(), "truncated");
    expect_error(base64_decode("Zm9vY").status(), "truncated");
    expect_error(base64_decode("=Zm9").status(), "misplaced '='");
    expect_error(base64_decode("Zg===").status(), "misplaced '='");
    expect_error(base64_decode("Zg==Zg==").status(), "data after '=' padding");
    EXPECT_EQ(base64_decode("Zm8").value(), "fo");
    expect_error(base64_decode("Zg=").status(), "incomplete '=' padding");
}

TEST(DataUrl, ParsesHeader) {
    Result<DataUrl> u = parse_data_url("data:Image/PNG;charset=x;base64,Zm9v");
    ASSERT_TRUE(u.ok()) << u.status().message();
    EXPECT_EQ(u->mime_type, "image/png");
    EXPECT_EQ(u->data, "foo");
    EXPECT_TRUE(is_data_url("DATA:image/png;base64,"));
    EXPECT_FALSE(is_data_url("http://example.com/a.png"));
    expect_error(parse_data_url("http://example.com/a.png").status(), "not a data URL");
    expect_error(parse_data_url("data:image/png;base64").status(), "no ','");
    expect_error(parse_data_url("data:image/png,%89PNG").status(), "only base64");
    expect_error(parse_data_url("data:image/png;base64,@@@@").status(), "invalid base64");
    ImageLimits tiny;
    tiny.max_encoded_bytes = 10;
    expect_error(parse_data_url("data:image/png;base64," + std::string(400, 'A'), tiny).status(), "over the limit");
}

TEST(DataUrl, DecodesImagesAndChecksMime) {
    const std::string png = read_bytes(kImageDir + "odd_57x101.png");
    const std::string jpg = read_bytes(kImageDir + "photo_160x120.jpg");
    Result<RgbImage> img = decode_image_data_url("data:image/png;base64," + base64_encode(png));
    ASSERT_TRUE(img.ok()) << img.status().message();
    EXPECT_EQ(img->width, 57);
    EXPECT_EQ(img->height, 101);
    Result<RgbImage> direct = decode_image(png);
    ASSERT_TRUE(direct.ok());
    EXPECT_EQ(img->data, direct->data);
    img = decode_image_data_url("data:image/jpg;base64," + base64_encode(jpg));
    ASSERT_TRUE(img.ok()) << img.status().message();
    img = decode_image_data_url("data:image/jpeg;base64," + base64_encode(jpg));
    ASSERT_TRUE(img.ok()) << img.status().message();

    expect_error(decode_image_data_url("data:image/png;base64," + base64_encode(jpg)).status(),
                 "data URL says image/png but the data is a JPEG image");
    expect_error(decode_image_data_url("data:image/jpeg;base64," + base64_encode(png)).status(),
                 "but the data is a PNG image");
    expect_error(decode_image_data_url("data:image/png;base64," + base64_encode("garbage bytes")).status(),
                 "not a PNG image");
    expect_error(decode_image_data_url("data:image/gif;base64,R0lGODlh").status(), "unsupported media type 'image/gif'");
    expect_error(decode_image_data_url("data:text/plain;base64,Zm9v").status(), "unsupported media type");
    expect_error(decode_image_data_url("data:;base64,Zm9v").status(), "unsupported media type '(none)'");
    expect_error(decode_image_data_url("data:image/png;base64,iVBORw0KGgo!").status(), "invalid base64");
    expect_error(decode_image_data_url("data:image/png;base64," + base64_encode(png.substr(0, 100))).status(),
                 "PNG");
    expect_error(decode_image_data_url("data:image/png;base64,").status(), "empty image data");
}

}  // namespace
}  // namespace ag::mm
