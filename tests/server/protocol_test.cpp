// Request parsing and validation: every field's type and range, precedence rules, messages.
#include <gtest/gtest.h>

#include "server/openai/chat_completions/protocol.h"
#include "server/openai/media.h"
#include "server/openai/common_params.h"
#include "server/openai/completions/protocol.h"

namespace ag::server::openai {
namespace {

using nlohmann::json;

ServingContext context(ContentFormat format = ContentFormat::kAuto) {
    ServingContext ctx;
    ctx.model.served_name = "autoglm-phone-9b";
    ctx.model.max_model_len = 100;
    ctx.model.vocab_size = 1000;
    ctx.content_format = format;
    return ctx;
}

json base() { return {{"messages", {{{"role", "user"}, {"content", "hi"}}}}}; }

std::optional<ApiError> parse(const json& body, ChatRequest& r,
                              ContentFormat format = ContentFormat::kAuto) {
    return parse_chat_request(body, context(format), r);
}

// Expects a 400 naming `param` for base() + {key: value}.
void expect_rejected(const char* key, const json& value, const std::string& param) {
    json body = base();
    body[key] = value;
    ChatRequest r;
    auto e = parse(body, r);
    ASSERT_TRUE(e.has_value()) << key << "=" << value.dump();
    EXPECT_EQ(e->status, 400);
    EXPECT_EQ(e->param, param) << e->message;
}

TEST(ChatProtocol, MinimalRequestDefaults) {
    ChatRequest r;
    ASSERT_FALSE(parse(base(), r).has_value());
    EXPECT_EQ(r.common.n, 1);
    EXPECT_FALSE(r.common.stream);
    EXPECT_TRUE(r.common.skip_special_tokens);
    EXPECT_FALSE(r.common.max_tokens.has_value());
    EXPECT_FALSE(r.common.sampling.temperature.has_value());
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0].role, "user");
    EXPECT_TRUE(r.messages[0].content_is_string);
}

TEST(ChatProtocol, AllSamplingFieldsPassThrough) {
    json body = base();
    body.update({{"temperature", 0}, {"top_p", 0.85}, {"top_k", 5}, {"min_p", 0.1},
                 {"frequency_penalty", 0.2}, {"presence_penalty", -1}, {"repetition_penalty", 1.1},
                 {"seed", 42}, {"stop", "END"}, {"stop_token_ids", {3, 4}}, {"ignore_eos", true},
                 {"n", 3}, {"max_tokens", 7}, {"logprobs", true}, {"top_logprobs", 2}});
    ChatRequest r;
    ASSERT_FALSE(parse(body, r).has_value());
    const SamplingParams& s = r.common.sampling;
    EXPECT_EQ(*s.temperature, 0.0f);
    EXPECT_FLOAT_EQ(*s.top_p, 0.85f);
    EXPECT_EQ(*s.top_k, 5);
    EXPECT_FLOAT_EQ(*s.min_p, 0.1f);
    EXPECT_FLOAT_EQ(s.frequency_penalty, 0.2f);
    EXPECT_FLOAT_EQ(s.presence_penalty, -1.0f);
    EXPECT_FLOAT_EQ(*s.repetition_penalty, 1.1f);
    EXPECT_EQ(*s.seed, 42u);
    EXPECT_TRUE(s.ignore_eos);
    EXPECT_EQ(s.stop_token_ids, (std::vector<int32_t>{3, 4}));
    EXPECT_EQ(r.common.stop, (std::vector<std::string>{"END"}));
    EXPECT_EQ(r.common.n, 3);
    EXPECT_EQ(*r.common.max_tokens, 7);
    EXPECT_TRUE(r.logprobs);
    EXPECT_EQ(r.top_logprobs, 2);
}

TEST(ChatProtocol, MaxCompletionTokensWinsOverMaxTokens) {
    json body = base();
    body["max_tokens"] = 10;
    body["max_completion_tokens"] = 20;
    ChatRequest r;
    ASSERT_FALSE(parse(body, r).has_value());
    EXPECT_EQ(*r.common.max_tokens, 20);
}

