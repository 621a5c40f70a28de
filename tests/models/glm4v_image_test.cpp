// GLM-4.1V image understanding against Hugging Face transformers: the vision tower
// (get_image_features), the 3-D positions (get_rope_index), full-prompt logits with image features
// spliced in, and greedy continuations with the KV cache (whole prompt and chunked prefill split
// inside an image run). Goldens: tests/golden/make_golden.py (image_case), tests/golden/README.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "model/archs/glm4v/vision.h"
#include "model/model.h"

namespace ag::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kGoldenRoot = "tests/golden/models";

// Measured (transformers 5.24, 2 threads): features ≤ 2e-6, logits ≤ 1e-5 for both models (our
// f32 math against transformers with the weights upcast to f32). Bounds leave ample headroom.
constexpr float kFeatureTol = 1e-3f;
constexpr float kLogitTol = 1e-3f;

std::vector<std::string> image_models() {
    std::vector<std::string> names;
    if (!fs::exists(kGoldenRoot)) return names;
    for (const auto& e : fs::directory_iterator(kGoldenRoot)) {
        std::ifstream in(e.path() / "golden.json");
        if (!in.good()) continue;
        if (json::parse(in).contains("image_cases")) names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<float> read_f32(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    EXPECT_TRUE(in.good()) << p;
    in.seekg(0, std::ios::end);
    const auto n = static_cast<size_t>(in.tellg()) / sizeof(float);
    in.seekg(0);
    std::vector<float> v(n);
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(float)));
    return v;
}

float max_abs_diff(std::span<const float> a, std::span<const float> b) {
    EXPECT_EQ(a.size(), b.size());
    float m = 0.0f;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

int32_t argmax(std::span<const float> v) {
    return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

struct ImageCase {
    std::vector<int32_t> ids;
    std::vector<ImageGrid> grids;
    std::vector<float> pixels;  // all images' rows, concatenated
    std::vector<float> features;
    std::vector<int32_t> positions;  // [3, n]
    int64_t rope_delta = 0;
    std::vector<float> logits;  // [n, vocab]
    std::vector<int32_t> greedy8;
    json raw;
};

class Glm4vImage : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        dir_ = kGoldenRoot / GetParam();
        std::ifstream in(dir_ / "golden.json");
        golden_ = json::parse(in);
        auto m = load_model(dir_.string());
        ASSERT_TRUE(m.ok()) << m.status().to_string();
        model_ = std::move(m).value();
        vm_ = model_->vision();
        ASSERT_NE(vm_, nullptr);
        for (const auto& c : golden_.at("image_cases")) {
            ImageCase ic;
            ic.raw = c;
            ic.ids = c.at("ids").get<std::vector<int32_t>>();
            for (const auto& g : c.at("image_grid_thw")) ic.grids.push_back({g[0], g[1], g[2]});
            ic.pixels = read_f32(dir_ / c.at("pixel_values_file").get<std::string>());
            ic.features = read_f32(dir_ / c.at("image_features_file").get<std::string>());
            for (const auto& row : c.at("position_ids")) {
                for (int32_t p : row.get<std::vector<int32_t>>()) ic.positions.push_back(p);
            }
            ic.rope_delta = c.at("rope_delta").get<int64_t>();
            ic.logits = read_f32(dir_ / c.at("logits_f32_file").get<std::string>());
            ic.greedy8 = c.at("greedy8").get<std::vector<int32_t>>();
            cases_.push_back(std::move(ic));
        }
        ASSERT_GE(cases_.size(), 3u);
    }

    // All images of a case encoded one at a time and concatenated ([Σ tokens, hidden]).
    std::vector<float> encode_all(const ImageCase& c) const {
        std::vector<float> out;
        size_t off = 0;
        for (const ImageGrid& g : c.grids) {
            const auto n = static_cast<size_t>(g.t * g.h * g.w * vm_->patch_dim());
            auto e = vm_->encode_image(std::span(c.pixels).subspan(off, n), g);
            EXPECT_TRUE(e.ok()) << e.status().to_string();
            if (!e.ok()) return {};
            EXPECT_EQ(static_cast<int64_t>(e->size()),
                      vm_->n_image_tokens(g) * model_->config().text.hidden_size);
            out.insert(out.end(), e->begin(), e->end());
            off += n;
        }
        EXPECT_EQ(off, c.pixels.size());
        return out;
    }

    // Prefill the prompt in chunks ending at `cuts` (and n), then greedy-decode `n_new` tokens with
    // position = cache index + rope_delta. Returns the tokens; `last` gets the prompt's last logits.
    std::vector<int32_t> generate(const ImageCase& c, const std::vector<int64_t>& cuts, int n_new,
                                  std::vector<float>* last = nullptr) const {
        const int64_t vocab = model_->config().text.vocab_size;
        const auto n = static_cast<int64_t>(c.ids.size());
        const std::vector<float> embeds = encode_all(c);
        auto ri = vm_->rope_index(c.ids, c.grids);
        EXPECT_TRUE(ri.ok()) << ri.status().to_string();
        if (!ri.ok()) return {};
        const std::vector<int32_t> rows = image_embed_rows(c.ids, vm_->image_token_id());
        KvCache cache = model_->new_cache();
        std::vector<float> logits(static_cast<size_t>(vocab));
        std::vector<int64_t> ends = cuts;
        ends.push_back(n);
        int64_t start = 0;
        for (int64_t end : ends) {
            const int64_t len = end - start;
            std::vector<int32_t> pos(static_cast<size_t>(3 * len));
            for (int64_t a = 0; a < 3; ++a) {
                for (int64_t j = 0; j < len; ++j) {
                    pos[static_cast<size_t>(a * len + j)] = ri->positions[static_cast<size_t>(a * n + start + j)];
                }
            }
            const auto s = static_cast<size_t>(start), l = static_cast<size_t>(len);
            const Status st = model_->forward({std::span(c.ids).subspan(s, l), pos, false, embeds,
                                               std::span(rows).subspan(s, l)},
                                              cache, logits.data());
            EXPECT_TRUE(st.ok()) << st.to_string();
            start = end;
        }
        if (last) *last = logits;
        std::vector<int32_t> out;
        for (int i = 0; i < n_new; ++i) {
            const int32_t tok = argmax(logits);
            out.push_back(tok);
            if (i + 1 == n_new) break;
            auto pos = text_positions(cache.n_tokens() + ri->rope_delta, 1);
            const Status st = model_->forward({std::span(&tok, 1), pos, false}, cache, logits.data());
            EXPECT_TRUE(st.ok()) << st.to_string();
        }
        return out;
    }

    fs::path dir_;
    json golden_;
    std::unique_ptr<Model> model_;
    const VisionModel* vm_ = nullptr;
    std::vector<ImageCase> cases_;
};

