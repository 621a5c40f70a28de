// The engine thread: schedule → one batched forward → sample → update, for every request in
// flight (vLLM's EngineCore.step). HTTP threads only touch the intake queue, the abort list and
// per-request output channels. Images are encoded on the ImageEncoder's thread: a request with
// images joins the scheduler once every image it needs is encoded (or found in the encoder
// cache, or not needed because the prefix cache holds its tokens' KV).
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "ag/engine.h"
#include "base/log.h"
#include "base/thread_pool.h"
#include "engine/encoder_cache.h"
#include "engine/image_encoder.h"
#include "engine/step_planner.h"
#include "model/model.h"
#include "runtime/sampler.h"

namespace ag {

namespace {

using engine::PlannedSeq;

// One image of a request. Its embeddings are needed only for the prompt tokens the forward
// computes; pixels are kept until embeddings exist, in case the prefix cache that made the
// encode unnecessary loses the blocks before the request is (re)admitted.
struct ImageSlot {
    std::shared_ptr<const std::vector<float>> pixels;  // [t·h·w, patch_dim]; null once embedded
    model::ImageGrid grid;
    uint64_t hash = 0;
    int64_t first_token = 0;  // its placeholder run in the prompt: [first_token, +n_tokens)
    int64_t n_tokens = 0;
    int32_t first_row = 0;    // embed_rows value of its first token
    engine::ImageEmbeds embeds;  // [n_tokens, hidden]; null until encoded
    bool encoding = false;       // on the encoder thread
};

struct ReqState {
    RequestId id = 0;
    std::shared_ptr<OutputChannel> channel;
    std::vector<int32_t> tokens;          // prompt, then generated tokens
    int32_t n_prompt = 0;
    runtime::ResolvedSampling sampling;
    std::unique_ptr<runtime::Sampler> sampler;
    int32_t n_top_logprobs = -1;
    bool ignore_eos = false;
    std::vector<int32_t> stop_ids;
    bool first_token_seen = false;        // its prompt is counted in prompt_tokens_total
    // Multimodal requests only (images non-empty):
    std::vector<ImageSlot> images;
    std::vector<int32_t> positions;       // [3, n_prompt] M-RoPE positions of the prompt
    int64_t rope_delta = 0;               // generated token at index j gets position j + delta
    std::vector<int32_t> embed_rows;      // [n_prompt] image-token row per token, -1 for text
    std::vector<int32_t> cache_keys;      // prompt with image tokens replaced (prefix cache)
    int32_t n_encoding = 0;               // images on the encoder thread
};

// Prefix-cache keys of a prompt: image placeholder tokens are replaced by negative ids derived
// from the image's content hash and the offset inside it (vLLM's image hash + offset scheme), so
// a repeated image hits the cache and a different image with the same size does not.
std::vector<int32_t> cache_key_tokens(std::span<const int32_t> prompt, int32_t image_token_id,
                                      std::span<const EngineImage> images) {
    std::vector<int32_t> keys(prompt.begin(), prompt.end());
    int64_t run = -1;
    uint64_t offset = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
        if (prompt[i] != image_token_id) continue;
        if (i == 0 || prompt[i - 1] != image_token_id) {  // a new image's run starts
            ++run;
            offset = 0;
        }
        const auto k = static_cast<size_t>(run);
        uint64_t h = (k < images.size() ? images[k].hash : 0) + 0x9e3779b97f4a7c15ull * ++offset;
        h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
        h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
        h ^= h >> 31;
        keys[i] = -1 - static_cast<int32_t>(h & 0x3fffffffu);
    }
    return keys;
}

// int4 KV: blocks whose f32 rows can be open at once. At a step's start a running sequence holds
// at most one (its partial last block; full ones were sealed and dropped at the end of the step
// that filled them, freed ones released); the step's new tokens open at most one more per
// sequence plus one per block_size of them.
int64_t int4_open_blocks(const EngineConfig& cfg) {
    if (cfg.kv_cache_dtype != KvDType::kInt4) return 0;
    return 2 * cfg.max_num_seqs + (cfg.max_num_batched_tokens + cfg.block_size - 1) / cfg.block_size;
}

class Engine final : public EngineClient {
public:
    Engine(std::shared_ptr<const model::Model> model, const EngineConfig& cfg, int64_t n_blocks)
        : model_(std::move(model)), cfg_(cfg),
          kv_(model_->config().text.n_layer, model_->config().text.n_head_kv,
              model_->config().text.head_dim, cfg.block_size, n_blocks, cfg.kv_cache_dtype),
          planner_(engine::StepPlanner::create(cfg, n_blocks)),
          encoder_cache_(cfg.encoder_cache_bytes) {
        if (model_->vision() != nullptr) {
            encoder_ = std::make_unique<engine::ImageEncoder>(
                *model_->vision(), ThreadPool::global().n_threads(),
                [this](engine::EncodeResult r) {
                    {
                        std::lock_guard lock(mu_);
                        encoded_.push_back(std::move(r));
                    }
                    cv_.notify_all();
                });
        }
        kv_.reserve_open(static_cast<int32_t>(int4_open_blocks(cfg)));
        stats_.block_size = cfg.block_size;
        stats_.kv_bytes_per_token = static_cast<int64_t>(kv_.token_bytes());
        stats_.kv_capacity_tokens = n_blocks * cfg.block_size;
        stats_.kv_cache_dtype = std::string(kv_dtype_name(cfg.kv_cache_dtype));
        publish_stats();  // n_blocks and the KV sizes visible before the first request
        thread_ = std::jthread([this](std::stop_token st) { loop(st); });
    }

