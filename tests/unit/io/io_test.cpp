// safetensors / checkpoint loading: files written by the Python `safetensors` package
// (tests/fixtures/io, see make_io_fixtures.py), write -> read round trips (byte-identical to the
// Python writer), every malformed-input error naming the file, and random mutations never crash.
// Suite names start with "io_" so that `ctest -R io` selects them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "io/checkpoint.h"
#include "io/safetensors.h"

namespace ag::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kFixtures = "tests/fixtures/io";

class TempDir {
public:
    TempDir() {
        static int counter = 0;
        path_ = fs::temp_directory_path() /
                ("ag_io_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

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
    const uint64_t n = header.size();
    for (size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + header + data;
}

// Copies every file of a fixture folder into `dst`.
void copy_dir(const fs::path& src, const fs::path& dst) {
    for (const auto& e : fs::directory_iterator(src)) {
        fs::copy(e.path(), dst / e.path().filename(), fs::copy_options::overwrite_existing);
    }
}

void expect_error(const Status& s, ErrorCode code, const std::vector<std::string>& needles) {
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.code(), code) << s.to_string();
    for (const auto& n : needles) {
        EXPECT_NE(s.message().find(n), std::string::npos) << "'" << n << "' not in: "
                                                          << s.message();
    }
}

const json& expected_values() {
    static const json j = [] {
        auto r = read_json_file((kFixtures / "expected.json").string());
        EXPECT_TRUE(r.ok()) << r.status().to_string();
        return r.ok() ? r.value() : json::object();
    }();
    return j;
}

// Element i of a tensor as double (every supported dtype).
double element(const Tensor& t, int64_t i) {
    switch (t.dtype()) {
        case DType::kF32: return t.as<float>()[i];
        case DType::kF16: return f16_to_f32(t.as<uint16_t>()[i]);
        case DType::kBF16: return bf16_to_f32(t.as<uint16_t>()[i]);
        case DType::kI32: return t.as<int32_t>()[i];
        case DType::kI64: return static_cast<double>(t.as<int64_t>()[i]);
        case DType::kU8: return t.as<uint8_t>()[i];
        case DType::kQ8_0:
        case DType::kQ4_0:
        case DType::kQ4_K:
        case DType::kQ5_K:
        case DType::kQ6_K:
        case DType::kQ5_0:
        case DType::kQ5_1: break;  // safetensors never holds block formats
    }
    return 0;
}

// Checks a loaded tensor against expected.json's entry {dtype, shape, values}.
void expect_matches(const Tensor& t, const std::string& dtype_str, const json& want) {
    EXPECT_EQ(dtype_str, want["dtype"].get<std::string>());
    EXPECT_EQ(t.shape(), want["shape"].get<std::vector<int64_t>>());
    const auto& vals = want["values"];
    ASSERT_EQ(static_cast<size_t>(t.numel()), vals.size());
    for (int64_t i = 0; i < t.numel(); ++i) {
        EXPECT_EQ(element(t, i), vals[static_cast<size_t>(i)].get<double>()) << "element " << i;
    }
}

// ---------------------------------------------------------------------------------------------
// Python-written files

TEST(io_safetensors, ReadsPythonWrittenFiles) {
    for (const char* rel : {"f32.safetensors", "bf16.safetensors", "f16.safetensors",
                            "ints.safetensors", "sharded/model-00001-of-00002.safetensors",
                            "sharded/model-00002-of-00002.safetensors"}) {
        SCOPED_TRACE(rel);
        const json& want = expected_values().at(rel);
        auto f = SafetensorsFile::open((kFixtures / rel).string());
        ASSERT_TRUE(f.ok()) << f.status().to_string();
        EXPECT_EQ(f->tensors().size(), want.size());
        for (const auto& info : f->tensors()) {
            SCOPED_TRACE(info.name);
            ASSERT_TRUE(want.contains(info.name));
            auto t = f->tensor(info.name);
            ASSERT_TRUE(t.ok()) << t.status().to_string();
            EXPECT_EQ(t->n_bytes(), info.n_bytes);
            expect_matches(*t, info.dtype_str, want[info.name]);
        }
    }
}

TEST(io_safetensors, MetadataAndDtypes) {
    auto f = SafetensorsFile::open((kFixtures / "f32.safetensors").string());
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    EXPECT_EQ(f->metadata().size(), 2u);
    EXPECT_EQ(f->metadata().at("format"), "pt");
    EXPECT_EQ(f->metadata().at("note"), "io fixture");
    EXPECT_EQ(f->find("nothing"), nullptr);
    ASSERT_NE(f->find("scalar"), nullptr);
    EXPECT_TRUE(f->find("scalar")->shape.empty());
    EXPECT_EQ(f->tensor("empty")->numel(), 0);

    auto ints = SafetensorsFile::open((kFixtures / "ints.safetensors").string());
    ASSERT_TRUE(ints.ok());
    EXPECT_EQ(ints->tensor("i32")->dtype(), DType::kI32);
    EXPECT_EQ(ints->tensor("i64")->dtype(), DType::kI64);
    EXPECT_EQ(ints->tensor("u8")->dtype(), DType::kU8);
    EXPECT_EQ(ints->tensor("i64")->as<int64_t>()[0], -(int64_t{1} << 62));

    EXPECT_EQ(*parse_safetensors_dtype("F32"), DType::kF32);
    EXPECT_EQ(*parse_safetensors_dtype("F16"), DType::kF16);
    EXPECT_EQ(*parse_safetensors_dtype("BF16"), DType::kBF16);
    EXPECT_EQ(*parse_safetensors_dtype("I32"), DType::kI32);
    EXPECT_EQ(*parse_safetensors_dtype("I64"), DType::kI64);
    EXPECT_EQ(*parse_safetensors_dtype("U8"), DType::kU8);
    for (const char* s : {"F64", "I8", "BOOL", "F8_E4M3", "f32", ""}) {
        EXPECT_EQ(parse_safetensors_dtype(s).status().code(), ErrorCode::kUnsupported) << s;
    }
}

TEST(io_safetensors, TensorsAreZeroCopyViewsThatKeepTheMappingAlive) {
    Tensor w;
    {
        auto f = SafetensorsFile::open((kFixtures / "bf16.safetensors").string());
        ASSERT_TRUE(f.ok());
        auto a = f->tensor("weight");
        auto b = f->tensor("weight");
        ASSERT_TRUE(a.ok() && b.ok());
        EXPECT_EQ(a->data(), b->data());  // both point into the one mapping
        EXPECT_EQ(reinterpret_cast<uintptr_t>(a->data()) % 2, 0u);
        w = *a;
    }  // the SafetensorsFile is gone; the view still holds the mapping
    expect_matches(w, "BF16", expected_values()["bf16.safetensors"]["weight"]);
}

// ---------------------------------------------------------------------------------------------
// Writing

TEST(io_safetensors, WriterIsByteIdenticalToPython) {
    // Same tensors and metadata in any order -> the same bytes as safetensors.torch.save_file.
    TempDir d;
    for (const char* rel : {"bf16.safetensors", "f16.safetensors", "ints.safetensors",
                            "sharded/model-00001-of-00002.safetensors",
                            "sharded/model-00002-of-00002.safetensors"}) {
        SCOPED_TRACE(rel);
        auto f = SafetensorsFile::open((kFixtures / rel).string());
        ASSERT_TRUE(f.ok());
        std::vector<TensorToWrite> out;
        for (const auto& t : f->tensors()) {
            if (t.dtype_str == "I64" || t.dtype_str == "U8") continue;  // not writable
            out.insert(out.begin(), {t.name, *f->tensor(t.name)});     // reversed name order
        }
        const auto p = d.file("copy.safetensors");
        ASSERT_TRUE(write_safetensors(p, out, f->metadata()).ok());
        if (std::string(rel) == "ints.safetensors") {
            // I32 only: compare the tensor, not the file.
            auto back = SafetensorsFile::open(p);
            ASSERT_TRUE(back.ok());
            expect_matches(*back->tensor("i32"), "I32", expected_values()[rel]["i32"]);
            continue;
        }
        EXPECT_EQ(read_bytes(p), read_bytes(kFixtures / rel));
    }
}

TEST(io_safetensors, WriteReadRoundTrip) {
    TempDir d;
    Tensor a = Tensor::empty(DType::kF32, {2, 3});
    for (int i = 0; i < 6; ++i) a.mutable_as<float>()[i] = static_cast<float>(i) * 0.5f - 1.0f;
    Tensor b = Tensor::empty(DType::kBF16, {5});
    for (int i = 0; i < 5; ++i) b.mutable_as<uint16_t>()[i] = f32_to_bf16(-1.5f * i);
    Tensor c = Tensor::empty(DType::kF16, {1, 3});
    for (int i = 0; i < 3; ++i) c.mutable_as<uint16_t>()[i] = f32_to_f16(0.25f * i);
    Tensor e = Tensor::empty(DType::kI32, {3});
    for (int i = 0; i < 3; ++i) e.mutable_as<int32_t>()[i] = -7 * i;
    Tensor s = Tensor::empty(DType::kF32, {});
    s.mutable_as<float>()[0] = 42.0f;
    Tensor z = Tensor::empty(DType::kF32, {0, 4});
    const auto p = d.file("x.safetensors");
    ASSERT_TRUE(write_safetensors(p, {{"z.first", b}, {"a", a}, {"c", c}, {"ints", e},
                                      {"scalar", s}, {"zero", z}},
                                  {{"format", "pt"}})
                    .ok());
    const std::string bytes = read_bytes(p);
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    EXPECT_EQ(n % 8, 0u);
    EXPECT_EQ(bytes.substr(8, 17), R"({"__metadata__":{)");  // keys sorted, compact
    EXPECT_EQ(bytes.size(), 8 + n + 10 + 24 + 6 + 12 + 4);     // contiguous data, no gaps

    auto f = SafetensorsFile::open(p);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    EXPECT_EQ(f->metadata().at("format"), "pt");
    // Data in the Python writer's order: F32 by name, then I32, BF16, F16.
    size_t expect_offset = 8 + n;
    for (const char* name : {"a", "scalar", "zero", "ints", "z.first", "c"}) {
        EXPECT_EQ(f->find(name)->offset, expect_offset) << name;
        expect_offset += f->find(name)->n_bytes;
    }
    for (const auto& [name, want] : std::vector<std::pair<std::string, Tensor>>{
             {"a", a}, {"z.first", b}, {"c", c}, {"ints", e}, {"scalar", s}, {"zero", z}}) {
        SCOPED_TRACE(name);
        auto got = f->tensor(name);
        ASSERT_TRUE(got.ok()) << got.status().to_string();
        EXPECT_EQ(got->dtype(), want.dtype());
        EXPECT_EQ(got->shape(), want.shape());
        EXPECT_EQ(std::memcmp(got->data(), want.data(), want.n_bytes()), 0);
    }
}

TEST(io_safetensors, WriteRejectsBadInput) {
    TempDir d;
    const auto p = d.file("w.safetensors");
    Tensor i64 = Tensor::empty(DType::kI64, {2});
    expect_error(write_safetensors(p, {{"x", i64}}), ErrorCode::kUnsupported, {p, "'x'"});
    Tensor f = Tensor::empty(DType::kF32, {2});
    expect_error(write_safetensors(p, {{"x", f}, {"x", f}}), ErrorCode::kInvalidArgument,
                 {p, "'x'"});
    expect_error(write_safetensors(p, {{"__metadata__", f}}), ErrorCode::kInvalidArgument, {p});
    expect_error(write_safetensors(p, {{"bad\xff", f}}), ErrorCode::kInvalidArgument, {p});
    const auto nodir = d.file("no/such/dir/w.safetensors");
    expect_error(write_safetensors(nodir, {{"x", f}}), ErrorCode::kIoError, {nodir});
}

// ---------------------------------------------------------------------------------------------
// Alignment

TEST(io_safetensors, UnalignedDataBecomesAnAlignedCopy) {
    TempDir d;
    // Header length 57 puts the data section at byte 65: not 4-aligned for the F32 tensor.
    std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    header.resize(57, ' ');
    const float vals[2] = {1.25f, -3.5f};
    const auto p = d.file("unaligned.safetensors");
    write_bytes(p, make_st(header, std::string(reinterpret_cast<const char*>(vals), 8)));
    auto f = SafetensorsFile::open(p);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    auto t = f->tensor("a");
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data()) % 64, 0u);
    EXPECT_EQ(t->as<float>()[0], 1.25f);
    EXPECT_EQ(t->as<float>()[1], -3.5f);
}

