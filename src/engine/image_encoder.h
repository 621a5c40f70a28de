// ImageEncoder: runs the vision tower on a thread of its own, with its own thread pool, so the
// engine thread keeps decoding running streams while a screenshot is encoded (vLLM runs the
// encoder inside its step under a token budget; on a CPU a second pool at lower priority keeps
// the decode cadence without splitting the encode). The pool's threads run at nice 10: when
// both want the cores, decoding goes first and the encode takes what is left.
//
// Threading: submit() and cancel() from the engine thread; `on_done` is called on the encoder
// thread, once per job that was not cancelled before it started.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ag/engine.h"
#include "base/status.h"
#include "engine/encoder_cache.h"
#include "model/model.h"

namespace ag::engine {

struct EncodeJob {
    RequestId id = 0;
    size_t image = 0;                                  // index of the image in its request
    std::shared_ptr<const std::vector<float>> pixels;  // [t·h·w, patch_dim] preprocessor rows
    model::ImageGrid grid;
};

struct EncodeResult {
    RequestId id = 0;
    size_t image = 0;
    Status status;
    ImageEmbeds embeds;  // [n_image_tokens, hidden] when status is ok
};

class ImageEncoder {
public:
    // `vision` must outlive the encoder. n_threads: the size of the encoder's pool.
    ImageEncoder(const model::VisionModel& vision, int n_threads,
                 std::function<void(EncodeResult)> on_done);
    ~ImageEncoder();  // finishes the job in progress, drops the queue
    ImageEncoder(const ImageEncoder&) = delete;
    ImageEncoder& operator=(const ImageEncoder&) = delete;

    void submit(EncodeJob job);
    // Drops the queued jobs of `id` (one already running completes and is reported).
    void cancel(RequestId id);

private:
    void loop(std::stop_token st);

    const model::VisionModel& vision_;
    int n_threads_;
    std::function<void(EncodeResult)> on_done_;
    std::mutex mu_;
    std::condition_variable_any cv_;
    std::deque<EncodeJob> queue_;
    std::jthread thread_;  // last: started after everything it uses exists
};

}  // namespace ag::engine
