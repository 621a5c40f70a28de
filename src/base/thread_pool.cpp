#include "base/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <memory>

namespace ag {

namespace {
std::atomic<int> g_global_threads{0};
}

ThreadPool::ThreadPool(int n_threads) {
    if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    n_threads_ = n_threads;
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_work_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(int index) {
    int64_t seen = 0;
    for (;;) {
        const std::function<void(int64_t, int64_t)>* job;
        int64_t n, chunk;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_work_.wait(lock, [&] { return stop_ || generation_ != seen; });
            if (stop_) return;
            seen = generation_;
            job = job_;
            n = job_n_;
            chunk = job_chunk_;
        }
        const int64_t begin = index * chunk;
        const int64_t end = std::min(n, begin + chunk);
        if (begin < end) (*job)(begin, end);
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (--pending_ == 0) cv_done_.notify_one();
        }
    }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    grain = std::max<int64_t>(1, grain);
    const int64_t max_parts = std::max<int64_t>(1, n / grain);
    const int64_t parts = std::min<int64_t>(n_threads_, max_parts);
    if (parts <= 1) {
        fn(0, n);
        return;
    }
    const int64_t chunk = (n + n_threads_ - 1) / n_threads_;
    {
        std::lock_guard<std::mutex> lock(mu_);
        job_ = &fn;
        job_n_ = n;
        job_chunk_ = chunk;
        pending_ = n_threads_ - 1;
        ++generation_;
    }
    cv_work_.notify_all();
    fn(0, std::min(n, chunk));
    std::unique_lock<std::mutex> lock(mu_);
    cv_done_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
}

ThreadPool& ThreadPool::global() {
    static ThreadPool pool(g_global_threads.load());
    return pool;
}

void ThreadPool::set_global_threads(int n_threads) { g_global_threads.store(n_threads); }

}  // namespace ag