// ---------------------------------------------------------------------------------------------
// Malformed files: every error is a Status naming the file

TEST(io_safetensors, MalformedFilesGiveErrorsNamingTheFile) {
    TempDir d;
    const std::string data8(8, '\0');
    const auto entry = [](const std::string& body) { return "{\"a\":{" + body + "}}"; };
    const struct Case {
        const char* name;
        std::string bytes;
        const char* needle;
    } cases[] = {
        {"empty", "", "shorter than"},
        {"short", "abc", "shorter than"},
        {"past_eof", std::string("\xff\x00\x00\x00\x00\x00\x00\x00", 8) + "{}", "past the end"},
        {"huge", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}", "implausibly"},
        {"huge2", std::string("\x01\x00\x00\x40\x06\x00\x00\x00", 8), "implausibly"},
        {"bad_json", make_st("{not json", ""), "not valid JSON"},
        {"truncated_json", make_st(R"({"a":{"dtype":"F32")", ""), "not valid JSON"},
        {"not_object", make_st("[1,2]", ""), "not a JSON object"},
        {"entry_not_object", make_st(R"({"a":3})", ""), "'a'"},
        {"no_offsets", make_st(entry(R"("dtype":"F32","shape":[2])"), data8), "data_offsets"},
        {"no_dtype", make_st(entry(R"("shape":[2],"data_offsets":[0,8])"), data8), "dtype"},
        {"no_shape", make_st(entry(R"("dtype":"F32","data_offsets":[0,8])"), data8), "shape"},
        {"dtype_number", make_st(entry(R"("dtype":1,"shape":[2],"data_offsets":[0,8])"), data8),
         "dtype"},
        {"shape_string",
         make_st(entry(R"("dtype":"F32","shape":"2","data_offsets":[0,8])"), data8), "shape"},
        {"offsets_three",
         make_st(entry(R"("dtype":"F32","shape":[2],"data_offsets":[0,4,8])"), data8),
         "data_offsets"},
        {"negative_dim",
         make_st(entry(R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])"), data8),
         "bad dimension -2"},
        {"float_dim",
         make_st(entry(R"("dtype":"F32","shape":[2.0],"data_offsets":[0,8])"), data8),
         "bad dimension"},
        {"huge_shape",
         make_st(entry(R"("dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8])"),
                 data8),
         "too large"},
        {"negative_offset",
         make_st(entry(R"("dtype":"F32","shape":[2],"data_offsets":[-8,0])"), data8),
         "non-negative"},
        {"offsets_past_end",
         make_st(entry(R"("dtype":"F32","shape":[16],"data_offsets":[0,64])"), data8),
         "past the end"},
        {"offsets_reversed",
         make_st(entry(R"("dtype":"F32","shape":[2],"data_offsets":[8,0])"), data8),
         "end before begin"},
        {"size_mismatch",
         make_st(entry(R"("dtype":"F32","shape":[3],"data_offsets":[0,8])"), data8),
         "needs 12"},
        {"size_mismatch_i8",
         make_st(entry(R"("dtype":"I8","shape":[3],"data_offsets":[0,8])"), data8), "needs 3"},
        {"metadata_not_object", make_st(R"({"__metadata__":[1]})", ""), "__metadata__"},
        {"metadata_not_string", make_st(R"({"__metadata__":{"n":1}})", ""), "__metadata__"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const auto p = d.file(std::string(c.name) + ".safetensors");
        write_bytes(p, c.bytes);
        auto f = SafetensorsFile::open(p);
        expect_error(f.status(), ErrorCode::kParseError, {p, c.needle});
    }
    const auto missing = d.file("missing.safetensors");
    expect_error(SafetensorsFile::open(missing).status(), ErrorCode::kNotFound, {missing});
}