TEST(ChatProtocol, NullMeansAbsentAndIntegralFloatsAreIntegers) {
    json body = base();
    body.update({{"temperature", nullptr}, {"stop", nullptr}, {"max_tokens", 5.0}});
    ChatRequest r;
    ASSERT_FALSE(parse(body, r).has_value());
    EXPECT_FALSE(r.common.sampling.temperature.has_value());
    EXPECT_EQ(*r.common.max_tokens, 5);
}

TEST(ChatProtocol, EveryFieldIsTypeAndRangeChecked) {
    expect_rejected("temperature", "hot", "temperature");
    expect_rejected("temperature", -0.1, "temperature");
    expect_rejected("top_p", 0, "top_p");
    expect_rejected("top_p", 1.5, "top_p");
    expect_rejected("top_k", -2, "top_k");
    expect_rejected("top_k", 1.5, "top_k");
    expect_rejected("min_p", 2, "min_p");
    expect_rejected("frequency_penalty", 2.5, "frequency_penalty");
    expect_rejected("presence_penalty", -3, "presence_penalty");
    expect_rejected("repetition_penalty", 0, "repetition_penalty");
    expect_rejected("seed", "x", "seed");
    expect_rejected("stop", 5, "stop");
    expect_rejected("stop", json::array({"a", 1}), "stop");
    expect_rejected("stop_token_ids", json::array({1, 5000}), "stop_token_ids");
    expect_rejected("stop_token_ids", "1", "stop_token_ids");
    expect_rejected("ignore_eos", 1, "ignore_eos");
    expect_rejected("n", 0, "n");
    expect_rejected("n", 1000, "n");
    expect_rejected("max_tokens", 0, "max_tokens");
    expect_rejected("max_tokens", "10", "max_tokens");
    expect_rejected("max_completion_tokens", -1, "max_completion_tokens");
    expect_rejected("stream", "yes", "stream");
    expect_rejected("logprobs", 3, "logprobs");
    expect_rejected("top_logprobs", 21, "top_logprobs");
    expect_rejected("model", 7, "model");
    expect_rejected("skip_special_tokens", "no", "skip_special_tokens");
    expect_rejected("return_reasoning", "no", "return_reasoning");
    expect_rejected("enable_thinking", "no", "enable_thinking");
    expect_rejected("chat_template_kwargs", "x", "chat_template_kwargs");
}

TEST(ChatProtocol, StreamOptionsNeedStream) {
    json body = base();
    body["stream_options"] = {{"include_usage", true}};
    ChatRequest r;
    auto e = parse(body, r);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->param, "stream_options");
    body["stream"] = true;
    ChatRequest r2;
    ASSERT_FALSE(parse(body, r2).has_value());
    EXPECT_TRUE(r2.common.include_usage);
}

TEST(ChatProtocol, TopLogprobsNeedsLogprobs) {
    json body = base();
    body["top_logprobs"] = 2;
    ChatRequest r;
    auto e = parse(body, r);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->param, "top_logprobs");
}

TEST(ChatProtocol, UnknownFieldsAreAccepted) {
    json body = base();
    body.update({{"foo", 1}, {"extra_thing", {{"a", 1}}}, {"user", "me"}});
    ChatRequest r;
    EXPECT_FALSE(parse(body, r).has_value());
}

TEST(ChatProtocol, ThinkingFlagsAndReasoningAlias) {
    json body = base();
    body["enable_thinking"] = true;
    body["return_reasoning"] = false;
    ChatRequest r;
    ASSERT_FALSE(parse(body, r).has_value());
    EXPECT_EQ(r.prompt.enable_thinking, true);
    EXPECT_EQ(r.common.include_reasoning, false);
    body["chat_template_kwargs"] = {{"enable_thinking", false}};
    body["include_reasoning"] = true;
    ChatRequest r2;
    ASSERT_FALSE(parse(body, r2).has_value());
    EXPECT_EQ(r2.prompt.enable_thinking, false);  // chat_template_kwargs wins
    EXPECT_EQ(r2.common.include_reasoning, true);  // include_reasoning wins over the alias
}