    ~Engine() override {
        thread_.request_stop();
        cv_.notify_all();
        thread_.join();
        encoder_.reset();  // before the members its callback uses
    }

    Result<Submission> submit(EngineRequest req) override;
    void abort(RequestId id) override {
        {
            std::lock_guard lock(mu_);
            aborts_.push_back(id);
        }
        cv_.notify_all();
    }
    EngineStats stats() const override {
        std::lock_guard lock(stats_mu_);
        return stats_;
    }
    const EngineConfig& config() const override { return cfg_; }

private:
    void loop(std::stop_token st);
    bool take_inputs();  // intake, encoder results, aborts; false if there is nothing to do
    Status prepare_images(ReqState& r, EngineRequest& req) const;
    void start_images(ReqState& r);
    void take_encoded(engine::EncodeResult& res);
    void to_planner(ReqState& r);
    bool embed_chunk(ReqState& r, int64_t start, int64_t n, std::vector<int32_t>& rows,
                     std::vector<float>& embeds);
    void step(std::vector<PlannedSeq> plan);
    void fail(ReqState& r, const std::string& message);
    void finish(ReqState& r, FinishReason reason, EngineOutput out);
    void publish_stats();

    std::shared_ptr<const model::Model> model_;
    EngineConfig cfg_;
    model::KvStorage kv_;
    std::unique_ptr<engine::StepPlanner> planner_;
    engine::EncoderCache encoder_cache_;  // engine thread only

    mutable std::mutex mu_;               // guards intake_, aborts_, encoded_
    std::condition_variable_any cv_;
    std::vector<std::unique_ptr<ReqState>> intake_;
    std::vector<RequestId> aborts_;
    std::vector<engine::EncodeResult> encoded_;
    std::atomic<RequestId> next_id_{1};
    std::atomic<int32_t> n_queued_{0};    // submitted, not yet admitted to running

    std::unordered_map<RequestId, std::unique_ptr<ReqState>> live_;  // engine thread only
    int32_t n_encoding_reqs_ = 0;         // live requests waiting for the encoder
    int64_t images_encoded_ = 0, encoder_cache_hits_ = 0, images_prefix_cached_ = 0;

