#include "server/openai/chat_completions/serving.h"

#include <fmt/format.h>

#include <memory>

#include "server/http/sse.h"
#include "server/openai/audio/audio_input.h"
#include "server/openai/chat_completions/protocol.h"
#include "server/openai/media.h"
#include "server/openai/serving_common.h"
#include "server/output/logprobs.h"

namespace ag::server::openai {

namespace {

using output::ChoiceDelta;

struct ChatJob {
    ServingContext ctx;  // holds the engine and tokenizer alive while the stream runs
    std::string id;
    int64_t created = 0;
    bool stream = false;
    bool include_usage = false;
    bool want_logprobs = false;
    bool split_reasoning = false;
    std::vector<output::ChoiceStream> choices;
    std::unique_ptr<output::Generation> gen;  // destroyed first: aborts what is unfinished
};

nlohmann::json usage_of(const ChatJob& job) {
    int64_t n_completion = 0;
    for (const auto& c : job.choices) n_completion += c.n_completion_tokens();
    const auto& c0 = job.choices.front();
    return usage_json(c0.n_prompt_tokens(), n_completion, c0.n_cached_tokens());
}

nlohmann::json chunk(const ChatJob& job, nlohmann::json choices) {
    return {{"id", job.id},
            {"object", "chat.completion.chunk"},
            {"created", job.created},
            {"model", job.ctx.model.served_name},
            {"choices", std::move(choices)}};
}

nlohmann::json stream_choice(int32_t index, nlohmann::json delta, nlohmann::json logprobs) {
    return {{"index", index},
            {"delta", std::move(delta)},
            {"logprobs", std::move(logprobs)},
            {"finish_reason", nullptr}};
}

void set_reasoning(nlohmann::json& obj, const std::string& reasoning, bool keep_null) {
    if (reasoning.empty() && !keep_null) return;
    nlohmann::json v = reasoning.empty() ? nlohmann::json() : nlohmann::json(reasoning);
    obj["reasoning_content"] = v;
    obj["reasoning"] = v;
}

// The SSE events for one delta of choice `index` (empty: nothing to send).
std::string delta_events(const ChatJob& job, int32_t index, const ChoiceDelta& d,
                         bool& role_sent) {
    std::string events;
    if (!role_sent && (d.n_tokens > 0 || d.finished)) {
        role_sent = true;
        nlohmann::json role = {{"role", "assistant"}, {"content", ""}};
        events += http::sse_event(dump(chunk(job, {stream_choice(index, role, nullptr)})));
    }
    if (d.finish_reason == "error") {
        ApiError e = internal_error(d.error.empty() ? "generation failed" : d.error);
        return events + http::sse_event(dump(error_json(e)));
    }
    if (d.content.empty() && d.reasoning.empty() && d.logprobs.empty() && !d.finished) {
        return events;
    }
    nlohmann::json delta = nlohmann::json::object();
    set_reasoning(delta, d.reasoning, false);
    if (!d.content.empty()) delta["content"] = d.content;
    nlohmann::json lp = nullptr;
    if (job.want_logprobs) {
        lp = {{"content", output::chat_logprobs(*job.ctx.tokenizer, d.logprobs)}};
    }
    nlohmann::json c = stream_choice(index, std::move(delta), std::move(lp));
    if (d.finished) {
        c["finish_reason"] = d.finish_reason;
        c["stop_reason"] = d.stop_reason;
    }
    return events + http::sse_event(dump(chunk(job, {c})));
}

void stream_body(const std::shared_ptr<ChatJob>& job, http::StreamWriter& w) {
    std::vector<char> role_sent(job->choices.size(), 0);
    auto sink = [&](int32_t index, ChoiceDelta& d) {
        bool sent = role_sent[static_cast<size_t>(index)] != 0;
        const std::string events = delta_events(*job, index, d, sent);
        role_sent[static_cast<size_t>(index)] = sent ? 1 : 0;
        return events.empty() ? w.alive() : w.write(events);
    };
    if (!job->gen->run(job->choices, [&] { return w.alive(); }, sink)) return;
    if (job->include_usage) {
        nlohmann::json u = chunk(*job, nlohmann::json::array());
        u["usage"] = usage_of(*job);
        if (!w.write(http::sse_event(dump(u)))) return;
    }
    w.write(http::sse_done());
}

struct Accumulated {
    std::string content, reasoning;
    nlohmann::json logprobs = nlohmann::json::array();
    std::string finish_reason, error;
    nlohmann::json stop_reason;
};

http::HttpResponse full_body(ChatJob& job, const http::HttpRequest& req) {
    std::vector<Accumulated> acc(job.choices.size());
    auto sink = [&](int32_t index, ChoiceDelta& d) {
        Accumulated& a = acc[static_cast<size_t>(index)];
        a.content += d.content;
        a.reasoning += d.reasoning;
        if (job.want_logprobs) {
            for (auto& e : output::chat_logprobs(*job.ctx.tokenizer, d.logprobs)) {
                a.logprobs.push_back(std::move(e));
            }
        }
        if (d.finished) {
            a.finish_reason = d.finish_reason;
            a.stop_reason = d.stop_reason;
            a.error = d.error;
        }
        return true;
    };
    if (!job.gen->run(job.choices, req.client_alive, sink)) {
        return error_response(bad_request("the client disconnected"));
    }
    nlohmann::json choices = nlohmann::json::array();
    for (size_t i = 0; i < acc.size(); ++i) {
        const Accumulated& a = acc[i];
        if (a.finish_reason == "error") return error_response(internal_error(a.error));
        nlohmann::json msg = {{"role", "assistant"}, {"content", a.content}};
        if (job.split_reasoning) {
            if (a.content.empty() && !a.reasoning.empty()) msg["content"] = nullptr;
            set_reasoning(msg, a.reasoning, true);
        }
        msg["tool_calls"] = nlohmann::json::array();
        nlohmann::json lp = nullptr;
        if (job.want_logprobs) lp = {{"content", a.logprobs}};
        choices.push_back({{"index", i},
                           {"message", std::move(msg)},
                           {"logprobs", std::move(lp)},
                           {"finish_reason", a.finish_reason},
                           {"stop_reason", a.stop_reason}});
    }
    return json_response({{"id", job.id},
                          {"object", "chat.completion"},
                          {"created", job.created},
                          {"model", job.ctx.model.served_name},
                          {"choices", std::move(choices)},
                          {"usage", usage_of(job)},
                          {"system_fingerprint", nullptr}});
}

std::optional<ApiError> prepare(const ServingContext& ctx, const http::HttpRequest& req,
                                ChatJob& job) {
    const auto arrival = output::Generation::Clock::now();
    nlohmann::json body;
    if (auto e = parse_body(req, body)) return e;
    ChatRequest r;
    if (auto e = parse_chat_request(body, ctx, r)) return e;
    if (auto e = read_template_inputs(req.body, body, r.messages, r.prompt)) return e;
    if (auto e = check_model(ctx, r.common.model)) return e;
    if (auto e = check_admission(ctx)) return e;
    // Images are decoded only after the admission check (a full queue costs no decoding).
    std::vector<EngineImage> images;
    if (auto e = load_images(ctx.media, r.messages, images)) return e;
    if (auto e = transcribe_audio_parts(ctx, r.messages, r.audio, req.client_alive)) return e;
    std::string prompt;
    if (auto e = render_prompt(ctx, r.messages, r.prompt, prompt)) return e;
    std::vector<int32_t> ids = ctx.tokenizer->encode(prompt);
    if (!images.empty()) {
        if (auto e = expand_image_tokens(ctx.media, images, ids)) return e;
    }
    const int32_t n_top = r.logprobs ? r.top_logprobs : -1;
    job.stream = r.common.stream;
    job.include_usage = r.common.include_usage;
    job.want_logprobs = r.logprobs;
    job.split_reasoning = ctx.reasoning == ReasoningParser::kGlm45;
    job.choices = make_choices(ctx, r.common, r.logprobs, job.split_reasoning);
    return start_generation(ctx, r.common, std::move(ids), n_top, arrival, job.gen,
                            std::move(images));
}

}  // namespace

http::HttpResponse handle_chat_completions(const ServingContext& ctx,
                                           const http::HttpRequest& req) {
    auto job = std::make_shared<ChatJob>();
    job->ctx = ctx;
    job->id = random_id("chatcmpl-");
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