TEST(ChatProtocol, MessagesValidation) {
    ChatRequest r;
    EXPECT_TRUE(parse(json::object(), r).has_value());
    EXPECT_TRUE(parse({{"messages", json::array()}}, r).has_value());
    EXPECT_TRUE(parse({{"messages", "hi"}}, r).has_value());
    EXPECT_TRUE(parse({{"messages", {{{"content", "x"}}}}}, r).has_value());
    EXPECT_TRUE(parse({{"messages", {{{"role", "user"}, {"content", 5}}}}}, r).has_value());
    EXPECT_TRUE(parse({{"messages", {{{"role", "user"}, {"content", {{{"type", "text"}}}}}}}}, r)
                    .has_value());
    EXPECT_TRUE(
        parse({{"messages", {{{"role", "user"}, {"content", {{{"type", "magic"}}}}}}}}, r)
            .has_value());
}

TEST(ChatProtocol, ImagePartsCarryTheirUrl) {
    json parts = {{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,AA"}}}},
                  {{"type", "image_url"}, {"image_url", "file:///tmp/x.png"}},
                  {{"type", "text"}, {"text", "what is this"}}};
    ChatRequest r;
    ASSERT_FALSE(parse({{"messages", {{{"role", "user"}, {"content", parts}}}}}, r).has_value());
    const auto& p = r.messages[0].parts;
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(p[0].type, chat::ContentPart::Type::kImage);
    EXPECT_EQ(p[0].text, "data:image/png;base64,AA");
    EXPECT_EQ(p[1].text, "file:///tmp/x.png");
    EXPECT_EQ(collect_image_urls(r.messages),
              (std::vector<std::string>{"data:image/png;base64,AA", "file:///tmp/x.png"}));
}

TEST(ChatProtocol, AudioPartsBecomeTextPartsToTranscribe) {
    ChatRequest r;
    json content = {{{"type", "text"}, {"text", "before"}},
                    {{"type", "input_audio"}, {"input_audio", {{"data", "UklGRg=="}, {"format", "mp3"}}}},
                    {{"type", "audio_url"}, {"audio_url", {{"url", "file:///tmp/a.wav"}}}},
                    {{"type", "audio_url"}, {"audio_url", "data:audio/wav;base64,AA"}}};
    ASSERT_FALSE(parse({{"messages", {{{"role", "user"}, {"content", content}}}}}, r));
    const auto& p = r.messages[0].parts;
    ASSERT_EQ(p.size(), 4u);
    for (size_t i = 1; i < 4; ++i) {
        EXPECT_EQ(p[i].type, chat::ContentPart::Type::kText);
        EXPECT_EQ(p[i].text, "");  // the transcript goes here
    }
    ASSERT_EQ(r.audio.size(), 3u);
    EXPECT_EQ(r.audio[0].part, 1u);
    EXPECT_EQ(r.audio[0].source, "data:audio/mp3;base64,UklGRg==");
    EXPECT_EQ(r.audio[1].source, "file:///tmp/a.wav");
    EXPECT_EQ(r.audio[2].source, "data:audio/wav;base64,AA");
    EXPECT_EQ(r.audio[2].where, "messages[0].content[3]");
}

TEST(ChatProtocol, OtherMediaAndMalformedImagePartsAreRejected) {
    for (const json& part : {json{{"type", "input_audio"}, {"input_audio", {{"format", "wav"}}}},
                             json{{"type", "audio_url"}, {"audio_url", 3}},
                             json{{"type", "video_url"}, {"video_url", {{"url", "x"}}}},
                             json{{"type", "image_url"}},
                             json{{"type", "image_url"}, {"image_url", {{"url", 3}}}}}) {
        ChatRequest r;
        auto e = parse({{"messages", {{{"role", "user"}, {"content", {part}}}}}}, r);
        ASSERT_TRUE(e.has_value()) << part.dump();
        EXPECT_EQ(e->status, 400);
        EXPECT_NE(e->message.find("messages[0].content[0]"), std::string::npos) << e->message;
    }
}

TEST(ChatProtocol, ContentFormats) {
    json parts = {{{"type", "text"}, {"text", "A"}}, {{"type", "text"}, {"text", "B"}}};
    json body = {{"messages", {{{"role", "user"}, {"content", parts}}}}};
    ChatRequest r;
    ASSERT_FALSE(parse(body, r).has_value());
    ASSERT_EQ(r.messages[0].parts.size(), 2u);
    EXPECT_FALSE(r.messages[0].content_is_string);
    auto render = [&](ContentFormat f) {
        ServingContext ctx = context(f);
        ctx.chat_template = std::make_shared<const chat::ChatTemplate>(
            chat::ChatTemplate::for_style(chat::TemplateStyle::kGlm41v));
        std::string out;
        EXPECT_FALSE(render_prompt(ctx, r.messages, {}, out).has_value());
        return out;
    };
    EXPECT_EQ(render(ContentFormat::kString), "[gMASK]<sop><|user|>\nA\nB<|assistant|>\n");
    EXPECT_EQ(render(ContentFormat::kOpenai), "[gMASK]<sop><|user|>\nAB<|assistant|>\n");
    EXPECT_EQ(render(ContentFormat::kAuto), "[gMASK]<sop><|user|>\nAB<|assistant|>\n");
}

TEST(ChatProtocol, NoChatTemplateIs400) {
    ChatRequest r;
    ASSERT_FALSE(parse(base(), r).has_value());
    std::string out;
    auto e = render_prompt(context(), r.messages, {}, out);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->status, 400);
}