TEST(io_safetensors, TruncatedPythonFileIsRejected) {
    TempDir d;
    const std::string good = read_bytes(kFixtures / "f32.safetensors");
    const auto p = d.file("cut.safetensors");
    write_bytes(p, good.substr(0, good.size() - 1));
    expect_error(SafetensorsFile::open(p).status(), ErrorCode::kParseError,
                 {p, "'weight'", "past the end"});
}

TEST(io_safetensors, UnsupportedDtypesLoadButCannotBeAccessed) {
    TempDir d;
    const auto p = d.file("mixed.safetensors");
    write_bytes(p, make_st(R"({"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},)"
                           R"("q":{"dtype":"I8","shape":[4],"data_offsets":[8,12]},)"
                           R"("f8":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[12,14]},)"
                           R"("b":{"dtype":"BOOL","shape":[2],"data_offsets":[14,16]},)"
                           R"("x":{"dtype":"Q4_WEIRD","shape":[7],"data_offsets":[16,20]},)"
                           R"("ok":{"dtype":"U8","shape":[4],"data_offsets":[16,20]}})",
                           std::string(20, '\x01')));
    auto f = SafetensorsFile::open(p);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    EXPECT_EQ(f->tensors().size(), 6u);
    EXPECT_EQ(f->find("x")->n_bytes, 4u);  // unknown element size: no size check
    for (const auto& [name, dtype] : std::vector<std::pair<std::string, std::string>>{
             {"d", "F64"}, {"q", "I8"}, {"f8", "F8_E4M3"}, {"b", "BOOL"}, {"x", "Q4_WEIRD"}}) {
        SCOPED_TRACE(name);
        expect_error(f->tensor(name).status(), ErrorCode::kUnsupported,
                     {p, "'" + name + "'", dtype});
    }
    EXPECT_TRUE(f->tensor("ok").ok());
    expect_error(f->tensor("missing").status(), ErrorCode::kNotFound, {p, "'missing'"});
}