    mutable std::mutex stats_mu_;
    EngineStats stats_;
    std::vector<float> logits_;
    std::unique_ptr<engine::ImageEncoder> encoder_;  // null for text-only models
    std::jthread thread_;
};

Result<Submission> Engine::submit(EngineRequest req) {
    const model::ModelConfig& mc = model_->config();
    if (req.prompt_ids.empty()) return Status(ErrorCode::kInvalidArgument, "The prompt is empty.");
    for (int32_t id : req.prompt_ids) {
        if (id < 0 || id >= mc.text.vocab_size) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("Token id {} is out of vocabulary (size {}).", id,
                                      mc.text.vocab_size));
        }
    }
    const auto n_prompt = static_cast<int64_t>(req.prompt_ids.size());
    if (n_prompt + req.sampling.max_tokens > cfg_.max_model_len) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("This model's maximum context length is {} tokens. However, you "
                                  "requested {} tokens ({} in the messages, {} in the completion). "
                                  "Please reduce the length of the messages or completion.",
                                  cfg_.max_model_len, n_prompt + req.sampling.max_tokens, n_prompt,
                                  req.sampling.max_tokens));
    }
    auto sampling = runtime::resolve_sampling(req.sampling, mc.generation_config);
    if (!sampling.ok()) return sampling.status();
    if (req.n_top_logprobs > 20) {
        return Status(ErrorCode::kInvalidArgument, "top_logprobs must be at most 20.");
    }
    // Queue bound, decided before any work: a full queue is 503 at the server.
    if (n_queued_.fetch_add(1) >= cfg_.max_num_queued_reqs) {
        n_queued_.fetch_sub(1);
        return Status(ErrorCode::kOutOfRange,
                      fmt::format("The server is busy: {} requests are waiting.",
                                  cfg_.max_num_queued_reqs));
    }
    auto r = std::make_unique<ReqState>();
    r->id = next_id_.fetch_add(1);
    r->channel = std::make_shared<OutputChannel>();
    r->tokens = std::move(req.prompt_ids);
    r->n_prompt = static_cast<int32_t>(n_prompt);
    r->sampling = *sampling;
    r->sampler = std::make_unique<runtime::Sampler>(*sampling);
    r->n_top_logprobs = req.n_top_logprobs;
    r->ignore_eos = req.sampling.ignore_eos;
    r->stop_ids = req.sampling.stop_token_ids;
    if (!req.images.empty()) {
        if (Status st = prepare_images(*r, req); !st.ok()) {
            n_queued_.fetch_sub(1);
            return st;
        }
    }
    if (!r->ignore_eos) {
        r->stop_ids.insert(r->stop_ids.end(), mc.eos_token_ids.begin(), mc.eos_token_ids.end());
    }
    Submission sub{r->id, r->channel};
    {
        std::lock_guard lock(mu_);
        intake_.push_back(std::move(r));
    }
    cv_.notify_all();
    return sub;
}

Status Engine::prepare_images(ReqState& r, EngineRequest& req) const {
    const model::VisionModel* vm = model_->vision();
    if (vm == nullptr) {
        return Status(ErrorCode::kInvalidArgument, "This model does not accept image input.");
    }
    std::vector<model::ImageGrid> grids;
    for (const EngineImage& im : req.images) {
        const model::ImageGrid g{im.grid_t, im.grid_h, im.grid_w};
        if (g.t <= 0 || g.h <= 0 || g.w <= 0 || g.h % vm->spatial_merge() != 0 ||
            g.w % vm->spatial_merge() != 0 ||
            im.pixel_values.size() != static_cast<size_t>(g.t * g.h * g.w * vm->patch_dim())) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("image grid [{}, {}, {}] does not match its {} pixel values",
                                      g.t, g.h, g.w, im.pixel_values.size()));
        }
        grids.push_back(g);
    }
    auto idx = vm->rope_index(r.tokens, grids);  // also checks the placeholder runs
    if (!idx.ok()) return idx.status();
    r.positions = std::move(idx->positions);
    r.rope_delta = idx->rope_delta;
    const int32_t image_id = vm->image_token_id();
    r.embed_rows = model::image_embed_rows(r.tokens, image_id);
    r.cache_keys = cache_key_tokens(r.tokens, image_id, req.images);
    int64_t pos = 0;
    int32_t row = 0;
    for (size_t k = 0; k < req.images.size(); ++k) {
        EngineImage& im = req.images[k];
        ImageSlot slot;
        slot.grid = grids[k];
        slot.hash = im.hash;
        slot.n_tokens = vm->n_image_tokens(slot.grid);
        while (r.tokens[static_cast<size_t>(pos)] != image_id) ++pos;  // runs checked above
        slot.first_token = pos;
        slot.first_row = row;
        pos += slot.n_tokens;
        row += static_cast<int32_t>(slot.n_tokens);
        slot.pixels = std::make_shared<const std::vector<float>>(std::move(im.pixel_values));
        r.images.push_back(std::move(slot));
    }
    return {};
}