TEST(ChatProtocol, ToolsAndResponseFormatAreRefused) {
    expect_rejected("tools", json::array({{{"type", "function"}}}), "tools");
    expect_rejected("response_format", {{"type", "json_object"}}, "response_format");
    json body = base();
    body["response_format"] = {{"type", "text"}};
    ChatRequest r;
    EXPECT_FALSE(parse(body, r).has_value());
}

TEST(PromptLength, VllmRuleAndMessages) {
    int32_t out = 0;
    EXPECT_FALSE(fit_max_tokens(30, 100, std::nullopt, out).has_value());
    EXPECT_EQ(out, 70);
    EXPECT_FALSE(fit_max_tokens(30, 100, 70, out).has_value());
    EXPECT_EQ(out, 70);
    auto e = fit_max_tokens(30, 100, 71, out);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->message,
              "This model's maximum context length is 100 tokens. However, you requested 101 "
              "tokens (30 in the messages, 71 in the completion). Please reduce the length of "
              "the messages or completion.");
    auto e2 = fit_max_tokens(100, 100, std::nullopt, out);
    ASSERT_TRUE(e2.has_value());
    EXPECT_NE(e2->message.find("your request has 100 input tokens"), std::string::npos);
}

TEST(CompletionProtocol, PromptShapes) {
    const ServingContext ctx = context();
    CompletionRequest a;
    ASSERT_FALSE(parse_completion_request({{"prompt", "hello"}}, ctx, a).has_value());
    EXPECT_EQ(*a.prompt_text, "hello");
    CompletionRequest b;
    ASSERT_FALSE(parse_completion_request({{"prompt", {1, 2, 3}}}, ctx, b).has_value());
    EXPECT_EQ(b.prompt_ids, (std::vector<int32_t>{1, 2, 3}));
    CompletionRequest c;
    ASSERT_FALSE(parse_completion_request({{"prompt", {"one"}}}, ctx, c).has_value());
    EXPECT_EQ(*c.prompt_text, "one");
    CompletionRequest d;
    EXPECT_TRUE(parse_completion_request({{"prompt", {"a", "b"}}}, ctx, d).has_value());
    EXPECT_TRUE(parse_completion_request({{"prompt", {1, 99999}}}, ctx, d).has_value());
    EXPECT_TRUE(parse_completion_request(json::object(), ctx, d).has_value());
    EXPECT_TRUE(parse_completion_request({{"prompt", "x"}, {"echo", true}}, ctx, d).has_value());
    EXPECT_TRUE(parse_completion_request({{"prompt", "x"}, {"logprobs", 21}}, ctx, d)
                    .has_value());
    CompletionRequest e;
    ASSERT_FALSE(parse_completion_request({{"prompt", "x"}, {"logprobs", 3}}, ctx, e).has_value());
    EXPECT_EQ(*e.logprobs, 3);
}

}  // namespace
}  // namespace ag::server::openai