TEST(io_safetensors, DeeplyNestedHeaderIsAnErrorNotACrash) {
    TempDir d;
    const auto p = d.file("nested.safetensors");
    write_bytes(p, make_st(std::string(1 << 20, '['), ""));
    expect_error(SafetensorsFile::open(p).status(), ErrorCode::kParseError, {p});
    write_bytes(p, make_st(std::string(1 << 20, '[') + std::string(1 << 20, ']'), ""));
    expect_error(SafetensorsFile::open(p).status(), ErrorCode::kParseError, {p});
}

TEST(io_safetensors, RandomMutationsNeverCrash) {
    TempDir d;
    const std::string good = read_bytes(kFixtures / "f32.safetensors");
    ASSERT_GT(good.size(), 100u);
    const auto p = d.file("m.safetensors");
    std::mt19937 rng(7);
    int n_ok = 0;
    for (int iter = 0; iter < 2000; ++iter) {
        std::string b = good;
        const int n_mut = 1 + static_cast<int>(rng() % 6);
        for (int m = 0; m < n_mut; ++m) {
            // Mostly the length field and header, where the parser lives.
            const size_t limit = rng() % 4 == 0 ? b.size() : std::min<size_t>(b.size(), 310);
            if (b.empty()) break;
            const size_t at = rng() % limit;
            switch (rng() % 3) {
                case 0: b[at] = static_cast<char>(rng()); break;
                case 1: b[at] = "0123456789[]{}\",:-.e "[rng() % 21]; break;
                default: b.erase(at, 1 + rng() % 4); break;
            }
        }
        if (rng() % 8 == 0) b.resize(rng() % (b.size() + 1));
        write_bytes(p, b);
        auto f = SafetensorsFile::open(p);
        if (!f.ok()) {
            EXPECT_NE(f.status().message().find(p), std::string::npos) << f.status().message();
            continue;
        }
        ++n_ok;
        for (const auto& t : f->tensors()) {
            auto v = f->tensor(t.name);
            if (!v.ok()) continue;
            // Touch every byte: a view past the mapping would fault here (or under ASan).
            volatile unsigned sum = 0;
            const auto* bytes = static_cast<const unsigned char*>(v->data());
            for (size_t i = 0; i < v->n_bytes(); ++i) sum = sum + bytes[i];
        }
    }
    EXPECT_GT(n_ok, 0);  // some mutations (inside tensor data) must still load
}

