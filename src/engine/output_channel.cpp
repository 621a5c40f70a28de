#include "ag/engine.h"

namespace ag {

void OutputChannel::push(EngineOutput out) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        q_.push_back(std::move(out));
    }
    cv_.notify_one();
}

bool OutputChannel::pop(EngineOutput& out, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !q_.empty(); })) return false;
    out = std::move(q_.front());
    q_.pop_front();
    return true;
}

}  // namespace ag
