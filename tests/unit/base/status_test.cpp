#include <gtest/gtest.h>

#include "base/mapped_file.h"
#include "base/status.h"

namespace ag {

TEST(Status, OkAndError) {
    Status ok;
    EXPECT_TRUE(ok.ok());
    Status err(ErrorCode::kNotFound, "x.json: missing");
    EXPECT_FALSE(err.ok());
    EXPECT_EQ(err.to_string(), "not found: x.json: missing");
}

TEST(Result, HoldsValueOrStatus) {
    Result<int> r = 3;
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 3);
    Result<int> e = Status(ErrorCode::kParseError, "bad");
    EXPECT_FALSE(e.ok());
    EXPECT_EQ(e.status().code(), ErrorCode::kParseError);
}

TEST(MappedFile, MissingFileNamesPath) {
    auto r = MappedFile::open("/nonexistent/file.bin");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
    EXPECT_NE(r.status().message().find("/nonexistent/file.bin"), std::string::npos);
}

}  // namespace ag