// ---------------------------------------------------------------------------------------------
// JSON files

TEST(io_json, ReadJsonFileErrors) {
    TempDir d;
    const auto p = d.file("c.json");
    write_bytes(p, R"({"a": 1, "b": [1, 2})");
    auto bad = read_json_file(p);
    expect_error(bad.status(), ErrorCode::kParseError, {p, "at byte offset 19"});

    write_bytes(p, R"({"a": 1})");
    auto ok = read_json_file(p);
    ASSERT_TRUE(ok.ok()) << ok.status().to_string();
    EXPECT_EQ((*ok)["a"], 1);

    const auto missing = d.file("missing.json");
    expect_error(read_json_file(missing).status(), ErrorCode::kNotFound, {missing});
    expect_error(read_json_file(d.path().string()).status(), ErrorCode::kInvalidArgument,
                 {d.path().string()});
}

// ---------------------------------------------------------------------------------------------
// Checkpoint directories

TEST(io_checkpoint, OpensPythonWrittenShardedCheckpoint) {
    const std::string dir = (kFixtures / "sharded").string();
    auto ck = Checkpoint::open(dir);
    ASSERT_TRUE(ck.ok()) << ck.status().to_string();
    EXPECT_EQ(ck->dir(), dir);
    EXPECT_EQ(ck->config()["model_type"], "glm4");
    EXPECT_EQ(ck->generation_config()["eos_token_id"].size(), 3u);
    EXPECT_EQ(ck->tensor_names(),
              (std::vector<std::string>{"lm_head.weight", "model.embed_tokens.weight",
                                        "model.layers.0.mlp.down_proj.weight",
                                        "model.norm.weight"}));
    EXPECT_TRUE(ck->has_tensor("lm_head.weight"));
    EXPECT_FALSE(ck->has_tensor("model.nothing"));
    EXPECT_EQ(fs::path(ck->file_of("lm_head.weight")).filename(),
              "model-00002-of-00002.safetensors");
    EXPECT_EQ(fs::path(ck->file_of("model.embed_tokens.weight")).filename(),
              "model-00001-of-00002.safetensors");
    for (const auto& [shard, tensors] : expected_values().items()) {
        if (shard.rfind("sharded/", 0) != 0) continue;
        for (const auto& [name, want] : tensors.items()) {
            SCOPED_TRACE(name);
            auto t = ck->tensor(name, want["shape"].get<std::vector<int64_t>>());
            ASSERT_TRUE(t.ok()) << t.status().to_string();
            expect_matches(*t, "BF16", want);
        }
    }
}

