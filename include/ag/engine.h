/// The engine API: the only thing the server (and other embedders) use to run requests.
/// One engine thread owns the model and the KV cache; any thread may submit, abort and read.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ag/types.h"
#include "base/status.h"
#include "tensor/kv_quant.h"

namespace ag {

enum class FinishReason { kNone, kStop, kLength, kAbort, kError };

/// One preprocessed image of a request (multimodal models only).
struct EngineImage {
    std::vector<float> pixel_values;  ///< [grid_t·grid_h·grid_w, patch_dim] preprocessor rows
    int32_t grid_t = 1, grid_h = 0, grid_w = 0;  ///< patch grid before the spatial merge
    uint64_t hash = 0;  ///< content hash: the prefix cache keys the image's tokens by it
};

/// One request as the engine sees it: token ids in, token ids out. Templates, JSON, stop strings
/// and detokenisation stay with the caller.
struct EngineRequest {
    /// With images: the k-th run of the model's image token id is images[k]'s placeholder run,
    /// already expanded to its token count (grid_t·grid_h·grid_w / merge²).
    std::vector<int32_t> prompt_ids;
    std::vector<EngineImage> images;
    SamplingParams sampling;     ///< unset fields take generation_config.json defaults
    int32_t n_top_logprobs = -1; ///< -1: no logprobs; 0..20: chosen token's logprob + top-N
};

struct TokenLogprob {
    int32_t id = 0;
    float logprob = 0.0f;
    std::vector<std::pair<int32_t, float>> top;  ///< top-N (id, logprob), most likely first
};

/// What the engine reports for a request after a step: zero or more new tokens, and at the end
/// one message with `finished` set. The eos/stop token that ended the request is not in tokens.
struct EngineOutput {
    std::vector<int32_t> tokens;
    std::vector<TokenLogprob> logprobs;  ///< parallel to tokens when requested
    bool finished = false;
    FinishReason finish_reason = FinishReason::kNone;
    std::optional<int32_t> stop_token_id;
    int32_t n_prompt_tokens = 0;
    int32_t n_cached_tokens = 0;         ///< prompt tokens served from the prefix cache
    std::string error;                   ///< set with FinishReason::kError
};

/// Thread-safe single-producer (engine) / single-consumer (caller) queue of outputs.
class OutputChannel {
public:
    void push(EngineOutput out);
    /// Waits up to `timeout` for the next output; false on timeout.
    bool pop(EngineOutput& out, std::chrono::milliseconds timeout);

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<EngineOutput> q_;
};

struct EngineConfig {
    int32_t max_model_len = 0;            ///< 0: the model's max_position_embeddings
    int32_t max_num_seqs = 16;
    int32_t max_num_batched_tokens = 2048;
    int32_t block_size = 16;
    double kv_cache_memory_gib = 0.0;     ///< 0: a size derived from max_model_len × max_num_seqs
    bool enable_prefix_caching = true;
    int32_t max_num_queued_reqs = 256;
    int64_t encoder_cache_bytes = int64_t{1} << 30;  ///< vision outputs kept for repeated images
    KvDType kv_cache_dtype = KvDType::kF32;  ///< storage of K/V (the CLI's default is bf16)
};

struct EngineStats {
    int32_t n_running = 0;
    int32_t n_waiting = 0;
    double kv_usage = 0.0;                ///< fraction of KV blocks in use
    int64_t n_blocks = 0;
    int32_t block_size = 0;
    int64_t kv_bytes_per_token = 0;       ///< K and V over all layers, in the KV dtype
    int64_t kv_capacity_tokens = 0;       ///< n_blocks × block_size
    int64_t kv_open_rows_bytes = 0;       ///< int4: f32 rows of open blocks, allocated up front
    std::string kv_cache_dtype;           ///< kv_dtype_name()
    int64_t prefix_queries_tokens = 0;
    int64_t prefix_hits_tokens = 0;
    int64_t n_preemptions = 0;
    int64_t prompt_tokens_total = 0;           ///< whole prompts, at each request's first token
    int64_t prompt_tokens_computed_total = 0;  ///< prompt tokens run through the model
    int32_t n_encoding = 0;                    ///< requests waiting for the image encoder
    int64_t images_encoded_total = 0;          ///< vision-tower runs
    int64_t encoder_cache_hits_total = 0;      ///< images taken from the encoder cache
    int64_t images_prefix_cached_total = 0;    ///< images not needed: their KV was cached
    int64_t encoder_cache_bytes = 0;
    int64_t generation_tokens_total = 0;
    int64_t requests_finished_total = 0;
    int64_t requests_aborted_total = 0;
};

namespace model {
class Model;
}

using RequestId = uint64_t;

struct Submission {
    RequestId id = 0;
    std::shared_ptr<OutputChannel> channel;
};

class EngineClient {
public:
    virtual ~EngineClient() = default;
    /// Starts the engine thread over a loaded model.
    static Result<std::unique_ptr<EngineClient>> create(std::shared_ptr<const model::Model> model,
                                                        const EngineConfig& config);

    /// Validates and queues a request. Fails fast (no expensive work) with kOutOfRange when the
    /// waiting queue is full and kInvalidArgument for bad parameters or a too-long request
    /// (the message gives the numbers).
    virtual Result<Submission> submit(EngineRequest request) = 0;
    /// Cancels a request in any state; its blocks are freed at the next step. Idempotent.
    virtual void abort(RequestId id) = 0;
    virtual EngineStats stats() const = 0;
    virtual const EngineConfig& config() const = 0;
};

}  // namespace ag
