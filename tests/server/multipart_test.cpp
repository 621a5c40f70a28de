// multipart/form-data parsing against bodies shaped as the `openai` SDK (httpx) and curl send
// them, and every malformed shape.
#include <gtest/gtest.h>

#include "server/http/multipart.h"

namespace ag::server::http {
namespace {

std::string body_of(const std::string& b, const std::vector<std::string>& parts) {
    std::string out;
    for (const std::string& p : parts) out += "--" + b + "\r\n" + p + "\r\n";
    return out + "--" + b + "--\r\n";
}

TEST(Multipart, BoundaryFromContentType) {
    EXPECT_EQ(*multipart_boundary("multipart/form-data; boundary=abc123"), "abc123");
    EXPECT_EQ(*multipart_boundary("Multipart/Form-Data;boundary=\"a b;c\""), "a b;c");
    EXPECT_EQ(*multipart_boundary("multipart/form-data; charset=utf-8; boundary=xyz"), "xyz");
    EXPECT_FALSE(multipart_boundary("application/json").ok());
    EXPECT_FALSE(multipart_boundary("multipart/form-data").ok());
    EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=").ok());
    EXPECT_FALSE(multipart_boundary("").ok());
}

TEST(Multipart, FieldsAndFilesInOrder) {
    const std::string wav("RIFF\0\0\r\n--not-the-boundary\r\nxyz", 31);
    const std::string body = body_of(
        "bnd", {"Content-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
                "Content-Type: audio/wav\r\n\r\n" + wav,
                "Content-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1",
                "content-disposition: form-data; name=timestamp_granularities[]\r\n\r\nsegment",
                "Content-Disposition: form-data; name=\"prompt\"\r\n\r\n"});
    auto parts = parse_multipart(body, "bnd");
    ASSERT_TRUE(parts.ok()) << parts.status().message();
    ASSERT_EQ(parts->size(), 4u);
    EXPECT_EQ((*parts)[0].name, "file");
    EXPECT_EQ((*parts)[0].filename.value_or(""), "a.wav");
    EXPECT_EQ((*parts)[0].content_type, "audio/wav");
    EXPECT_EQ((*parts)[0].data, wav);
    EXPECT_EQ((*parts)[1].name, "model");
    EXPECT_FALSE((*parts)[1].filename.has_value());
    EXPECT_EQ((*parts)[1].data, "whisper-1");
    EXPECT_EQ((*parts)[2].name, "timestamp_granularities[]");
    EXPECT_EQ((*parts)[2].data, "segment");
    EXPECT_EQ((*parts)[3].data, "");
}

TEST(Multipart, PreambleIsIgnored) {
    auto parts = parse_multipart(
        "preamble\r\n--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--",
        "b");
    ASSERT_TRUE(parts.ok()) << parts.status().message();
    ASSERT_EQ(parts->size(), 1u);
    EXPECT_EQ((*parts)[0].data, "1");
}

TEST(Multipart, MalformedBodiesAreErrors) {
    const std::string ok_part = "Content-Disposition: form-data; name=\"x\"\r\n\r\n1";
    for (const std::string& body : std::vector<std::string>{
             "",                                                  // nothing
             "no boundary here",                                  // no opening boundary
             "--b\r\n" + ok_part,                                 // no closing boundary
             "--b\r\nContent-Disposition: form-data; name=\"x\"",  // headers never end
             "--b\r\nContent-Type: text/plain\r\n\r\n1\r\n--b--",  // no disposition
             "--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--",  // no name
             "--b\r\nContent-Disposition: attachment; name=\"x\"\r\n\r\n1\r\n--b--",
             "--bXX\r\n" + ok_part + "\r\n--b--",                 // garbage after boundary
         }) {
        auto parts = parse_multipart(body, "b");
        EXPECT_FALSE(parts.ok()) << "accepted: " << body;
        if (!parts.ok()) {
            EXPECT_FALSE(parts.status().message().empty());
        }
    }
}

}  // namespace
}  // namespace ag::server::http
