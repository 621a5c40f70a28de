#include "asr/asr_worker.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "base/thread_pool.h"

namespace ag::asr {

AsrTask::Event AsrTask::next(Segment* seg, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !segments_.empty() || done_; })) {
        return Event::kTimeout;
    }
    if (!segments_.empty()) {
        *seg = std::move(segments_.front());
        segments_.pop_front();
        return Event::kSegment;
    }
    return Event::kDone;
}

Result<Transcript> AsrTask::wait(const std::function<bool()>& alive) {
    std::unique_lock lock(mu_);
    while (!done_) {
        cv_.wait_for(lock, std::chrono::milliseconds(100));
        segments_.clear();
        if (!done_ && alive && !alive()) {
            cancel();
            return Status(ErrorCode::kInternal, "the client disconnected");
        }
    }
    return result_;
}

AsrWorker::AsrWorker(std::shared_ptr<const Transcriber> transcriber, int n_threads, int nice)
    : transcriber_(std::move(transcriber)), n_threads_(n_threads), nice_(nice),
      thread_([this](std::stop_token st) { loop(st); }) {}

AsrWorker::~AsrWorker() {
    {
        std::lock_guard lock(mu_);
        for (auto& t : queue_) t->cancel();
        if (running_) running_->cancel();
    }
    thread_.request_stop();
    cv_.notify_all();
}

std::shared_ptr<AsrTask> AsrWorker::submit(std::vector<float> samples16k,
                                           TranscribeOptions options, bool stream_segments) {
    auto task = std::make_shared<AsrTask>();
    task->samples_ = std::move(samples16k);
    task->options_ = std::move(options);
    task->options_.cancel = &task->cancel_;
    task->stream_segments_ = stream_segments;
    {
        std::lock_guard lock(mu_);
        queue_.push_back(task);
    }
    cv_.notify_all();
    return task;
}

size_t AsrWorker::pending() const {
    std::lock_guard lock(mu_);
    return queue_.size() + (running_ ? 1 : 0);
}

void AsrWorker::loop(std::stop_token st) {
    // This thread takes a share of every parallel loop, so it is lowered like the workers.
    if (nice_ > 0) (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice_);
    ThreadPool pool(n_threads_, nice_);
    ThreadPool::bind_current(&pool);
    for (;;) {
        std::shared_ptr<AsrTask> task;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, st, [&] { return !queue_.empty(); });
            if (st.stop_requested()) break;
            task = std::move(queue_.front());
            queue_.pop_front();
            running_ = task;
        }
        Result<Transcript> r = Status(ErrorCode::kInternal, "transcription cancelled");
        if (!task->cancel_.load()) {
            std::function<void(const Segment&)> on_segment;
            if (task->stream_segments_) {
                on_segment = [&task](const Segment& s) {
                    {
                        std::lock_guard lock(task->mu_);
                        task->segments_.push_back(s);
                    }
                    task->cv_.notify_all();
                };
            }
            r = transcriber_->transcribe(task->samples_, task->options_, on_segment);
        }
        {
            std::lock_guard lock(mu_);
            running_.reset();
        }
        {
            std::lock_guard lock(task->mu_);
            task->result_ = std::move(r);
            task->done_ = true;
            std::vector<float>().swap(task->samples_);
        }
        task->cv_.notify_all();
    }
    ThreadPool::bind_current(nullptr);
    // Shutting down: whoever still waits gets an answer.
    std::deque<std::shared_ptr<AsrTask>> left;
    {
        std::lock_guard lock(mu_);
        left.swap(queue_);
    }
    for (auto& t : left) {
        {
            std::lock_guard lock(t->mu_);
            t->result_ = Status(ErrorCode::kInternal, "the server is shutting down");
            t->done_ = true;
        }
        t->cv_.notify_all();
    }
}

}  // namespace ag::asr