engine::EncoderKey encoder_key(const ImageSlot& im) {
    return {im.hash, static_cast<int32_t>(im.grid.t), static_cast<int32_t>(im.grid.h),
            static_cast<int32_t>(im.grid.w)};
}

// Per image: nothing to do when the prefix cache holds the KV of all its tokens (the forward
// will not compute them), embeddings from the encoder cache, else a job for the encoder.
void Engine::start_images(ReqState& r) {
    const int64_t n_hit = planner_->n_prefix_hit(r.cache_keys);
    for (size_t k = 0; k < r.images.size(); ++k) {
        ImageSlot& im = r.images[k];
        if (im.first_token + im.n_tokens <= n_hit) {
            ++images_prefix_cached_;
            continue;
        }
        if (engine::ImageEmbeds e = encoder_cache_.find(encoder_key(im))) {
            im.embeds = std::move(e);
            im.pixels.reset();
            ++encoder_cache_hits_;
            continue;
        }
        im.encoding = true;
        ++r.n_encoding;
        encoder_->submit({r.id, k, im.pixels, im.grid});
    }
    if (r.n_encoding > 0) ++n_encoding_reqs_;
}

void Engine::take_encoded(engine::EncodeResult& res) {
    auto it = live_.find(res.id);
    ReqState* r = it == live_.end() ? nullptr : it->second.get();
    if (res.status.ok()) {
        ++images_encoded_;
        if (r != nullptr) encoder_cache_.put(encoder_key(r->images[res.image]), res.embeds);
    }
    if (r == nullptr || !r->images[res.image].encoding) return;  // aborted or failed meanwhile
    ImageSlot& im = r->images[res.image];
    im.encoding = false;
    --r->n_encoding;
    if (!res.status.ok()) {
        fail(*r, fmt::format("image {}: {}", res.image, res.status.message()));
        return;
    }
    im.embeds = std::move(res.embeds);
    im.pixels.reset();
    if (r->n_encoding == 0) {
        --n_encoding_reqs_;
        to_planner(*r);
    }
}

void Engine::to_planner(ReqState& r) {
    Status s = planner_->add(r.id, r.images.empty() ? r.tokens : r.cache_keys,
                             r.sampling.max_tokens);
    if (!s.ok()) fail(r, s.message());
}

bool Engine::take_inputs() {
    std::vector<std::unique_ptr<ReqState>> intake;
    std::vector<RequestId> aborts;
    std::vector<engine::EncodeResult> encoded;
    {
        std::lock_guard lock(mu_);
        intake.swap(intake_);
        aborts.swap(aborts_);
        encoded.swap(encoded_);
    }
    for (engine::EncodeResult& res : encoded) take_encoded(res);
    for (auto& up : intake) {
        ReqState& r = *up;
        live_.emplace(r.id, std::move(up));
        if (!r.images.empty()) start_images(r);
        if (r.n_encoding == 0) to_planner(r);
    }
    for (RequestId id : aborts) {
        auto it = live_.find(id);
        if (it == live_.end()) continue;  // finished already, or unknown
        EngineOutput out;
        out.n_prompt_tokens = it->second->n_prompt;
        finish(*it->second, FinishReason::kAbort, std::move(out));
        {
            std::lock_guard lock(stats_mu_);
            ++stats_.requests_aborted_total;
        }
    }
    return !live_.empty();
}