TEST(io_checkpoint, SingleFileLayouts) {
    TempDir d;
    write_bytes(d.path() / "config.json", R"({"model_type": "glm4"})");
    // model.safetensors
    fs::copy(kFixtures / "f32.safetensors", d.path() / "model.safetensors");
    auto ck = Checkpoint::open(d.path().string());
    ASSERT_TRUE(ck.ok()) << ck.status().to_string();
    EXPECT_TRUE(ck->generation_config().is_null());
    EXPECT_EQ(ck->tensor_names().size(), 4u);
    EXPECT_EQ(ck->tensor("scalar")->as<float>()[0], 3.5f);
    EXPECT_EQ(ck->file_of("nothing"), d.path().string());

    // A path to the .safetensors file itself: config.json comes from its directory.
    auto by_file = Checkpoint::open(d.file("model.safetensors"));
    ASSERT_TRUE(by_file.ok()) << by_file.status().to_string();
    EXPECT_EQ(by_file->dir(), d.path().string());
    EXPECT_EQ(by_file->config()["model_type"], "glm4");

    // Any single *.safetensors file.
    fs::rename(d.path() / "model.safetensors", d.path() / "weights.safetensors");
    auto any = Checkpoint::open(d.path().string());
    ASSERT_TRUE(any.ok()) << any.status().to_string();
    EXPECT_EQ(fs::path(any->file_of("weight")).filename(), "weights.safetensors");

    // Two candidates: ambiguous, the message lists what was looked for and found.
    fs::copy(kFixtures / "bf16.safetensors", d.path() / "other.safetensors");
    expect_error(Checkpoint::open(d.path().string()).status(), ErrorCode::kNotFound,
                 {d.path().string(), "model.safetensors.index.json", "model.safetensors",
                  "other.safetensors", "weights.safetensors"});
}

