#include "server/output/generation.h"

#include <fmt/format.h>

#include <string>

#include "base/log.h"

namespace ag::server::output {

namespace {
constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr auto kAliveInterval = std::chrono::milliseconds(100);

// Choice i of n gets seed + i, so choices differ while the request stays reproducible.
std::optional<uint64_t> choice_seed(const std::optional<uint64_t>& seed, int32_t i) {
    if (!seed) return std::nullopt;
    return *seed + static_cast<uint64_t>(i);
}

double seconds(Generation::Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}
}  // namespace

Generation::Generation(EngineClient& engine, metrics::Metrics* metrics,
                       Clock::time_point arrival, bool log_requests)
    : engine_(engine), metrics_(metrics), arrival_(arrival), log_requests_(log_requests) {}

// "request 12 stop: prompt 1380 tokens (1024 cached), 57 generated, TTFT 0.41 s, decode
// 11.8 tok/s, total 5.2 s"
void Generation::log_end(const Slot& s, const char* how, Clock::time_point now) const {
    if (!log_requests_) return;
    std::string decode = "-";
    if (s.first_token && s.last_token && s.n_generated > 1 && *s.last_token > *s.first_token) {
        decode = fmt::format("{:.1f} tok/s",
                             static_cast<double>(s.n_generated - 1) /
                                 seconds(*s.last_token - *s.first_token));
    }
    const std::string ttft =
        s.first_token ? fmt::format("{:.2f} s", seconds(*s.first_token - arrival_)) : "-";
    log::info("request {} {}: prompt {} tokens ({} cached), {} generated, TTFT {}, decode {}, "
              "total {:.2f} s",
              s.sub.id, how, s.n_prompt, s.n_cached, s.n_generated, ttft, decode,
              seconds(now - arrival_));
}

Generation::~Generation() { abort_all(); }

Status Generation::submit(const EngineRequest& request, int32_t n) {
    for (int32_t i = 0; i < n; ++i) {
        EngineRequest r = request;
        r.sampling.seed = choice_seed(request.sampling.seed, i);
        Result<Submission> sub = engine_.submit(std::move(r));
        if (!sub.ok()) {
            abort_all();
            return sub.status();
        }
        Slot slot;
        slot.sub = std::move(sub).value();
        slots_.push_back(std::move(slot));
    }
    return Status::ok_status();
}

void Generation::abort_all() {
    for (Slot& s : slots_) {
        if (s.done) continue;
        engine_.abort(s.sub.id);
        s.done = true;
        const Clock::time_point now = Clock::now();
        if (metrics_) metrics_->observe_finished("abort", seconds(now - arrival_));
        log_end(s, "aborted", now);
    }
}

bool Generation::next(int32_t& index, EngineOutput& out, std::chrono::milliseconds timeout) {
    // Round-robin over unfinished choices without waiting, then wait on one of them.
    const size_t n = slots_.size();
    for (size_t k = 0; k < n; ++k) {
        const size_t i = (next_slot_ + k) % n;
        if (!slots_[i].done && slots_[i].sub.channel->pop(out, std::chrono::milliseconds(0))) {
            index = static_cast<int32_t>(i);
            next_slot_ = (i + 1) % n;
            return true;
        }
    }
    for (size_t k = 0; k < n; ++k) {
        const size_t i = (next_slot_ + k) % n;
        if (slots_[i].done) continue;
        if (!slots_[i].sub.channel->pop(out, timeout)) return false;
        index = static_cast<int32_t>(i);
        next_slot_ = (i + 1) % n;
        return true;
    }
    return false;
}

void Generation::observe(int32_t index, const EngineOutput& out, const ChoiceStream& choice) {
    Slot& s = slots_[static_cast<size_t>(index)];
    const Clock::time_point now = Clock::now();
    if (out.n_prompt_tokens > 0) {
        s.n_prompt = out.n_prompt_tokens;
        s.n_cached = out.n_cached_tokens;
    }
    if (!out.tokens.empty()) {
        if (metrics_) {
            if (!s.last_token) metrics_->observe_ttft(seconds(now - arrival_));
            else metrics_->observe_inter_token(seconds(now - *s.last_token));
        }
        if (!s.first_token) s.first_token = now;
        s.last_token = now;
        s.n_generated += static_cast<int64_t>(out.tokens.size());
    }
    if (!choice.finished()) return;
    if (choice.stopped_by_string()) engine_.abort(s.sub.id);
    s.done = true;
    const char* reason = choice.stopped_by_string() ? "stop"
                                                     : finish_reason_name(out.finish_reason);
    if (metrics_) metrics_->observe_finished(reason, seconds(now - arrival_));
    log_end(s, reason, now);
}

bool Generation::run(std::vector<ChoiceStream>& choices, const std::function<bool()>& alive,
                     const DeltaSink& sink) {
    auto last_check = Clock::now();
    size_t n_open = slots_.size();
    while (n_open > 0) {
        int32_t index = 0;
        EngineOutput out;
        const bool got = next(index, out, kPollInterval);
        if (!got || Clock::now() - last_check > kAliveInterval) {
            last_check = Clock::now();
            if (alive && !alive()) {
                log::info("client disconnected; aborting {} request(s)", n_open);
                abort_all();
                return false;
            }
            if (!got) continue;
        }
        ChoiceStream& choice = choices[static_cast<size_t>(index)];
        ChoiceDelta delta = choice.on_output(out);
        observe(index, out, choice);
        if (choice.finished()) --n_open;
        if (!sink(index, delta)) {
            abort_all();
            return false;
        }
    }
    return true;
}

}  // namespace ag::server::output
