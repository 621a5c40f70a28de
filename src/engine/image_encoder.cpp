#include "engine/image_encoder.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "base/thread_pool.h"

namespace ag::engine {

namespace {
constexpr int kEncoderNice = 10;
}

ImageEncoder::ImageEncoder(const model::VisionModel& vision, int n_threads,
                           std::function<void(EncodeResult)> on_done)
    : vision_(vision), n_threads_(std::max(1, n_threads)), on_done_(std::move(on_done)),
      thread_([this](std::stop_token st) { loop(st); }) {}

ImageEncoder::~ImageEncoder() {
    thread_.request_stop();
    cv_.notify_all();
}

void ImageEncoder::submit(EncodeJob job) {
    {
        std::lock_guard lock(mu_);
        queue_.push_back(std::move(job));
    }
    cv_.notify_all();
}

void ImageEncoder::cancel(RequestId id) {
    std::lock_guard lock(mu_);
    std::erase_if(queue_, [&](const EncodeJob& j) { return j.id == id; });
}

void ImageEncoder::loop(std::stop_token st) {
    // This thread does a share of every parallel loop, so it is lowered like the pool's workers.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kEncoderNice);
    ThreadPool pool(n_threads_, kEncoderNice);
    ThreadPool::bind_current(&pool);
    for (;;) {
        EncodeJob job;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, st, [&] { return !queue_.empty(); });
            if (st.stop_requested()) break;
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        EncodeResult res{job.id, job.image, {}, nullptr};
        auto e = vision_.encode_image(*job.pixels, job.grid);
        if (e.ok()) {
            res.embeds = std::make_shared<const std::vector<float>>(std::move(e).value());
        } else {
            res.status = e.status();
        }
        on_done_(std::move(res));
    }
    ThreadPool::bind_current(nullptr);
}

}  // namespace ag::engine