TEST(io_checkpoint, ConfigErrors) {
    TempDir d;
    const auto nope = d.file("nope");
    expect_error(Checkpoint::open(nope).status(), ErrorCode::kNotFound, {nope});
    const auto cfg = d.file("config.json");
    expect_error(Checkpoint::open(d.path().string()).status(), ErrorCode::kNotFound, {cfg});
    write_bytes(cfg, "{\"a\": ");
    expect_error(Checkpoint::open(d.path().string()).status(), ErrorCode::kParseError,
                 {cfg, "at byte offset 6"});
    write_bytes(cfg, "[1]");
    expect_error(Checkpoint::open(d.path().string()).status(), ErrorCode::kParseError,
                 {cfg, "object"});
    write_bytes(cfg, "{}");
    expect_error(Checkpoint::open(d.path().string()).status(), ErrorCode::kNotFound,
                 {d.path().string(), "no weights"});
    const auto gen = d.file("generation_config.json");
    write_bytes(gen, "{");
    expect_error(Checkpoint::open(d.path().string()).status(), ErrorCode::kParseError, {gen});
    // A .safetensors path without a config.json next to it.
    fs::remove(cfg);
    fs::remove(gen);
    fs::copy(kFixtures / "f32.safetensors", d.path() / "model.safetensors");
    expect_error(Checkpoint::open(d.file("model.safetensors")).status(), ErrorCode::kNotFound,
                 {cfg});
    // A file that is not .safetensors.
    write_bytes(d.path() / "x.bin", "x");
    expect_error(Checkpoint::open(d.file("x.bin")).status(), ErrorCode::kNotFound,
                 {d.file("x.bin")});
}

TEST(io_checkpoint, ShardErrors) {
    TempDir d;
    copy_dir(kFixtures / "sharded", d.path());
    ASSERT_TRUE(Checkpoint::open(d.path().string()).ok());
    const auto index = d.file("model.safetensors.index.json");
    const std::string good_index = read_bytes(index);

    // A shard file that is missing.
    const auto shard2 = d.file("model-00002-of-00002.safetensors");
    fs::rename(shard2, d.file("moved"));
    expect_error(Checkpoint::open(d.path().string()).status(), ErrorCode::kNotFound,
                 {shard2, index});
    fs::rename(d.file("moved"), shard2);

    // A broken shard: the error names that shard.
    const std::string shard_bytes = read_bytes(shard2);
    write_bytes(shard2, shard_bytes.substr(0, shard_bytes.size() - 3));
    expect_error(Checkpoint::open(d.path().string()).status(), ErrorCode::kParseError, {shard2});
    write_bytes(shard2, shard_bytes);

    // The index lists a tensor its shard does not have.
    json j = json::parse(good_index);
    j["weight_map"]["model.layers.1.mlp.up_proj.weight"] = "model-00002-of-00002.safetensors";
    write_bytes(index, j.dump());
    expect_error(Checkpoint::open(d.path().string()).status(), ErrorCode::kNotFound,
                 {"'model.layers.1.mlp.up_proj.weight'", index, shard2});

    // The index points a tensor at the wrong shard.
    j = json::parse(good_index);
    j["weight_map"]["lm_head.weight"] = "model-00001-of-00002.safetensors";
    write_bytes(index, j.dump());
    expect_error(Checkpoint::open(d.path().string()).status(), ErrorCode::kNotFound,
                 {"'lm_head.weight'", d.file("model-00001-of-00002.safetensors")});

    // Malformed indexes.
    for (const std::string& bad : {std::string(R"({"metadata": {}})"),
                                   std::string(R"({"weight_map": {}})"),
                                   std::string(R"({"weight_map": {"a": 3}})"),
                                   std::string(R"({"weight_map": {"a": "../x.safetensors"}})"),
                                   std::string(R"({"weight_map": )")}) {
        SCOPED_TRACE(bad);
        write_bytes(index, bad);
        expect_error(Checkpoint::open(d.path().string()).status(), ErrorCode::kParseError,
                     {index});
    }
}

TEST(io_checkpoint, TensorLookupErrors) {
    const std::string dir = (kFixtures / "sharded").string();
    auto ck = Checkpoint::open(dir);
    ASSERT_TRUE(ck.ok()) << ck.status().to_string();
    auto missing = ck->tensor("model.nothing");
    expect_error(missing.status(), ErrorCode::kNotFound, {});
    EXPECT_EQ(missing.status().message(),
              "tensor 'model.nothing' not found in checkpoint " + dir);
    auto wrong = ck->tensor("model.embed_tokens.weight", std::vector<int64_t>{4, 6});
    expect_error(wrong.status(), ErrorCode::kInvalidArgument, {});
    EXPECT_EQ(wrong.status().message(),
              "tensor 'model.embed_tokens.weight' in " + dir +
                  "/model-00001-of-00002.safetensors has shape [6, 4], expected [4, 6]");
    auto rank = ck->tensor("model.norm.weight", std::vector<int64_t>{});
    expect_error(rank.status(), ErrorCode::kInvalidArgument, {"has shape [4], expected []"});
}

}  // namespace
}  // namespace ag::io
