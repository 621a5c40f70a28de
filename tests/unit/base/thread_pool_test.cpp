#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "base/thread_pool.h"

namespace ag {

TEST(ThreadPool, CoversRangeExactlyOnce) {
    ThreadPool pool(4);
    for (int64_t n : {0, 1, 3, 7, 100, 1001}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        pool.parallel_for(n, 1, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
        });
        for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
}

}  // namespace ag

namespace ag {

TEST(ThreadPool, ChunksRespectGrainAndOrder) {
    ThreadPool pool(3);
    std::atomic<int> calls{0};
    pool.parallel_for(10, 4, [&](int64_t b, int64_t e) {
        EXPECT_GE(e - b, 4);
        calls++;
    });
    EXPECT_EQ(calls.load(), 2);  // 10 / 4 → at most 2 parts
    calls = 0;
    pool.parallel_for(3, 8, [&](int64_t b, int64_t e) {  // shorter than grain: one chunk
        EXPECT_EQ(b, 0);
        EXPECT_EQ(e, 3);
        calls++;
    });
    EXPECT_EQ(calls.load(), 1);
}

TEST(ThreadPool, ManyBackToBackCallsLoseNoWork) {
    // Exercises the spinning hand-off: thousands of tiny jobs in a row.
    ThreadPool pool(4);
    std::atomic<int64_t> sum{0};
    for (int it = 0; it < 2000; ++it) {
        pool.parallel_for(8, 1, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) sum += i;
        });
    }
    EXPECT_EQ(sum.load(), 2000 * 28);
}

TEST(ThreadPool, WakesSleepingWorkersAndShutsDownWhileAsleep) {
    std::vector<std::atomic<int>> hits(64);
    {
        ThreadPool pool(3);
        for (int round = 0; round < 3; ++round) {
            // Longer than the spin window, so the workers are asleep when the job arrives.
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            pool.parallel_for(64, 1, [&](int64_t b, int64_t e) {
                for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
            });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }  // destructor joins sleeping workers
    for (auto& h : hits) EXPECT_EQ(h.load(), 3);
}

TEST(ThreadPool, SingleThreadPoolRunsInline) {
    ThreadPool pool(1);
    const auto caller = std::this_thread::get_id();
    pool.parallel_for(100, 1, [&](int64_t b, int64_t e) {
        EXPECT_EQ(std::this_thread::get_id(), caller);
        EXPECT_EQ(b, 0);
        EXPECT_EQ(e, 100);
    });
}

}  // namespace ag
