// A fixed pool of worker threads for data-parallel loops. parallel_for blocks the caller, which
// also takes a share of the work. Not re-entrant: one parallel_for at a time per pool (the engine
// thread is the only caller).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ag {

class ThreadPool {
public:
    // n_threads <= 0 means std::thread::hardware_concurrency().
    explicit ThreadPool(int n_threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int n_threads() const { return n_threads_; }

    // Calls fn(begin, end) on disjoint chunks covering [0, n); chunks are at least `grain` long.
    void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

    // The process-wide pool used by kernels; created on first use.
    static ThreadPool& global();
    // Sets the size of the global pool; must be called before its first use to take effect.
    static void set_global_threads(int n_threads);

private:
    void worker_loop(int index);

    int n_threads_;
    std::vector<std::thread> workers_;
    std::mutex mu_;
    std::condition_variable cv_work_;
    std::condition_variable cv_done_;
    const std::function<void(int64_t, int64_t)>* job_ = nullptr;
    int64_t job_n_ = 0;
    int64_t job_chunk_ = 0;
    int64_t generation_ = 0;
    int pending_ = 0;
    bool stop_ = false;
};

}  // namespace ag
