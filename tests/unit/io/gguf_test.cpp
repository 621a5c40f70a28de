// GGUF reader/writer: files written by the Python `gguf` package (llama.cpp's; fixtures in
// tests/fixtures/gguf, see make_gguf_fixtures.py), write -> read round trips, the glm4 name map,
// malformed files (each error names the file and the problem) and random mutations that must
// never crash. Suite names start with "io_gguf" so that `ctest -R io` selects them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "io/checkpoint.h"
#include "io/gguf.h"
#include "io/gguf_glm4.h"
#include "tensor/quant.h"

namespace ag::io {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = "tests/fixtures/gguf";

class TempDir {
public:
    TempDir() {
        static int counter = 0;
        path_ = fs::temp_directory_path() /
                ("ag_gguf_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& p, const std::string& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(b.data(), static_cast<std::streamsize>(b.size()));
}

void expect_error(const Status& s, ErrorCode code, std::initializer_list<std::string> needles) {
    EXPECT_EQ(s.code(), code) << s.message();
    for (const auto& n : needles) EXPECT_NE(s.message().find(n), std::string::npos) << s.message();
}

std::vector<float> to_f32(const Tensor& t) {
    std::vector<float> v(static_cast<size_t>(t.numel()));
    convert_to_f32(t.dtype(), t.data(), v.data(), t.numel());
    return v;
}

// Little-endian byte builder for hand-made (malformed) files.
struct Bytes {
    std::string b;
    template <class T> Bytes& put(T v) {
        b.append(reinterpret_cast<const char*>(&v), sizeof v);
        return *this;
    }
    Bytes& u32(uint32_t v) { return put(v); }
    Bytes& u64(uint64_t v) { return put(v); }
    Bytes& str(const std::string& s) {
        u64(s.size());
        b += s;
        return *this;
    }
    Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
        b += "GGUF";
        return u32(version).u64(n_tensors).u64(n_kv);
    }
    Bytes& pad(size_t a = 32) {
        while (b.size() % a != 0) b.push_back('\0');
        return *this;
    }
};

// One F32 [2, 4] tensor "w" at offset 0.
std::string one_tensor_file(uint32_t ggml_type = 0, uint64_t ne0 = 4, uint64_t offset = 0,
                            uint32_t n_dims = 2) {
    Bytes b;
    b.header(1, 0).str("w").u32(n_dims).u64(ne0);
    for (uint32_t d = 1; d < n_dims; ++d) b.u64(2);
    b.u32(ggml_type).u64(offset).pad();
    b.b += std::string(32, '\x01');
    return b.b;
}

// --------------------------------------------------------------------------------------------

TEST(io_gguf, ReadsEveryValueTypeFromPythonWriter) {
    auto f = GgufFile::open((kFixtures / "types.gguf").string());
    ASSERT_TRUE(f.ok()) << f.status().message();
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->alignment(), 64u);
    auto v = [&](const char* k) {
        const GgufValue* p = f->find_value(k);
        EXPECT_NE(p, nullptr) << k;
        return p != nullptr ? *p : GgufValue();
    };
    EXPECT_EQ(v("general.architecture").s, "test");
    EXPECT_EQ(v("t.u8").type, GgufValueType::kU8);
    EXPECT_EQ(*v("t.u8").as_int(), 200);
    EXPECT_EQ(*v("t.i8").as_int(), -100);
    EXPECT_EQ(*v("t.u16").as_int(), 60000);
    EXPECT_EQ(*v("t.i16").as_int(), -30000);
    EXPECT_EQ(*v("t.u32").as_int(), 4000000000);
    EXPECT_EQ(*v("t.i32").as_int(), -2000000000);
    EXPECT_EQ(*v("t.f32").as_double(), 1.5);
    EXPECT_EQ(v("t.bool").type, GgufValueType::kBool);
    EXPECT_EQ(*v("t.bool").as_int(), 1);
    EXPECT_EQ(v("t.str").s, "h\xc3\xa9llo");
    EXPECT_EQ(v("t.u64").u, (uint64_t{1} << 63) + 5);
    EXPECT_FALSE(v("t.u64").as_int().has_value());  // beyond int64
    EXPECT_EQ(*v("t.i64").as_int(), -(int64_t{1} << 62));
    EXPECT_EQ(*v("t.f64").as_double(), -2.25);
    const GgufValue a = v("t.arr_i32");
    ASSERT_TRUE(a.is_array());
    EXPECT_EQ(a.array_type, GgufValueType::kI32);
    ASSERT_EQ(a.items.size(), 3u);
    EXPECT_EQ(*a.items[1].as_int(), -2);
    const GgufValue s = v("t.arr_str");
    ASSERT_EQ(s.items.size(), 3u);
    EXPECT_EQ(s.items[1].s, "");
    EXPECT_EQ(s.items[2].s, "\xc4\xa0Hello");
    const GgufValue n = v("t.arr_nested");
    ASSERT_EQ(n.array_type, GgufValueType::kArray);
    ASSERT_EQ(n.items.size(), 2u);
    EXPECT_EQ(n.items[0].items.size(), 2u);
    EXPECT_EQ(*n.items[1].items[0].as_int(), 3);

