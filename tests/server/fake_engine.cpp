#include "fake_engine.h"

#include <algorithm>

namespace ag::server::testing {

FakeEngine::FakeEngine(FakeEngineOptions options) : options_(std::move(options)) {
    config_.max_num_queued_reqs = 0;  // admission decided by submit() (capacity)
}

FakeEngine::~FakeEngine() {
    {
        std::lock_guard lock(mu_);
        for (RequestId id = 1; id < next_id_.load(); ++id) aborted_.insert(id);
    }
    for (auto& t : threads_) t.join();
}

Result<Submission> FakeEngine::submit(EngineRequest request) {
    if (n_active_.load() >= options_.capacity) {
        return Status(ErrorCode::kOutOfRange, "the waiting queue is full");
    }
    ++n_active_;
    const RequestId id = next_id_++;
    auto channel = std::make_shared<OutputChannel>();
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    threads_.emplace_back([this, id, request, channel] { run(id, request, channel); });
    return Submission{id, channel};
}

void FakeEngine::abort(RequestId id) {
    std::lock_guard lock(mu_);
    aborted_.insert(id);
}

bool FakeEngine::is_aborted(RequestId id) const {
    std::lock_guard lock(mu_);
    return aborted_.count(id) > 0;
}

std::set<RequestId> FakeEngine::aborted() const {
    std::lock_guard lock(mu_);
    return aborted_;
}

std::vector<EngineRequest> FakeEngine::requests() const {
    std::lock_guard lock(mu_);
    return requests_;
}

EngineStats FakeEngine::stats() const {
    EngineStats s;
    const int32_t active = n_active_.load();
    s.n_running = std::min(active, options_.max_running);
    s.n_waiting = active - s.n_running;
    s.kv_usage = s.n_running > 0 ? 0.5 : 0.0;
    s.generation_tokens_total = n_generated_.load();
    return s;
}

// Sleeps `d` in small slices; false if the request was aborted meanwhile.
static bool wait_unless(const std::function<bool()>& aborted, std::chrono::milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
        if (aborted()) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return !aborted();
}

void FakeEngine::run(RequestId id, EngineRequest request, std::shared_ptr<OutputChannel> ch) {
    auto aborted = [&] { return is_aborted(id); };
    const auto n_prompt = static_cast<int32_t>(request.prompt_ids.size());
    auto finish = [&](FinishReason r, std::optional<int32_t> stop) {
        EngineOutput out;
        out.finished = true;
        out.finish_reason = r;
        out.stop_token_id = stop;
        out.n_prompt_tokens = n_prompt;
        out.n_cached_tokens = options_.n_cached_tokens;
        ch->push(std::move(out));
        --n_active_;
    };
    if (!wait_unless(aborted, options_.prefill_delay)) {
        return finish(FinishReason::kAbort, {});
    }
    const size_t n_script = options_.script.size();
    uint64_t shift = options_.seed_shifts_script ? request.sampling.seed.value_or(0) : 0;
    if (options_.prompt_shifts_script) {
        for (int32_t p : request.prompt_ids) shift += static_cast<uint64_t>(p);
    }
    for (int32_t i = 0; i < request.sampling.max_tokens; ++i) {
        if (i > 0 && !wait_unless(aborted, options_.step_delay)) {
            return finish(FinishReason::kAbort, {});
        }
        if (aborted()) return finish(FinishReason::kAbort, {});
        if (static_cast<size_t>(i) >= n_script && options_.eos && !request.sampling.ignore_eos) {
            return finish(FinishReason::kStop, options_.eos);
        }
        EngineOutput out;
        out.tokens.push_back(options_.script[(shift + static_cast<size_t>(i)) % n_script]);
        if (request.n_top_logprobs >= 0) {
            TokenLogprob lp{out.tokens[0], -0.5f, {}};
            for (int32_t k = 0; k < request.n_top_logprobs; ++k) {
                lp.top.emplace_back(out.tokens[0] + k, -0.5f - static_cast<float>(k));
            }
            out.logprobs.push_back(lp);
        }
        out.n_prompt_tokens = n_prompt;
        out.n_cached_tokens = options_.n_cached_tokens;
        ++n_generated_;
        ch->push(std::move(out));
    }
    finish(FinishReason::kLength, {});
}

}  // namespace ag::server::testing