void Engine::fail(ReqState& r, const std::string& message) {
    EngineOutput out;
    out.n_prompt_tokens = r.n_prompt;
    out.error = message;
    finish(r, FinishReason::kError, std::move(out));
}

void Engine::finish(ReqState& r, FinishReason reason, EngineOutput out) {
    out.finished = true;
    out.finish_reason = reason;
    r.channel->push(std::move(out));
    if (r.n_encoding > 0) {
        encoder_->cancel(r.id);
        --n_encoding_reqs_;
    }
    planner_->remove(r.id);
    live_.erase(r.id);  // destroys r
}

void Engine::loop(std::stop_token st) {
    while (!st.stop_requested()) {
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, st, [&] {
                return !intake_.empty() || !aborts_.empty() || !encoded_.empty() ||
                       static_cast<int32_t>(live_.size()) > n_encoding_reqs_;
            });
        }
        if (st.stop_requested()) break;
        if (!take_inputs()) {
            publish_stats();
            continue;
        }
        std::vector<PlannedSeq> plan = planner_->plan();
        // Freed blocks (finished, aborted, preempted) lose their open int4 rows before the
        // forward writes to any of them again.
        for (int32_t b : planner_->take_freed_blocks()) kv_.release(b);
        const bool idle = plan.empty();
        if (!idle) step(std::move(plan));
        publish_stats();
        if (idle) {
            // Nothing schedulable (waiting for the encoder, or for blocks only an abort frees).
            std::unique_lock lock(mu_);
            cv_.wait_for(lock, st, std::chrono::milliseconds(5), [&] {
                return !intake_.empty() || !aborts_.empty() || !encoded_.empty();
            });
        }
    }
    for (auto& [id, r] : live_) {
        EngineOutput out;
        out.finished = true;
        out.finish_reason = FinishReason::kAbort;
        r->channel->push(std::move(out));
    }
}

// The image embeddings of prompt tokens [start, start + n) as a chunk-local buffer: rows[j] is
// token j's row in `embeds`, -1 for text. An image whose embeddings are missing (skipped for
// a prefix-cache hit that admission no longer found) is encoded here, on the engine thread;
// false if that fails (the request has been failed).
bool Engine::embed_chunk(ReqState& r, int64_t start, int64_t n, std::vector<int32_t>& rows,
                         std::vector<float>& embeds) {
    const int64_t hidden = model_->config().text.hidden_size;
    rows.assign(static_cast<size_t>(n), -1);
    embeds.clear();
    int32_t n_rows = 0;
    for (size_t k = 0; k < r.images.size(); ++k) {
        ImageSlot& im = r.images[k];
        const int64_t lo = std::max(start, im.first_token);
        const int64_t hi = std::min(start + n, im.first_token + im.n_tokens);
        if (lo >= hi) continue;
        if (!im.embeds) {
            auto e = model_->vision()->encode_image(*im.pixels, im.grid);
            if (!e.ok()) {
                fail(r, fmt::format("image {}: {}", k, e.status().message()));
                return false;
            }
            im.embeds = std::make_shared<const std::vector<float>>(std::move(e).value());
            im.pixels.reset();
            ++images_encoded_;
            encoder_cache_.put(encoder_key(im), im.embeds);
        }
        const float* src = im.embeds->data() + (lo - im.first_token) * hidden;
        embeds.insert(embeds.end(), src, src + (hi - lo) * hidden);
        for (int64_t j = lo; j < hi; ++j) rows[static_cast<size_t>(j - start)] = n_rows++;
    }
    return true;
}