    // Tensors: PyTorch-order shapes (ggml ne reversed), offsets aligned to 64.
    auto t32 = f->tensor("f32");
    ASSERT_TRUE(t32.ok());
    EXPECT_EQ(t32->shape(), (std::vector<int64_t>{3, 5}));
    EXPECT_EQ(f->find("f32")->ne, (std::vector<int64_t>{5, 3}));
    EXPECT_EQ(t32->dtype(), DType::kF32);
    auto t16 = f->tensor("f16");
    ASSERT_TRUE(t16.ok());
    EXPECT_EQ(t16->shape(), (std::vector<int64_t>{2, 64}));
    EXPECT_EQ(t16->dtype(), DType::kF16);
    auto tb = f->tensor("bf16");
    ASSERT_TRUE(tb.ok());
    EXPECT_EQ(tb->dtype(), DType::kBF16);
    for (const auto& info : f->tensors()) EXPECT_EQ(info.offset % 64, 0u) << info.name;
    expect_error(f->tensor("i32").status(), ErrorCode::kUnsupported, {"i32", "I32", "types.gguf"});
    expect_error(f->tensor("nope").status(), ErrorCode::kNotFound, {"nope"});
}

TEST(io_gguf, QuantizedTensorsMatchPythonGguf) {
    auto f = GgufFile::open((kFixtures / "quant.gguf").string());
    ASSERT_TRUE(f.ok()) << f.status().message();
    auto src = f->tensor("src");
    ASSERT_TRUE(src.ok());
    const std::vector<float> x = to_f32(*src);
    for (const char* name : {"q8_0", "q4_0", "q4_k"}) {
        SCOPED_TRACE(name);
        auto q = f->tensor(name);
        ASSERT_TRUE(q.ok()) << q.status().message();
        EXPECT_EQ(q->shape(), (std::vector<int64_t>{4, 256}));
        auto ref = f->tensor(std::string(name) + "_deq");
        ASSERT_TRUE(ref.ok());
        const std::vector<float> got = to_f32(*q), want = to_f32(*ref);
        ASSERT_EQ(got.size(), want.size());
        for (size_t i = 0; i < got.size(); ++i) {
            ASSERT_NEAR(got[i], want[i], 1e-6f * (1.0f + std::fabs(want[i]))) << i;
        }
        if (std::string(name) != "q4_k") {
            // Our reference quantizer is bit-identical to gguf-py's (= ggml's) for the 32-blocks.
            std::vector<uint8_t> mine(q->n_bytes());
            const size_t row = dtype_row_bytes(q->dtype(), 256);
            for (int r = 0; r < 4; ++r) {
                quant::quantize_row(q->dtype(), x.data() + r * 256, mine.data() + r * row, 256);
            }
            EXPECT_EQ(std::memcmp(mine.data(), q->data(), mine.size()), 0);
        }
    }
}

TEST(io_gguf, WriterRoundTrip) {
    TempDir d;
    const auto p = d.file("rt.gguf");
    std::mt19937 rng(3);
    std::normal_distribution<float> nd;
    std::vector<float> x(6 * 256);
    for (auto& e : x) e = nd(rng);
    std::vector<Tensor> ts;
    const std::vector<DType> types = {DType::kF32, DType::kF16, DType::kBF16,
                                      DType::kQ8_0, DType::kQ4_0, DType::kQ4_K};
    for (DType t : types) {
        Tensor tt = Tensor::empty(t, {6, 256});
        auto* o = static_cast<uint8_t*>(tt.mutable_data());
        const size_t row = dtype_row_bytes(t, 256);
        for (int r = 0; r < 6; ++r) {
            const float* xr = x.data() + r * 256;
            uint8_t* orow = o + static_cast<size_t>(r) * row;
            if (t == DType::kF32) {
                std::memcpy(orow, xr, row);
            } else if (t == DType::kF16 || t == DType::kBF16) {
                for (int i = 0; i < 256; ++i) {
                    const uint16_t h = t == DType::kF16 ? f32_to_f16(xr[i]) : f32_to_bf16(xr[i]);
                    std::memcpy(orow + 2 * i, &h, 2);
                }
            } else {
                quant::quantize_row(t, xr, orow, 256);
            }
        }
        ts.push_back(tt);
    }
    {
        GgufWriter w;
        w.add("general.architecture", GgufValue::str("glm4"));
        w.add("a.u32", GgufValue::u32(7));
        w.add("a.f32", GgufValue::f32(0.25f));
        w.add("a.bool", GgufValue::boolean(false));
        w.add("a.strs", GgufValue::str_array({"x", "y z"}));
        w.add("a.ints", GgufValue::i32_array({-1, 5}));
        w.add("a.u64", GgufValue::u64(1ull << 40));
        for (size_t i = 0; i < types.size(); ++i) {
            w.add_tensor(std::string("t.") + std::string(dtype_name(types[i])), types[i], {6, 256});
        }
        w.add_tensor("bias", DType::kF32, {5});
        ASSERT_TRUE(w.open(p).ok());
        for (const auto& t : ts) {
            // Two pieces per tensor: the writer streams.
            const auto* b = static_cast<const uint8_t*>(t.data());
            ASSERT_TRUE(w.write_tensor_data(b, t.n_bytes() / 2).ok());
            ASSERT_TRUE(w.write_tensor_data(b + t.n_bytes() / 2, t.n_bytes() - t.n_bytes() / 2).ok());
        }
        const float bias[5] = {1, 2, 3, 4, 5};
        ASSERT_TRUE(w.write_tensor_data(bias, sizeof bias).ok());
        ASSERT_TRUE(w.close().ok());
    }
    EXPECT_FALSE(fs::exists(p + ".tmp"));
    auto f = GgufFile::open(p);
    ASSERT_TRUE(f.ok()) << f.status().message();
    EXPECT_EQ(f->alignment(), 32u);
    EXPECT_EQ(*f->find_value("a.u32")->as_int(), 7);
    EXPECT_EQ(f->find_value("a.u32")->type, GgufValueType::kU32);
    EXPECT_EQ(*f->find_value("a.f32")->as_double(), 0.25);
    EXPECT_EQ(*f->find_value("a.bool")->as_int(), 0);
    EXPECT_EQ(f->find_value("a.strs")->items[1].s, "y z");
    EXPECT_EQ(*f->find_value("a.ints")->items[0].as_int(), -1);
    EXPECT_EQ(f->find_value("a.u64")->u, 1ull << 40);
    for (size_t i = 0; i < types.size(); ++i) {
        auto t = f->tensor(std::string("t.") + std::string(dtype_name(types[i])));
        ASSERT_TRUE(t.ok()) << t.status().message();
        EXPECT_EQ(t->dtype(), types[i]);
        EXPECT_EQ(t->shape(), (std::vector<int64_t>{6, 256}));
        ASSERT_EQ(t->n_bytes(), ts[i].n_bytes());
        EXPECT_EQ(std::memcmp(t->data(), ts[i].data(), t->n_bytes()), 0);
        EXPECT_EQ(f->find(std::string("t.") + std::string(dtype_name(types[i])))->offset % 32, 0u);
    }
    auto b = f->tensor("bias");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(to_f32(*b), (std::vector<float>{1, 2, 3, 4, 5}));
    EXPECT_EQ(fs::file_size(p) % 32, 0u);
}

TEST(io_gguf, MalformedFilesGiveClearErrors) {
    TempDir d;
    const auto p = d.file("bad.gguf");
    auto check = [&](const std::string& bytes, ErrorCode code,
                     std::initializer_list<std::string> needles) {
        write_bytes(p, bytes);
        auto f = GgufFile::open(p);
        ASSERT_FALSE(f.ok());
        expect_error(f.status(), code, needles);
        EXPECT_NE(f.status().message().find(p), std::string::npos) << f.status().message();
    };
    ASSERT_TRUE((write_bytes(p, one_tensor_file()), GgufFile::open(p).ok()));
    check("", ErrorCode::kParseError, {"too short"});
    check("GGML\x03\0\0\0", ErrorCode::kParseError, {"bad magic"});
    check(Bytes().header(0, 0, 1).b, ErrorCode::kParseError, {"version 1"});
    check(Bytes().header(0, 0, 4).b, ErrorCode::kParseError, {"version 4"});
    check(Bytes().header(0, 0).b.substr(0, 12), ErrorCode::kParseError, {"truncated", "tensor count"});
    check(Bytes().header(1ull << 60, 0).b, ErrorCode::kParseError, {"tensor count"});
    check(Bytes().header(0, ~0ull).b, ErrorCode::kParseError, {"metadata count"});
    check(Bytes().header(0, 1).str("k").u32(99).u64(0).b, ErrorCode::kParseError,
          {"unknown value type 99", "'k'"});
    check(Bytes().header(0, 1).u64(1ull << 62).b + std::string(64, '\0'), ErrorCode::kParseError, {"metadata key", "length"});
    check(Bytes().header(0, 1).str("k").u32(8).u64(1000).b + std::string(64, '\0'), ErrorCode::kParseError, {"string value"});
    check(Bytes().header(0, 1).str("k").u32(9).u32(4).u64(1ull << 61).b, ErrorCode::kParseError,
          {"array of", "does not fit"});
    check(Bytes().header(0, 1).str("k").u32(9).u32(77).u64(1).b, ErrorCode::kParseError,
          {"unknown array element type 77"});
    check(Bytes().header(0, 1).str("k").u32(7).put<uint8_t>(2).b, ErrorCode::kParseError, {"bool"});
    check(Bytes().header(0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2).b,
          ErrorCode::kParseError, {"duplicate metadata key 'k'"});
    check(Bytes().header(0, 1).str("general.alignment").u32(4).u32(48).b, ErrorCode::kParseError,
          {"general.alignment"});
    check(one_tensor_file(99), ErrorCode::kParseError, {"unknown ggml type 99", "'w'"});
    check(one_tensor_file(0, 4, 0, 5), ErrorCode::kParseError, {"5 dimensions"});
    check(one_tensor_file(8, 31), ErrorCode::kParseError, {"not a multiple", "Q8_0", "32"});
    check(one_tensor_file(0, 4, 64), ErrorCode::kParseError, {"runs past the end", "'w'"});
    check(one_tensor_file(0, 4, 8), ErrorCode::kParseError, {"not a multiple of the alignment"});
    check(one_tensor_file(0, 1ull << 40), ErrorCode::kParseError, {"runs past the end"});
    {
        Bytes b;
        b.header(1, 0).str("w").u32(3).u64(1ull << 31).u64(1ull << 31).u64(1ull << 31).u32(0).u64(0);
        check(b.b, ErrorCode::kParseError, {"too large"});
    }
    {
        Bytes b;
        b.header(2, 0).str("w").u32(1).u64(1).u32(0).u64(0).str("w").u32(1).u64(1).u32(0).u64(32);
        b.pad();
        b.b += std::string(64, '\0');
        check(b.b, ErrorCode::kParseError, {"duplicate tensor name 'w'"});
    }
    // Every truncation of a valid file before the end of its last tensor is refused cleanly
    // (the trailing alignment padding is not needed).
    const std::string good = read_bytes(kFixtures / "types.gguf");
    auto whole = GgufFile::open((kFixtures / "types.gguf").string());
    ASSERT_TRUE(whole.ok());
    size_t data_end = 0;
    for (const auto& t : whole->tensors()) data_end = std::max(data_end, t.offset + t.n_bytes);
    for (size_t n = 0; n < data_end; n += 7) {
        write_bytes(p, good.substr(0, n));
        auto f = GgufFile::open(p);
        EXPECT_FALSE(f.ok()) << n;
    }
}

TEST(io_gguf, RandomMutationsNeverCrash) {
    TempDir d;
    const std::string good = read_bytes(kFixtures / "types.gguf");
    const auto p = d.file("m.gguf");
    std::mt19937 rng(11);
    int n_ok = 0;
    for (int iter = 0; iter < 1500; ++iter) {
        std::string b = good;
        const int n_mut = 1 + static_cast<int>(rng() % 6);
        for (int m = 0; m < n_mut && !b.empty(); ++m) {
            const size_t limit = rng() % 4 == 0 ? b.size() : std::min<size_t>(b.size(), 700);
            const size_t at = rng() % limit;
            switch (rng() % 4) {
                case 0: b[at] = static_cast<char>(rng()); break;
                case 1: b[at] = static_cast<char>(rng() % 16); break;
                case 2: b[at] = static_cast<char>(0xff); break;
                default: b.erase(at, 1 + rng() % 4); break;
            }
        }
        if (rng() % 8 == 0) b.resize(rng() % (b.size() + 1));
        write_bytes(p, b);
        auto f = GgufFile::open(p);
        if (!f.ok()) {
            EXPECT_NE(f.status().message().find(p), std::string::npos) << f.status().message();
            continue;
        }
        ++n_ok;
        for (const auto& t : f->tensors()) {
            auto v = f->tensor(t.name);
            if (!v.ok()) continue;
            volatile unsigned sum = 0;
            const auto* bytes = static_cast<const unsigned char*>(v->data());
            for (size_t i = 0; i < v->n_bytes(); ++i) sum = sum + bytes[i];
        }
        (void)tokenizer_from_gguf(*f);
        (void)glm4_from_gguf(*f);
    }
    EXPECT_GT(n_ok, 0);
}

TEST(io_gguf, Glm4NamesMatchLlamaCpp) {
    const std::string p = "model.", lm = "lm_head.weight";
    EXPECT_EQ(*glm4_gguf_name("model.embed_tokens.weight", p, lm), "token_embd.weight");
    EXPECT_EQ(*glm4_gguf_name("model.norm.weight", p, lm), "output_norm.weight");
    EXPECT_EQ(*glm4_gguf_name("lm_head.weight", p, lm), "output.weight");
    EXPECT_EQ(*glm4_gguf_name("model.layers.3.input_layernorm.weight", p, lm), "blk.3.attn_norm.weight");
    EXPECT_EQ(*glm4_gguf_name("model.layers.3.post_self_attn_layernorm.weight", p, lm),
              "blk.3.post_attention_norm.weight");
    EXPECT_EQ(*glm4_gguf_name("model.layers.3.post_attention_layernorm.weight", p, lm),
              "blk.3.ffn_norm.weight");
    EXPECT_EQ(*glm4_gguf_name("model.layers.3.post_mlp_layernorm.weight", p, lm),
              "blk.3.post_ffw_norm.weight");
    EXPECT_EQ(*glm4_gguf_name("model.layers.12.mlp.gate_up_proj.weight", p, lm), "blk.12.ffn_up.weight");
    EXPECT_EQ(*glm4_gguf_name("model.layers.0.self_attn.k_proj.bias", p, lm), "blk.0.attn_k.bias");
    EXPECT_EQ(*glm4_gguf_name("model.layers.0.self_attn.o_proj.weight", p, lm), "blk.0.attn_output.weight");
    EXPECT_FALSE(glm4_gguf_name("model.visual.blocks.0.norm1.weight", "model.language_model.", lm));
    EXPECT_FALSE(glm4_gguf_name("model.layers.x.input_layernorm.weight", p, lm));
}

// A tiny glm4 GGUF with fused attn_qkv and M-RoPE sections: the checkpoint slices q/k/v and
// puts the NeoX-ordered rotary rows back in GLM's interleaved order.
TEST(io_gguf, CheckpointSlicesQkvAndUndoesNeoxOrder) {
    TempDir d;
    const auto p = d.file("m.gguf");
    const int64_t hd = 8, nh = 2, nkv = 1, dm = 16, rot = 4;
    auto rows_tensor = [&](int64_t rows, int64_t cols, float base) {
        std::vector<float> v(static_cast<size_t>(rows * cols));
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < cols; ++c) v[static_cast<size_t>(r * cols + c)] = base + static_cast<float>(r);
        return v;
    };
    // NeoX order inside each head of q and k: rotary evens, rotary odds, then the rest.
    const int64_t q_out = nh * hd, kv_out = nkv * hd, qkv = q_out + 2 * kv_out;
    std::vector<int64_t> neox = {0, 2, 1, 3, 4, 5, 6, 7};  // row i holds original row neox[i]
    std::vector<float> w(static_cast<size_t>(qkv * dm));
    for (int64_t r = 0; r < qkv; ++r) {
        int64_t orig = r;
        if (r < q_out + kv_out) orig = (r / hd) * hd + neox[static_cast<size_t>(r % hd)];
        for (int64_t c = 0; c < dm; ++c) w[static_cast<size_t>(r * dm + c)] = static_cast<float>(orig);
    }
    {
        GgufWriter g;
        g.add("general.architecture", GgufValue::str("glm4"));
        g.add("glm4.embedding_length", GgufValue::u32(dm));
        g.add("glm4.block_count", GgufValue::u32(1));
        g.add("glm4.feed_forward_length", GgufValue::u32(32));
        g.add("glm4.attention.head_count", GgufValue::u32(nh));
        g.add("glm4.attention.head_count_kv", GgufValue::u32(nkv));
        g.add("glm4.attention.key_length", GgufValue::u32(hd));
        g.add("glm4.rope.dimension_count", GgufValue::u32(rot));
        g.add("glm4.rope.dimension_sections", GgufValue::i32_array({1, 1, 0, 0}));
        g.add("glm4.attention.layer_norm_rms_epsilon", GgufValue::f32(1e-5f));
        g.add_tensor("token_embd.weight", DType::kF32, {10, dm});
        g.add_tensor("blk.0.attn_qkv.weight", DType::kF32, {qkv, dm});
        ASSERT_TRUE(g.open(p).ok());
        const auto e = rows_tensor(10, dm, 0);
        ASSERT_TRUE(g.write_tensor_data(e.data(), e.size() * 4).ok());
        ASSERT_TRUE(g.write_tensor_data(w.data(), w.size() * 4).ok());
        ASSERT_TRUE(g.close().ok());
    }
    auto ck = Checkpoint::open(p);
    ASSERT_TRUE(ck.ok()) << ck.status().message();
    EXPECT_EQ(ck->config()["architectures"][0], "Glm4ForCausalLM");
    EXPECT_EQ(ck->config()["vocab_size"], 10);
    EXPECT_EQ(ck->config()["head_dim"], hd);
    EXPECT_EQ(ck->config()["tie_word_embeddings"], true);
    EXPECT_FALSE(ck->has_tensor("lm_head.weight"));
    for (const char* n : {"q", "k", "v"}) {
        const std::string name = std::string("model.layers.0.self_attn.") + n + "_proj.weight";
        const int64_t rows = std::string(n) == "q" ? q_out : kv_out;
        const int64_t first = std::string(n) == "q" ? 0 : std::string(n) == "k" ? q_out : q_out + kv_out;
        auto t = ck->tensor(name, std::vector<int64_t>{rows, dm});
        ASSERT_TRUE(t.ok()) << t.status().message();
        const auto v = to_f32(*t);
        for (int64_t r = 0; r < rows; ++r) EXPECT_EQ(v[static_cast<size_t>(r * dm)], static_cast<float>(first + r)) << n << r;
    }
    expect_error(ck->tensor("model.layers.0.self_attn.q_proj.weight", std::vector<int64_t>{3, 3}).status(),
                 ErrorCode::kInvalidArgument, {"attn_qkv", "expected [3, 3]"});
    expect_error(ck->tensor("model.layers.0.mlp.down_proj.weight").status(), ErrorCode::kNotFound,
                 {"blk.0.ffn_down.weight"});
}