TEST_P(Glm4vImage, CasesCoverSeveralGridsAndTwoImages) {
    bool two = false, non_square = false;
    for (const auto& c : cases_) {
        two |= c.grids.size() >= 2;
        for (const auto& g : c.grids) non_square |= g.h != g.w;
    }
    EXPECT_TRUE(two);
    EXPECT_TRUE(non_square);
}

TEST_P(Glm4vImage, RopeIndexMatchesTransformers) {
    for (const auto& c : cases_) {
        auto ri = vm_->rope_index(c.ids, c.grids);
        ASSERT_TRUE(ri.ok()) << ri.status().to_string();
        EXPECT_EQ(ri->positions, c.positions) << "case " << c.raw.at("image_features_file");
        EXPECT_EQ(ri->rope_delta, c.rope_delta);
    }
}

TEST_P(Glm4vImage, ImageFeaturesMatchTransformers) {
    for (const auto& c : cases_) {
        const std::vector<float> f = encode_all(c);
        const float diff = max_abs_diff(f, c.features);
        EXPECT_LE(diff, kFeatureTol) << c.raw.at("image_features_file");
        if (c.raw.contains("image_features_native_file")) {
            // transformers natively in bf16 rounds every activation; our f32 result may be as far
            // from it as its own f32 run is (plus the f32 bound).
            const auto native = read_f32(dir_ / c.raw.at("image_features_native_file").get<std::string>());
            const float gap = c.raw.at("features_native_vs_f32_max_abs_diff").get<float>();
            EXPECT_LE(max_abs_diff(f, native), gap + kFeatureTol);
        }
        std::cout << "[ measured ] " << GetParam() << " " << c.raw.at("image_features_file")
                  << " max |features - HF f32| = " << diff << "\n";
    }
}

TEST_P(Glm4vImage, FullPromptLogitsMatchTransformers) {
    const int64_t vocab = model_->config().text.vocab_size;
    for (const auto& c : cases_) {
        const auto n = static_cast<int64_t>(c.ids.size());
        const std::vector<float> embeds = encode_all(c);
        auto ri = vm_->rope_index(c.ids, c.grids);
        ASSERT_TRUE(ri.ok());
        const auto rows = image_embed_rows(c.ids, vm_->image_token_id());
        KvCache cache = model_->new_cache();
        std::vector<float> logits(static_cast<size_t>(n * vocab));
        ASSERT_TRUE(model_->forward({c.ids, ri->positions, true, embeds, rows}, cache, logits.data()).ok());
        const float diff = max_abs_diff(logits, c.logits);
        EXPECT_LE(diff, kLogitTol) << c.raw.at("logits_f32_file");
        std::cout << "[ measured ] " << GetParam() << " " << c.raw.at("logits_f32_file")
                  << " max |logits - HF f32| = " << diff << "\n";
    }
}

