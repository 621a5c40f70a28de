// Output processing: stop-string holdback across token boundaries, the glm45 reasoning split
// across tokens, SSE framing, usage / error JSON, logprobs shapes.
#include <gtest/gtest.h>

#include "server/http/sse.h"
#include "server/openai/api_error.h"
#include "server/openai/serving_common.h"
#include "server/output/choice_stream.h"
#include "server/output/logprobs.h"
#include "server/output/stop_matcher.h"
#include "server/reasoning/glm45_parser.h"
#include "tokenizer/tokenizer.h"

namespace ag::server {
namespace {

using output::StopMatcher;
using reasoning::Glm45Parser;

const tok::Tokenizer& tokenizer() {
    static const tok::Tokenizer t = [] {
        auto r = tok::Tokenizer::load("tests/fixtures/tokenizers/glm4");
        EXPECT_TRUE(r.ok()) << r.status().message();
        return std::move(r).value();
    }();
    return t;
}

// Feeds `pieces` one by one; returns everything emitted and the stop string (if any).
std::pair<std::string, std::optional<std::string>> run_stops(
    std::vector<std::string> stops, const std::vector<std::string>& pieces) {
    StopMatcher m(std::move(stops));
    std::string out;
    for (const auto& p : pieces) {
        StopMatcher::Step s = m.push(p);
        out += s.text;
        if (s.stop) return {out, s.stop};
    }
    return {out + m.flush(), std::nullopt};
}

TEST(StopMatcher, SplitAcrossPiecesIsNeverEmitted) {
    auto [text, stop] = run_stops({"STOP"}, {"hello S", "T", "OP world"});
    EXPECT_EQ(text, "hello ");
    EXPECT_EQ(stop, "STOP");
}

TEST(StopMatcher, HeldPrefixIsReleasedWhenItDiverges) {
    StopMatcher m({"STOP"});
    EXPECT_EQ(m.push("abc ST").text, "abc ");
    EXPECT_EQ(m.push("AR").text, "STAR");
}

TEST(StopMatcher, FlushReleasesAnUnfinishedPrefix) {
    auto [text, stop] = run_stops({"</answer>"}, {"done </ans"});
    EXPECT_EQ(text, "done </ans");
    EXPECT_FALSE(stop.has_value());
}

TEST(StopMatcher, EarliestMatchWinsAmongSeveral) {
    auto [text, stop] = run_stops({"world", "lo w"}, {"hello world"});
    EXPECT_EQ(text, "hel");
    EXPECT_EQ(stop, "lo w");
}

TEST(StopMatcher, MultiByteStopStrings) {
    auto [text, stop] = run_stops({"你好"}, {"说", "\xe4\xbd\xa0", "好吗"});
    EXPECT_EQ(text, "说");
    EXPECT_EQ(stop, "你好");
}

TEST(StopMatcher, NoStopsPassesThrough) {
    auto [text, stop] = run_stops({}, {"a", "b"});
    EXPECT_EQ(text, "ab");
}

reasoning::ReasoningDelta feed(Glm45Parser& p, const std::vector<std::string>& pieces) {
    reasoning::ReasoningDelta all;
    for (const auto& s : pieces) {
        auto d = p.push(s);
        all.reasoning += d.reasoning;
        all.content += d.content;
    }
    auto d = p.flush();
    all.reasoning += d.reasoning;
    all.content += d.content;
    return all;
}

TEST(Glm45Parser, SplitsThinkBlockAcrossTokens) {
    Glm45Parser p;
    auto d = feed(p, {"<th", "ink>I am", " thinking</", "think><answer>", "do()</answer>"});
    EXPECT_EQ(d.reasoning, "I am thinking");
    EXPECT_EQ(d.content, "<answer>do()</answer>");
}

TEST(Glm45Parser, NoThinkTagMeansAllContent) {
    Glm45Parser p;
    auto d = feed(p, {"plain ", "<thin", "g> answer"});
    EXPECT_EQ(d.reasoning, "");
    EXPECT_EQ(d.content, "plain <thing> answer");
}

TEST(Glm45Parser, UnclosedThinkIsReasoning) {
    Glm45Parser p;
    auto d = feed(p, {"<think>", "still going </thi"});
    EXPECT_EQ(d.reasoning, "still going </thi");
    EXPECT_EQ(d.content, "");
}

TEST(Glm45Parser, EachPieceEmitsAsSoonAsSafe) {
    Glm45Parser p;
    EXPECT_EQ(p.push("<think>abc").reasoning, "abc");
    auto d = p.push("</think>xyz");
    EXPECT_EQ(d.content, "xyz");
    EXPECT_EQ(d.reasoning, "");
}

EngineOutput step(std::vector<int32_t> ids, bool finished = false,
                  FinishReason r = FinishReason::kNone) {
    EngineOutput out;
    out.tokens = std::move(ids);
    out.finished = finished;
    out.finish_reason = r;
    out.n_prompt_tokens = 12;
    out.n_cached_tokens = 4;
    return out;
}

TEST(ChoiceStream, StopStringAcrossTokensEndsTheChoice) {
    const tok::Tokenizer& t = tokenizer();
    const std::vector<int32_t> ids = t.encode("Hello world, stop here please");
    output::ChoiceOptions o;
    o.stop = {"stop here"};
    output::ChoiceStream c(t, o);
    std::string text;
    size_t i = 0;
    for (; i < ids.size() && !c.finished(); ++i) text += c.on_output(step({ids[i]})).content;
    EXPECT_TRUE(c.finished());
    EXPECT_TRUE(c.stopped_by_string());
    EXPECT_EQ(text, "Hello world, ");
    EXPECT_LT(i, ids.size());
    EXPECT_EQ(c.n_prompt_tokens(), 12);
    EXPECT_EQ(c.n_cached_tokens(), 4);
}

TEST(ChoiceStream, ReasoningSplitAndFinishReason) {
    const tok::Tokenizer& t = tokenizer();
    const std::vector<int32_t> ids = t.encode("<think>hmm</think><answer>ok</answer>");
    output::ChoiceOptions o;
    o.split_reasoning = true;
    output::ChoiceStream c(t, o);
    std::string content, reasoning;
    for (int32_t id : ids) {
        auto d = c.on_output(step({id}));
        content += d.content;
        reasoning += d.reasoning;
    }
    auto last = c.on_output(step({}, true, FinishReason::kStop));
    EXPECT_TRUE(last.finished);
    EXPECT_EQ(last.finish_reason, "stop");
    EXPECT_EQ(reasoning, "hmm");
    EXPECT_EQ(content, "<answer>ok</answer>");
    EXPECT_EQ(c.n_completion_tokens(), static_cast<int32_t>(ids.size()));
}

TEST(ChoiceStream, ReasoningDroppedWhenNotIncluded) {
    const tok::Tokenizer& t = tokenizer();
    output::ChoiceOptions o;
    o.split_reasoning = true;
    o.include_reasoning = false;
    output::ChoiceStream c(t, o);
    auto d = c.on_output(step(t.encode("<think>secret</think>visible"), true,
                              FinishReason::kLength));
    EXPECT_EQ(d.reasoning, "");
    EXPECT_EQ(d.content, "visible");
    EXPECT_EQ(d.finish_reason, "length");
}

TEST(ChoiceStream, StopTokenIdIsTheStopReason) {
    output::ChoiceStream c(tokenizer(), {});
    EngineOutput out = step({}, true, FinishReason::kStop);
    out.stop_token_id = 3000;
    auto d = c.on_output(out);
    EXPECT_EQ(d.stop_reason, 3000);
}

TEST(Sse, Framing) {
    EXPECT_EQ(http::sse_event("{\"a\":1}"), "data: {\"a\":1}\n\n");
    EXPECT_EQ(http::sse_done(), "data: [DONE]\n\n");
}

TEST(Json, UsageAlwaysHasCachedTokens) {
    auto u = openai::usage_json(10, 5, 3);
    EXPECT_EQ(u.dump(),
              R"({"completion_tokens":5,"prompt_tokens":10,"prompt_tokens_details":)"
              R"({"cached_tokens":3},"total_tokens":15})");
}

TEST(Json, ErrorShape) {
    auto e = openai::error_json(openai::bad_request("bad", "temperature"));
    EXPECT_EQ(e["error"]["message"], "bad");
    EXPECT_EQ(e["error"]["type"], "BadRequestError");
    EXPECT_EQ(e["error"]["param"], "temperature");
    EXPECT_EQ(e["error"]["code"], 400);
    EXPECT_TRUE(openai::error_json(openai::not_found("x"))["error"]["param"].is_null());
}

TEST(Json, DumpNeverThrowsOnInvalidUtf8) {
    nlohmann::json j = {{"s", std::string("\xff\xfe")}};
    EXPECT_NO_THROW(openai::dump(j));
}

TEST(Logprobs, ChatAndCompletionShapes) {
    const tok::Tokenizer& t = tokenizer();
    const int32_t id = t.encode("Hello")[0];
    std::vector<TokenLogprob> lps = {{id, -0.25f, {{id, -0.25f}}}};
    auto chat = output::chat_logprobs(t, lps);
    ASSERT_EQ(chat.size(), 1u);
    EXPECT_EQ(chat[0]["token"], t.decode(std::vector<int32_t>{id}));
    EXPECT_EQ(chat[0]["logprob"], -0.25);
    EXPECT_TRUE(chat[0]["bytes"].is_array());
    EXPECT_EQ(chat[0]["top_logprobs"].size(), 1u);
    nlohmann::json obj;
    int64_t offset = 0;
    output::append_completion_logprobs(t, lps, obj, offset);
    EXPECT_EQ(obj["tokens"].size(), 1u);
    EXPECT_EQ(obj["text_offset"][0], 0);
    EXPECT_EQ(obj["token_logprobs"][0], -0.25);
    EXPECT_TRUE(obj["top_logprobs"][0].is_object());
    EXPECT_GT(offset, 0);
}

}  // namespace
}  // namespace ag::server
