// A fixed pool of worker threads for data-parallel loops. parallel_for blocks the caller, which
// also takes a share of the work. Not re-entrant: one parallel_for at a time per pool. Kernels
// use `ThreadPool::global()`, which is the calling thread's pool: the process-wide one, unless
// the thread bound its own with `bind_current()` (the engine's image-encoder thread does, so
// an encode and a decoder forward can run at the same time on separate pools).
//
// Decode calls parallel_for several times per layer, so a call must cost microseconds: idle
// workers spin on the job counter for a short while (kSpinMicros) before they sleep in a futex
// wait (std::atomic::wait), and the caller spins the same way for the workers to finish.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace ag {

class ThreadPool {
public:
    // n_threads <= 0 means std::thread::hardware_concurrency(). `nice` > 0 lowers the scheduling
    // priority of the worker threads (Linux per-thread nice); the caller's thread is untouched.
    explicit ThreadPool(int n_threads = 0, int nice = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int n_threads() const { return n_threads_; }

    // Calls fn(begin, end) on disjoint chunks covering [0, n); chunks are at least `grain` long
    // (except that a range shorter than grain runs as one chunk).
    void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

    // The pool kernels use on the calling thread: the one bound by bind_current() on this
    // thread, else the process-wide pool (created on first use).
    static ThreadPool& global();
    // Binds `pool` (not owned; null unbinds) as this thread's pool for global().
    static void bind_current(ThreadPool* pool);
    // Sets the size of the global pool; must be called before its first use to take effect.
    static void set_global_threads(int n_threads);

    // How long an idle worker (or a waiting caller) spins before it sleeps.
    static constexpr int64_t kSpinMicros = 200;

private:
    void worker_loop(int index);

    int n_threads_;
    int nice_ = 0;
    std::vector<std::thread> workers_;
    // Job description, written by the caller before `generation_` is bumped (release) and read
    // by workers after they see the new generation (acquire).
    const std::function<void(int64_t, int64_t)>* job_ = nullptr;
    int64_t job_n_ = 0;
    int64_t job_chunk_ = 0;
    alignas(64) std::atomic<uint32_t> generation_{0};  // 32 bits: a plain futex word
    alignas(64) std::atomic<int> pending_{0};
    std::atomic<bool> stop_{false};
};

}  // namespace ag