TEST_P(Glm4vImage, GreedyWithKvCacheMatchesTransformers) {
    for (const auto& c : cases_) {
        EXPECT_EQ(generate(c, {}, 8), c.greedy8) << c.raw.at("logits_f32_file");
    }
}

TEST_P(Glm4vImage, ChunkedPrefillSplitInsideImageRun) {
    const int32_t img = vm_->image_token_id();
    for (const auto& c : cases_) {
        const auto first = std::find(c.ids.begin(), c.ids.end(), img) - c.ids.begin();
        const auto count = std::count(c.ids.begin(), c.ids.end(), img);
        ASSERT_GE(count, 4);
        const int64_t cut = first + 2;  // inside the first image's placeholder run
        std::vector<float> whole, chunked;
        const auto g1 = generate(c, {}, 8, &whole);
        const auto g2 = generate(c, {cut}, 8, &chunked);
        EXPECT_EQ(g2, c.greedy8);
        EXPECT_EQ(g1, g2);
        EXPECT_LE(max_abs_diff(whole, chunked), 1e-4f);
        // Three chunks, the middle one entirely inside the first run.
        EXPECT_EQ(generate(c, {first + 1, first + 3}, 8), c.greedy8);
        // A cut inside the last image's run (the second image of the two-image case).
        const auto last = c.ids.rend() - std::find(c.ids.rbegin(), c.ids.rend(), img) - 1;
        EXPECT_EQ(generate(c, {last - 1}, 8), c.greedy8);
    }
}

TEST_P(Glm4vImage, PlaceholderWithoutFeaturesIsRefused) {
    const auto& c = cases_.front();
    const auto n = static_cast<int64_t>(c.ids.size());
    auto ri = vm_->rope_index(c.ids, c.grids);
    ASSERT_TRUE(ri.ok());
    const std::vector<float> embeds = encode_all(c);
    std::vector<int32_t> rows = image_embed_rows(c.ids, vm_->image_token_id());
    std::vector<float> logits(static_cast<size_t>(model_->config().text.vocab_size));
    auto bad = rows;
    *std::find_if(bad.begin(), bad.end(), [](int32_t r) { return r >= 0; }) = -1;
    KvCache c1 = model_->new_cache();
    EXPECT_FALSE(model_->forward({c.ids, ri->positions, false, embeds, bad}, c1, logits.data()).ok());
    bad = rows;
    *std::find_if(bad.begin(), bad.end(), [](int32_t r) { return r >= 0; }) = 1 << 20;
    KvCache c2 = model_->new_cache();
    EXPECT_FALSE(model_->forward({c.ids, ri->positions, false, embeds, bad}, c2, logits.data()).ok());
    KvCache c3 = model_->new_cache();
    EXPECT_FALSE(model_->forward({c.ids, ri->positions, false, embeds,
                                  std::span(rows).first(static_cast<size_t>(n - 1))},
                                 c3, logits.data()).ok());
}

TEST_P(Glm4vImage, EncodeRejectsBadInput) {
    const auto& c = cases_.front();
    const ImageGrid g = c.grids.front();
    const auto n = static_cast<size_t>(g.t * g.h * g.w * vm_->patch_dim());
    EXPECT_FALSE(vm_->encode_image(std::span(c.pixels).first(n - 1), g).ok());
    EXPECT_FALSE(vm_->encode_image(std::span(c.pixels).first(n), {1, g.h + 1, g.w}).ok());
    EXPECT_FALSE(vm_->encode_image({}, {1, 0, 0}).ok());
}

TEST_P(Glm4vImage, RopeIndexRejectsCountMismatch) {
    const auto& c = cases_.front();
    auto g = c.grids;
    g.front().w += 2;  // one more merged column than the prompt has placeholders for
    EXPECT_FALSE(vm_->rope_index(c.ids, g).ok());
    EXPECT_FALSE(vm_->rope_index(c.ids, {}).ok());  // placeholders but no image
    g = c.grids;
    g.push_back(g.front());  // more images than runs
    EXPECT_FALSE(vm_->rope_index(c.ids, g).ok());
}

