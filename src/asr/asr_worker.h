// AsrWorker: transcriptions on a thread of their own with their own thread pool (nice 10, as
// the image encoder's), so a running transcription never holds the chat engine's thread or
// pool: chat streams keep decoding and take the cores first; the transcription gets the rest.
// Jobs run one at a time in arrival order (a second worker would only split the same cores).
//
// Threading: submit() from any thread; AsrTask::next / wait / cancel from the requester's
// thread; the worker thread fills the task.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "asr/transcriber.h"
#include "base/status.h"

namespace ag::asr {

// One queued transcription, shared by the requester and the worker.
class AsrTask {
public:
    enum class Event { kSegment, kDone, kTimeout };
    // The next segment (kSegment, written to *seg), the end (kDone: result() is set), or
    // kTimeout after `timeout` without either.
    Event next(Segment* seg, std::chrono::milliseconds timeout);
    // Waits for the end while alive() holds (polled every 100 ms); cancels the task and returns
    // an error once alive() turns false.
    Result<Transcript> wait(const std::function<bool()>& alive = {});
    const Result<Transcript>& result() const { return result_; }
    void cancel() { cancel_.store(true); }

private:
    friend class AsrWorker;
    std::vector<float> samples_;
    TranscribeOptions options_;
    bool stream_segments_ = false;
    std::atomic<bool> cancel_{false};
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Segment> segments_;
    bool done_ = false;
    Result<Transcript> result_ = Status(ErrorCode::kInternal, "transcription not finished");
};

class AsrWorker {
public:
    // n_threads: the worker pool's size (<= 0: all cores).
    AsrWorker(std::shared_ptr<const Transcriber> transcriber, int n_threads, int nice = 10);
    ~AsrWorker();  // cancels queued and running tasks, joins
    AsrWorker(const AsrWorker&) = delete;
    AsrWorker& operator=(const AsrWorker&) = delete;

    // Queues `samples16k`. With stream_segments, each final segment is also queued on the task
    // for next(); otherwise only the result is kept.
    std::shared_ptr<AsrTask> submit(std::vector<float> samples16k, TranscribeOptions options,
                                    bool stream_segments = false);
    const Transcriber& transcriber() const { return *transcriber_; }
    // Tasks waiting or running.
    size_t pending() const;

private:
    void loop(std::stop_token st);

    std::shared_ptr<const Transcriber> transcriber_;
    int n_threads_, nice_;
    mutable std::mutex mu_;
    std::condition_variable_any cv_;
    std::deque<std::shared_ptr<AsrTask>> queue_;
    std::shared_ptr<AsrTask> running_;
    std::jthread thread_;
};

}  // namespace ag::asr