void Engine::step(std::vector<PlannedSeq> plan) {
    const model::ModelConfig& mc = model_->config();
    const int64_t vocab = mc.text.vocab_size;
    std::vector<std::vector<int32_t>> positions(plan.size()), rows(plan.size());
    std::vector<std::vector<float>> embeds(plan.size());
    // Image rows of prefill chunks first: a request whose image cannot be embedded leaves the step.
    size_t n_kept = 0;
    for (size_t i = 0; i < plan.size(); ++i) {
        const PlannedSeq& p = plan[i];
        ReqState& r = *live_.at(p.id);
        if (!r.images.empty() && p.start < r.n_prompt &&
            !embed_chunk(r, p.start, std::min<int64_t>(p.n_tokens, r.n_prompt - p.start),
                         rows[n_kept], embeds[n_kept])) {
            rows[n_kept].clear();
            embeds[n_kept].clear();
            continue;
        }
        if (n_kept != i) plan[n_kept] = std::move(plan[i]);
        ++n_kept;
    }
    plan.resize(n_kept);
    if (plan.empty()) {
        planner_->commit(plan, {});
        return;
    }
    std::vector<model::SeqInput> seqs;
    int64_t n_rows = 0;
    for (size_t i = 0; i < plan.size(); ++i) {
        const PlannedSeq& p = plan[i];
        ReqState& r = *live_.at(p.id);
        model::SeqInput in;
        in.tokens = std::span(r.tokens).subspan(static_cast<size_t>(p.start),
                                                static_cast<size_t>(p.n_tokens));
        in.n_past = p.start;
        in.block_table = p.block_table;
        in.logits = p.sample ? model::LogitsMode::kLast : model::LogitsMode::kNone;
        if (r.positions.empty()) {
            positions[i] = model::text_positions(p.start, p.n_tokens);
        } else {
            // Prompt tokens take their M-RoPE positions; generated ones index + rope delta.
            positions[i] = model::text_positions(p.start + r.rope_delta, p.n_tokens);
            if (p.start < r.n_prompt) {  // a prefill chunk: image rows and 3-D positions
                rows[i].resize(static_cast<size_t>(p.n_tokens), -1);
                const int64_t end = std::min<int64_t>(p.start + p.n_tokens, r.n_prompt);
                for (int64_t j = p.start; j < end; ++j) {
                    for (int64_t a = 0; a < 3; ++a) {
                        positions[i][static_cast<size_t>(a * p.n_tokens + j - p.start)] =
                            r.positions[static_cast<size_t>(a * r.n_prompt + j)];
                    }
                }
                in.embeds = embeds[i];
                in.embed_rows = rows[i];
            }
        }
        in.positions = positions[i];
        seqs.push_back(in);
        n_rows += p.sample ? 1 : 0;
    }

    logits_.resize(static_cast<size_t>(std::max<int64_t>(1, n_rows) * vocab));
    Status s = model_->forward_batch(seqs, kv_, logits_.data());
    if (!s.ok()) {  // a bug or bad input that passed validation: fail these requests, keep serving
        log::error("forward failed: {}", s.message());
        for (const PlannedSeq& p : plan) {
            EngineOutput out;
            out.error = s.message();
            finish(*live_.at(p.id), FinishReason::kError, std::move(out));
        }
        return;
    }

    std::vector<int32_t> sampled;
    std::vector<std::pair<RequestId, EngineOutput>> done;
    int64_t row = 0, n_prompt_computed = 0, n_prompt_done = 0, n_generated = 0;
    for (const PlannedSeq& p : plan) {
        ReqState& r = *live_.at(p.id);
        n_prompt_computed += std::max<int64_t>(0, std::min<int64_t>(p.start + p.n_tokens, r.n_prompt) - p.start);
        if (!p.sample) continue;
        std::span<float> l(logits_.data() + row * vocab, static_cast<size_t>(vocab));
        ++row;
        if (!r.first_token_seen) {  // vLLM counts a request's whole prompt at its first token
            r.first_token_seen = true;
            n_prompt_done += r.n_prompt;
        }
        const std::span<const int32_t> prompt(r.tokens.data(), static_cast<size_t>(r.n_prompt));
        const std::span<const int32_t> output(r.tokens.data() + r.n_prompt, r.tokens.size() - static_cast<size_t>(r.n_prompt));
        runtime::SampleResult sr = r.sampler->sample_with_logprobs(l, prompt, output, r.n_top_logprobs);
        EngineOutput out;
        out.n_prompt_tokens = r.n_prompt;
        out.n_cached_tokens = planner_->n_cached_tokens(r.id);
        const bool is_stop = std::find(r.stop_ids.begin(), r.stop_ids.end(), sr.token) != r.stop_ids.end();
        if (is_stop) {
            out.finished = true;
            out.finish_reason = FinishReason::kStop;
            out.stop_token_id = sr.token;
            sampled.push_back(-1);
        } else {
            r.tokens.push_back(sr.token);
            ++n_generated;
            out.tokens.push_back(sr.token);
            if (r.n_top_logprobs >= 0) out.logprobs.push_back({sr.token, sr.logprob, std::move(sr.top_logprobs)});
            const auto n_out = static_cast<int64_t>(r.tokens.size()) - r.n_prompt;
            if (n_out >= r.sampling.max_tokens ||
                static_cast<int64_t>(r.tokens.size()) >= cfg_.max_model_len) {
                out.finished = true;
                out.finish_reason = FinishReason::kLength;
                sampled.push_back(-1);
            } else {
                sampled.push_back(sr.token);
            }
        }
        done.emplace_back(r.id, std::move(out));
    }
    planner_->commit(plan, sampled);
    // Counted before the outputs go out: a client that reads /metrics right after its response
    // sees its own tokens.
    {
        const auto n_finished = std::count_if(done.begin(), done.end(),
                                              [](const auto& d) { return d.second.finished; });
        std::lock_guard lock(stats_mu_);
        stats_.prompt_tokens_total += n_prompt_done;
        stats_.prompt_tokens_computed_total += n_prompt_computed;
        stats_.generation_tokens_total += n_generated;
        stats_.requests_finished_total += n_finished;
    }
    for (auto& [id, out] : done) {
        ReqState& r = *live_.at(id);
        if (out.finished) {
            const FinishReason reason = out.finish_reason;
            finish(r, reason, std::move(out));
        } else {
            r.channel->push(std::move(out));
        }
    }
}