TEST_P(Glm4vImage, PositionEmbeddingOnTheTableGridIsTheTable) {
    // grid_sample at the table's own cell centres returns the table (pitfall 14 identity check),
    // rows in merge-window order.
    auto ck = io::Checkpoint::open(dir_.string());
    ASSERT_TRUE(ck.ok());
    auto vc = parse_glm4v_vision_config(ck->config(), "config.json");
    ASSERT_TRUE(vc.ok()) << vc.status().to_string();
    auto tower = Glm4vVisionTower::load(*ck, "model.visual.", *vc);
    ASSERT_TRUE(tower.ok()) << tower.status().to_string();
    const int64_t side = vc->pos_side(), d = vc->hidden_size, m = vc->spatial_merge_size;
    auto t = ck->tensor("model.visual.embeddings.position_embedding.weight");
    ASSERT_TRUE(t.ok());
    const Tensor table = t->to_f32();
    const std::vector<float> pe = (*tower)->position_embedding(side, side);
    float diff = 0.0f;
    for (int64_t n = 0; n < side * side; ++n) {
        const int64_t win = n / (m * m), j = n % (m * m);
        const int64_t r = (win / (side / m)) * m + j / m, col = (win % (side / m)) * m + j % m;
        for (int64_t e = 0; e < d; ++e) {
            diff = std::max(diff, std::fabs(pe[static_cast<size_t>(n * d + e)] -
                                            table.as<float>()[(r * side + col) * d + e]));
        }
    }
    EXPECT_LE(diff, 1e-5f);
}

INSTANTIATE_TEST_SUITE_P(Models, Glm4vImage, ::testing::ValuesIn(image_models()),
                         [](const auto& p) { return p.param; });

// An empty list (wrong working directory, image cases lost) must fail, not pass with no cases.
TEST(Glm4vImageModels, BothImageGoldenModelsAreFound) {
    EXPECT_EQ(image_models(), (std::vector<std::string>{"glm4v_bf16", "glm4v_f32"}));
}

// Spec §2.7 worked example: [gMASK] <sop> <|user|> \n <|begin_of_image|> 12 × <|image|> (grid
// [1, 6, 8]) <|end_of_image|> X <|assistant|> \n.
TEST(Glm4vRopeIndex, SpecWorkedExample) {
    const int32_t kImg = 151343;
    std::vector<int32_t> ids = {151331, 151333, 151336, 198, 151339};
    ids.insert(ids.end(), 12, kImg);
    ids.insert(ids.end(), {151340, 55, 151337, 198});
    const ImageGrid grids[] = {{1, 6, 8}};
    auto ri = glm4v_rope_index(ids, kImg, 151341, 151342, grids, 2);
    ASSERT_TRUE(ri.ok()) << ri.status().to_string();
    const int64_t n = 21;
    ASSERT_EQ(ids.size(), static_cast<size_t>(n));
    const auto at = [&](int64_t i) {
        return std::array<int32_t, 3>{ri->positions[static_cast<size_t>(i)],
                                      ri->positions[static_cast<size_t>(n + i)],
                                      ri->positions[static_cast<size_t>(2 * n + i)]};
    };
    for (int64_t i = 0; i < 5; ++i) {
        const auto p = static_cast<int32_t>(i);
        EXPECT_EQ(at(i), (std::array<int32_t, 3>{p, p, p}));
    }
    EXPECT_EQ(at(5), (std::array<int32_t, 3>{5, 5, 5}));
    EXPECT_EQ(at(8), (std::array<int32_t, 3>{5, 5, 8}));
    EXPECT_EQ(at(16), (std::array<int32_t, 3>{5, 7, 8}));
    EXPECT_EQ(at(17), (std::array<int32_t, 3>{9, 9, 9}));
    EXPECT_EQ(at(18), (std::array<int32_t, 3>{10, 10, 10}));
    EXPECT_EQ(at(20), (std::array<int32_t, 3>{12, 12, 12}));
    EXPECT_EQ(ri->rope_delta, -8);
}

TEST(Glm4vRopeIndex, TextOnlyAndVideoRefused) {
    const std::vector<int32_t> ids = {1, 2, 3, 4};
    auto ri = glm4v_rope_index(ids, 9, 7, 8, {}, 2);
    ASSERT_TRUE(ri.ok());
    EXPECT_EQ(ri->positions, text_positions(0, 4));
    EXPECT_EQ(ri->rope_delta, 0);
    const std::vector<int32_t> video = {1, 7, 9, 9, 9, 9, 8};
    const ImageGrid g[] = {{1, 4, 4}};
    EXPECT_FALSE(glm4v_rope_index(video, 9, 7, 8, g, 2).ok());
}

TEST(Glm4vImageRows, CountsPlaceholdersFromFirstRow) {
    const std::vector<int32_t> ids = {5, 9, 9, 6, 9};
    EXPECT_EQ(image_embed_rows(ids, 9), (std::vector<int32_t>{-1, 0, 1, -1, 2}));
    EXPECT_EQ(image_embed_rows(std::span(ids).subspan(2), 9, 1), (std::vector<int32_t>{1, -1, 2}));
}

}  // namespace
}  // namespace ag::model