TEST(io_gguf, TokenizerJsonFromMetadata) {
    TempDir d;
    const auto p = d.file("tok.gguf");
    {
        GgufWriter g;
        g.add("general.architecture", GgufValue::str("glm4"));
        g.add("tokenizer.ggml.model", GgufValue::str("gpt2"));
        g.add("tokenizer.ggml.pre", GgufValue::str("glm4"));
        g.add("tokenizer.ggml.tokens",
              GgufValue::str_array({"a", "b", "ab", "[PAD3]", "<|endoftext|>", "<|x|>"}));
        g.add("tokenizer.ggml.token_type", GgufValue::i32_array({1, 1, 1, 5, 3, 4}));
        // "a c": c is no token; "b a": "ba" is no token -- both dropped.
        g.add("tokenizer.ggml.merges", GgufValue::str_array({"a b", "a c", "b a"}));
        g.add("tokenizer.ggml.eos_token_id", GgufValue::u32(4));
        g.add("tokenizer.chat_template", GgufValue::str("{{ x }}"));
        ASSERT_TRUE(g.open(p).ok());
        ASSERT_TRUE(g.close().ok());
    }
    auto f = GgufFile::open(p);
    ASSERT_TRUE(f.ok());
    auto t = tokenizer_from_gguf(*f);
    ASSERT_TRUE(t.ok()) << t.status().message();
    ASSERT_TRUE(t->has_value());
    const auto tj = nlohmann::json::parse((*t)->tokenizer_json);
    EXPECT_EQ(tj["model"]["vocab"], (nlohmann::json{{"a", 0}, {"b", 1}, {"ab", 2}}));
    EXPECT_EQ(tj["model"]["merges"], nlohmann::json::array({"a b"}));
    ASSERT_EQ(tj["added_tokens"].size(), 2u);
    EXPECT_EQ(tj["added_tokens"][0]["content"], "<|endoftext|>");
    EXPECT_EQ(tj["added_tokens"][0]["special"], true);
    EXPECT_EQ(tj["added_tokens"][1]["id"], 5);
    EXPECT_EQ(tj["added_tokens"][1]["special"], false);
    EXPECT_EQ(tj["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"], kGlm4PreTokenizerRegex);
    const auto cfg = nlohmann::json::parse((*t)->tokenizer_config_json);
    EXPECT_EQ(cfg["eos_token"], "<|endoftext|>");
    EXPECT_EQ(cfg["chat_template"], "{{ x }}");

    GgufWriter g2;
    g2.add("tokenizer.ggml.model", GgufValue::str("llama"));
    g2.add("tokenizer.ggml.tokens", GgufValue::str_array({"a"}));
    ASSERT_TRUE(g2.open(p).ok());
    ASSERT_TRUE(g2.close().ok());
    auto f2 = GgufFile::open(p);
    ASSERT_TRUE(f2.ok());
    expect_error(tokenizer_from_gguf(*f2).status(), ErrorCode::kUnsupported, {"llama", "gpt2"});
}

TEST(io_gguf, NonGlm4ArchitectureIsRefused) {
    TempDir d;
    const auto p = d.file("llama.gguf");
    GgufWriter g;
    g.add("general.architecture", GgufValue::str("llama"));
    ASSERT_TRUE(g.open(p).ok());
    ASSERT_TRUE(g.close().ok());
    expect_error(Checkpoint::open(p).status(), ErrorCode::kUnsupported, {"llama", "glm4", p});
}

}  // namespace
}  // namespace ag::io
