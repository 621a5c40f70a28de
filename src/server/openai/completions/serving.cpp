#include "server/openai/completions/serving.h"

#include <memory>

#include "server/http/sse.h"
#include "server/openai/completions/protocol.h"
#include "server/openai/serving_common.h"
#include "server/output/logprobs.h"

namespace ag::server::openai {

namespace {

using output::ChoiceDelta;

struct CompletionJob {
    ServingContext ctx;
    std::string id;
    int64_t created = 0;
    bool stream = false;
    bool include_usage = false;
    bool want_logprobs = false;
    std::vector<int64_t> text_offsets;
    std::vector<output::ChoiceStream> choices;
    std::unique_ptr<output::Generation> gen;  // destroyed first: aborts what is unfinished
};

nlohmann::json usage_of(const CompletionJob& job) {
    int64_t n_completion = 0;
    for (const auto& c : job.choices) n_completion += c.n_completion_tokens();
    const auto& c0 = job.choices.front();
    return usage_json(c0.n_prompt_tokens(), n_completion, c0.n_cached_tokens());
}

nlohmann::json envelope(const CompletionJob& job, nlohmann::json choices) {
    return {{"id", job.id},
            {"object", "text_completion"},
            {"created", job.created},
            {"model", job.ctx.model.served_name},
            {"choices", std::move(choices)}};
}

nlohmann::json logprobs_of(CompletionJob& job, int32_t index, const ChoiceDelta& d,
                           nlohmann::json& into) {
    if (!job.want_logprobs) return nullptr;
    output::append_completion_logprobs(*job.ctx.tokenizer, d.logprobs, into,
                                       job.text_offsets[static_cast<size_t>(index)]);
    return into;
}

void stream_body(const std::shared_ptr<CompletionJob>& job, http::StreamWriter& w) {
    auto sink = [&](int32_t index, ChoiceDelta& d) {
        if (d.finish_reason == "error") {
            ApiError e = internal_error(d.error.empty() ? "generation failed" : d.error);
            return w.write(http::sse_event(dump(error_json(e))));
        }
        if (d.content.empty() && d.logprobs.empty() && !d.finished) return w.alive();
        nlohmann::json lp = output::empty_completion_logprobs();
        nlohmann::json c = {{"index", index},
                            {"text", d.content},
                            {"logprobs", logprobs_of(*job, index, d, lp)},
                            {"finish_reason", nullptr}};
        if (d.finished) {
            c["finish_reason"] = d.finish_reason;
            c["stop_reason"] = d.stop_reason;
        }
        return w.write(http::sse_event(dump(envelope(*job, {c}))));
    };
    if (!job->gen->run(job->choices, [&] { return w.alive(); }, sink)) return;
    if (job->include_usage) {
        nlohmann::json u = envelope(*job, nlohmann::json::array());
        u["usage"] = usage_of(*job);
        if (!w.write(http::sse_event(dump(u)))) return;
    }
    w.write(http::sse_done());
}

http::HttpResponse full_body(CompletionJob& job, const http::HttpRequest& req) {
    const size_t n = job.choices.size();
    std::vector<nlohmann::json> choices(n);
    for (size_t i = 0; i < n; ++i) {
        choices[i] = {{"index", i}, {"text", ""}, {"logprobs", nullptr}};
        if (job.want_logprobs) choices[i]["logprobs"] = output::empty_completion_logprobs();
    }
    std::string error;
    auto sink = [&](int32_t index, ChoiceDelta& d) {
        nlohmann::json& c = choices[static_cast<size_t>(index)];
        c["text"] = c["text"].get<std::string>() + d.content;
        if (job.want_logprobs) logprobs_of(job, index, d, c["logprobs"]);
        if (d.finished) {
            c["finish_reason"] = d.finish_reason;
            c["stop_reason"] = d.stop_reason;
            if (d.finish_reason == "error") error = d.error.empty() ? "generation failed" : d.error;
        }
        return true;
    };
    if (!job.gen->run(job.choices, req.client_alive, sink)) {
        return error_response(bad_request("the client disconnected"));
    }
    if (!error.empty()) return error_response(internal_error(error));
    nlohmann::json body = envelope(job, choices);
    body["usage"] = usage_of(job);
    body["system_fingerprint"] = nullptr;
    return json_response(body);
}

std::optional<ApiError> prepare(const ServingContext& ctx, const http::HttpRequest& req,
                                CompletionJob& job) {
    const auto arrival = output::Generation::Clock::now();
    nlohmann::json body;
    if (auto e = parse_body(req, body)) return e;
    CompletionRequest r;
    if (auto e = parse_completion_request(body, ctx, r)) return e;
    if (auto e = check_model(ctx, r.common.model)) return e;
    if (auto e = check_admission(ctx)) return e;
    std::vector<int32_t> ids =
        r.prompt_text ? ctx.tokenizer->encode(*r.prompt_text) : std::move(r.prompt_ids);
    job.stream = r.common.stream;
    job.include_usage = r.common.include_usage;
    job.want_logprobs = r.logprobs.has_value();
    job.text_offsets.assign(static_cast<size_t>(r.common.n), 0);
    job.choices = make_choices(ctx, r.common, job.want_logprobs, false);
    return start_generation(ctx, r.common, std::move(ids), r.logprobs.value_or(-1), arrival,
                            job.gen);
}

}  // namespace

http::HttpResponse handle_completions(const ServingContext& ctx, const http::HttpRequest& req) {
    auto job = std::make_shared<CompletionJob>();
    job->ctx = ctx;
    job->id = random_id("cmpl-");
    job->created = unix_now();
    if (auto e = prepare(ctx, req, *job)) return error_response(*e);
    if (!job->stream) return full_body(*job, req);
    http::HttpResponse res;
    res.content_type = "text/event-stream";
    res.headers.emplace_back("Cache-Control", "no-cache");
    res.stream = [job](http::StreamWriter& w) { stream_body(job, w); };
    return res;
}

}  // namespace ag::server::openai
