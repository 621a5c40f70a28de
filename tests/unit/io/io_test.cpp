// safetensors / checkpoint loading: files written by Python (the golden checkpoints), round trips,
// and every malformed-input error naming the file. Also random mutations never crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "io/checkpoint.h"
#include "io/safetensors.h"

namespace ag::io {
namespace {

namespace fs = std::filesystem;

class TempDir {
public:
    TempDir() {
        static int counter = 0;
        path_ = fs::temp_directory_path() /
                ("ag_io_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

void write_bytes(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
}

std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// A raw safetensors file from a header JSON string and data bytes.
std::string make_st(const std::string& header, const std::string& data) {
    std::string out(8, '\0');
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>(n >> (8 * i));
    return out + header + data;
}

void expect_error_naming(const Status& s, const std::string& needle) {
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

TEST(Safetensors, ReadsPythonWrittenF32AndBf16Shards) {
    auto ck = Checkpoint::open("tests/golden/models/glm4_f32");
    ASSERT_TRUE(ck.ok()) << ck.status().to_string();
    auto t = ck->tensor("model.embed_tokens.weight", std::vector<int64_t>{320, 64});
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    EXPECT_EQ(t->dtype(), DType::kF32);
    EXPECT_EQ(ck->tensor_names().size(), 3u + 2u * 13u);

    auto sh = Checkpoint::open("tests/golden/models/glm4_bf16");
    ASSERT_TRUE(sh.ok()) << sh.status().to_string();
    auto b = sh->tensor("model.layers.0.self_attn.q_proj.weight", std::vector<int64_t>{192, 96});
    ASSERT_TRUE(b.ok()) << b.status().to_string();
    EXPECT_EQ(b->dtype(), DType::kBF16);
    EXPECT_TRUE(sh->generation_config().is_object());
}

TEST(Safetensors, WriteReadRoundTrip) {
    TempDir d;
    Tensor a = Tensor::empty(DType::kF32, {2, 3});
    for (int i = 0; i < 6; ++i) a.mutable_as<float>()[i] = static_cast<float>(i) * 0.5f;
    Tensor b = Tensor::empty(DType::kBF16, {5});
    for (int i = 0; i < 5; ++i) b.mutable_as<uint16_t>()[i] = f32_to_bf16(static_cast<float>(-i));
    const auto p = (d.path() / "x.safetensors").string();
    ASSERT_TRUE(write_safetensors(p, {{"a", a}, {"b", b}}, {{"format", "pt"}}).ok());
    auto f = SafetensorsFile::open(p);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    EXPECT_EQ(f->metadata().at("format"), "pt");
    auto ra = f->tensor("a");
    ASSERT_TRUE(ra.ok());
    EXPECT_EQ(ra->shape(), (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(ra->as<float>()[5], 2.5f);
    auto rb = f->tensor("b");
    ASSERT_TRUE(rb.ok());
    EXPECT_EQ(bf16_to_f32(rb->as<uint16_t>()[4]), -4.0f);
    // Header is padded to 8 bytes, as HF writes it.
    EXPECT_EQ(read_bytes(p).size() % 8, (6 * 4 + 5 * 2) % 8);
}

TEST(Safetensors, MalformedFilesGiveErrorsNamingTheFile) {
    TempDir d;
    const std::string ok_data(8, '\0');
    struct Case {
        const char* name;
        std::string bytes;
    } cases[] = {
        {"short.safetensors", "abc"},
        {"past_eof.safetensors", std::string("\xff\x00\x00\x00\x00\x00\x00\x00", 8) + "{}"},
        {"huge.safetensors", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8)},
        {"badjson.safetensors", make_st("{not json", "")},
        {"notobject.safetensors", make_st("[1,2]", "")},
        {"nofields.safetensors", make_st(R"({"a":{"dtype":"F32"}})", ok_data)},
        {"offsets.safetensors",
         make_st(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,64]}})", ok_data)},
        {"reversed.safetensors",
         make_st(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", ok_data)},
        {"sizemismatch.safetensors",
         make_st(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", ok_data)},
        {"negdim.safetensors",
         make_st(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", ok_data)},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const auto p = (d.path() / c.name).string();
        write_bytes(p, c.bytes);
        auto f = SafetensorsFile::open(p);
        expect_error_naming(f.status(), c.name);
    }
}

TEST(Safetensors, UnsupportedDtypeIsReportedOnAccess) {
    TempDir d;
    const auto p = (d.path() / "i8.safetensors").string();
    write_bytes(p, make_st(R"({"q":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}})", "abcd"));
    auto f = SafetensorsFile::open(p);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    auto t = f->tensor("q");
    EXPECT_EQ(t.status().code(), ErrorCode::kUnsupported);
    expect_error_naming(t.status(), "I8");
    expect_error_naming(f->tensor("missing").status(), "missing");
}

TEST(Checkpoint, DirectoryErrors) {
    TempDir d;
    expect_error_naming(Checkpoint::open((d.path() / "nope").string()).status(), "nope");
    expect_error_naming(Checkpoint::open(d.path().string()).status(), "config.json");
    write_bytes(d.path() / "config.json", "{\"a\": ");
    auto bad = Checkpoint::open(d.path().string());
    expect_error_naming(bad.status(), "config.json");
    EXPECT_EQ(bad.status().code(), ErrorCode::kParseError);
    write_bytes(d.path() / "config.json", "{}");
    expect_error_naming(Checkpoint::open(d.path().string()).status(), "no weights");
    write_bytes(d.path() / "generation_config.json", "[");
    expect_error_naming(Checkpoint::open(d.path().string()).status(), "generation_config.json");
}

TEST(Checkpoint, ShardErrorsAndShapeMismatch) {
    TempDir d;
    const fs::path src = "tests/golden/models/glm4_bf16";
    for (const auto& e : fs::directory_iterator(src)) fs::copy(e.path(), d.path() / e.path().filename());
    auto ck = Checkpoint::open(d.path().string());
    ASSERT_TRUE(ck.ok()) << ck.status().to_string();
    auto t = ck->tensor("model.norm.weight", std::vector<int64_t>{7});
    EXPECT_EQ(t.status().code(), ErrorCode::kInvalidArgument);
    expect_error_naming(t.status(), "expected [7]");
    expect_error_naming(ck->tensor("model.nothing").status(), "model.nothing");

    fs::remove(d.path() / "model-00002-of-00004.safetensors");
    expect_error_naming(Checkpoint::open(d.path().string()).status(), "model-00002-of-00004");
}

TEST(Safetensors, RandomMutationsNeverCrash) {
    TempDir d;
    const std::string good = read_bytes("tests/golden/models/glm4_f32/model.safetensors")
                                 .substr(0, 4096);  // header + some data (truncated on purpose)
    std::mt19937 rng(7);
    for (int iter = 0; iter < 300; ++iter) {
        std::string b = good;
        const int n_mut = 1 + static_cast<int>(rng() % 8);
        for (int m = 0; m < n_mut; ++m) {
            b[rng() % std::min<size_t>(b.size(), 600)] = static_cast<char>(rng());
        }
        if (rng() % 4 == 0) b.resize(rng() % b.size());
        const auto p = (d.path() / "m.safetensors").string();
        write_bytes(p, b);
        auto f = SafetensorsFile::open(p);
        if (f.ok()) {
            for (const auto& t : f->tensors()) (void)f->tensor(t.name);
        }
    }
}

}  // namespace
}  // namespace ag::io