void Engine::publish_stats() {
    const engine::PlannerStats ps = planner_->stats();
    n_queued_.store(ps.n_waiting + n_encoding_reqs_ + [&] {
        std::lock_guard lock(mu_);
        return static_cast<int32_t>(intake_.size());
    }());
    std::lock_guard lock(stats_mu_);
    stats_.n_running = ps.n_running;
    stats_.n_waiting = ps.n_waiting + n_encoding_reqs_;
    stats_.n_encoding = n_encoding_reqs_;
    stats_.images_encoded_total = images_encoded_;
    stats_.encoder_cache_hits_total = encoder_cache_hits_;
    stats_.images_prefix_cached_total = images_prefix_cached_;
    stats_.encoder_cache_bytes = encoder_cache_.bytes();
    stats_.kv_usage = ps.kv_usage;
    stats_.kv_open_rows_bytes = static_cast<int64_t>(kv_.open_bytes());
    stats_.n_blocks = ps.n_blocks;
    stats_.prefix_queries_tokens = ps.prefix_queries_tokens;
    stats_.prefix_hits_tokens = ps.prefix_hits_tokens;
    stats_.n_preemptions = ps.n_preemptions;
}

}  // namespace

Result<std::unique_ptr<EngineClient>> EngineClient::create(
    std::shared_ptr<const model::Model> model, const EngineConfig& requested) {
    if (!model) return Status(ErrorCode::kInvalidArgument, "no model");
    EngineConfig cfg = requested;
    const model::TextConfig& t = model->config().text;
    if (cfg.max_model_len <= 0) {
        cfg.max_model_len = static_cast<int32_t>(t.max_position_embeddings > 0 ? t.max_position_embeddings : 4096);
    } else if (t.max_position_embeddings > 0 && cfg.max_model_len > t.max_position_embeddings) {
        // vLLM refuses this unless VLLM_ALLOW_LONG_MAX_MODEL_LEN=1; here it is allowed, loudly.
        log::warn("--max-model-len {} exceeds the model's max_position_embeddings {}: positions "
                  "past {} were never trained and outputs there may be poor",
                  cfg.max_model_len, t.max_position_embeddings, t.max_position_embeddings);
    }
    if (cfg.block_size <= 0 || cfg.max_num_seqs <= 0 || cfg.max_num_batched_tokens <= 0) {
        return Status(ErrorCode::kInvalidArgument,
                      "block size, max-num-seqs and max-num-batched-tokens must be positive");
    }
    if (!kv_dtype_supports(cfg.kv_cache_dtype, t.head_dim)) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("--kv-cache-dtype {} cannot store heads of {} values",
                                  kv_dtype_name(cfg.kv_cache_dtype), t.head_dim));
    }
    // KV bytes per block: K and V, every layer, in the KV dtype (scales included).
    const double token_bytes = model::KvStorage::bytes_per_token(t.n_layer, t.n_head_kv, t.head_dim,
                                                                 cfg.block_size, cfg.kv_cache_dtype);
    const double block_bytes = token_bytes * cfg.block_size;
    // int4's open f32 rows are allocated up front and count against the memory given.
    const double open_bytes = static_cast<double>(int4_open_blocks(cfg)) *
                              model::KvStorage::open_block_bytes(t.n_layer, t.n_head_kv, t.head_dim,
                                                                 cfg.block_size, cfg.kv_cache_dtype);
    const int64_t min_blocks = (cfg.max_model_len + cfg.block_size - 1) / cfg.block_size + 1;
    // Blocks that fit in --kv-cache-memory (default: at most 4 GiB) once the open rows are out.
    const double budget = (cfg.kv_cache_memory_gib > 0 ? cfg.kv_cache_memory_gib : 4.0) * (1ull << 30);
    const auto fit = static_cast<int64_t>(std::max(0.0, budget - open_bytes) / block_bytes);
    int64_t n_blocks = fit;
    if (cfg.kv_cache_memory_gib <= 0) {
        // Room for every sequence at full length, within the cap (but always one full sequence).
        const int64_t per_seq = (cfg.max_model_len + cfg.block_size - 1) / cfg.block_size;
        n_blocks = std::max(min_blocks, std::min<int64_t>(per_seq * cfg.max_num_seqs + 1, fit));
    }
    if (n_blocks < min_blocks) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("the KV cache ({} blocks of {} tokens) cannot hold one sequence of "
                                  "max-model-len {}: raise --kv-cache-memory or lower --max-model-len",
                                  n_blocks, cfg.block_size, cfg.max_model_len));
    }
    log::info("KV cache: {} blocks x {} tokens = {} tokens, dtype {}, {:.1f} KiB per token ({:.2f} GiB{})",
              n_blocks, cfg.block_size, n_blocks * cfg.block_size,
              kv_dtype_name(cfg.kv_cache_dtype), token_bytes / 1024.0,
              static_cast<double>(n_blocks) * block_bytes / (1ull << 30),
              open_bytes > 0 ? fmt::format(" + {:.2f} GiB of f32 rows for {} open blocks",
                                           open_bytes / (1ull << 30), int4_open_blocks(cfg))
                             : std::string());
    return std::unique_ptr<EngineClient>(new Engine(std::move(model), cfg, n_blocks));
}

}  // namespace ag
