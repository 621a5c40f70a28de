#include "base/thread_pool.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AG_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define AG_CPU_RELAX() asm volatile("yield")
#else
#define AG_CPU_RELAX() ((void)0)
#endif

namespace ag {

namespace {

std::atomic<int> g_global_threads{0};
thread_local ThreadPool* t_bound_pool = nullptr;

// Spins until pred() holds or kSpinMicros pass; returns pred()'s last value. After the first
// few microseconds it yields between checks, so an oversubscribed machine (more threads than
// free cores) still lets the thread being waited for run.
template <class Pred>
bool spin_until(Pred pred) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto yield_after = start + std::chrono::microseconds(ThreadPool::kSpinMicros / 10);
    const auto deadline = start + std::chrono::microseconds(ThreadPool::kSpinMicros);
    for (;;) {
        for (int i = 0; i < 64; ++i) {
            if (pred()) return true;
            AG_CPU_RELAX();
        }
        const auto now = Clock::now();
        if (now > deadline) return pred();
        if (now > yield_after) std::this_thread::yield();
    }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads, int nice) : nice_(nice) {
    if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    n_threads_ = n_threads;
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    stop_.store(true, std::memory_order_relaxed);
    // The bump after stop_ makes every worker (spinning or asleep) observe a change and exit.
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(int index) {
    if (nice_ > 0) {  // best effort: a failure leaves the default priority
        (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice_);
    }
    uint32_t seen = 0;  // the value at construction, even if a job was posted before we ran
    for (;;) {
        if (!spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; })) {
            generation_.wait(seen, std::memory_order_acquire);  // returns once it differs
        }
        seen = generation_.load(std::memory_order_acquire);
        if (stop_.load(std::memory_order_relaxed)) return;
        const int64_t begin = index * job_chunk_;
        const int64_t end = std::min(job_n_, begin + job_chunk_);
        if (begin < end) (*job_)(begin, end);
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
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
    const int64_t chunk = (n + parts - 1) / parts;
    job_ = &fn;
    job_n_ = n;
    job_chunk_ = chunk;
    pending_.store(n_threads_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    fn(0, std::min(n, chunk));
    if (!spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; })) {
        for (int p = pending_.load(std::memory_order_acquire); p != 0;
             p = pending_.load(std::memory_order_acquire)) {
            pending_.wait(p, std::memory_order_acquire);
        }
    }
    job_ = nullptr;
}

ThreadPool& ThreadPool::global() {
    if (t_bound_pool != nullptr) return *t_bound_pool;
    static ThreadPool pool(g_global_threads.load());
    return pool;
}

void ThreadPool::bind_current(ThreadPool* pool) { t_bound_pool = pool; }

void ThreadPool::set_global_threads(int n_threads) { g_global_threads.store(n_threads); }

}  // namespace ag
