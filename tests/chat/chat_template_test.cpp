// GLM chat templates: character-for-character equal to transformers' apply_chat_template on the
// fixture conversations (tools/make_chat_fixtures.py), plus the spec's rendered examples.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "chat/chat_template.h"

namespace ag::chat {
namespace {

using nlohmann::json;
using PT = ContentPart::Type;

Message from_json(const json& m) {
    Message out;
    out.role = m.at("role").get<std::string>();
    out.metadata = m.value("metadata", "");
    const json& c = m.at("content");
    if (c.is_string()) {
        out.parts.push_back({PT::kText, c.get<std::string>()});
    } else {
        out.content_is_string = false;
        for (const auto& p : c) {
            const std::string t = p.at("type").get<std::string>();
            if (t == "text") out.parts.push_back({PT::kText, p.at("text").get<std::string>()});
            else out.parts.push_back({t == "image" ? PT::kImage : PT::kVideo, ""});
        }
    }
    return out;
}

std::string render(TemplateStyle style, const std::vector<Message>& msgs, RenderOptions o = {}) {
    auto r = ChatTemplate::for_style(style).render(msgs, o);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : "";
}

Message user(std::vector<ContentPart> parts) { return {"user", std::move(parts), false, ""}; }
Message text(const std::string& role, const std::string& s) { return {role, {{PT::kText, s}}, true, ""}; }
const ContentPart kImg{PT::kImage, ""};
ContentPart t(const std::string& s) { return {PT::kText, s}; }

TEST(ChatTemplate, MatchesTransformersOnFixtureConversations) {
    std::ifstream in("tests/fixtures/chat/cases.json");
    ASSERT_TRUE(in.good());
    const json cases = json::parse(in);
    ASSERT_GE(cases.size(), 30u);
    for (size_t i = 0; i < cases.size(); ++i) {
        const json& c = cases[i];
        std::vector<Message> msgs;
        for (const auto& m : c.at("messages")) msgs.push_back(from_json(m));
        RenderOptions o;
        o.add_generation_prompt = c.at("add_generation_prompt").get<bool>();
        if (!c.at("enable_thinking").is_null()) o.enable_thinking = c.at("enable_thinking").get<bool>();
        o.content_format = c.at("content_format") == "string" ? ContentFormat::kString : ContentFormat::kParts;
        const auto style = c.at("style") == "glm45" ? TemplateStyle::kGlm45 : TemplateStyle::kGlm41v;
        EXPECT_EQ(render(style, msgs, o), c.at("expected").get<std::string>()) << "case " << i;
    }
}

TEST(ChatTemplate, SpecRenderedExamples) {
    const auto S = TemplateStyle::kGlm41v;
    EXPECT_EQ(render(S, {text("user", "Hello")}), "[gMASK]<sop><|user|>\nHello<|assistant|>\n");
    EXPECT_EQ(render(S, {text("system", "SYS"), text("user", "Hello")}),
              "[gMASK]<sop><|system|>\nSYS<|user|>\nHello<|assistant|>\n");
    EXPECT_EQ(render(S, {user({kImg, t("Describe.")})}),
              "[gMASK]<sop><|user|>\n<|begin_of_image|><|image|><|end_of_image|>Describe.<|assistant|>\n");
    EXPECT_EQ(render(S, {user({t("Look:"), kImg})}),
              "[gMASK]<sop><|user|>\nLook:<|begin_of_image|><|image|><|end_of_image|><|assistant|>\n");
    EXPECT_EQ(render(S, {user({t("A"), t("B")})}), "[gMASK]<sop><|user|>\nAB<|assistant|>\n");
    EXPECT_EQ(render(S, {text("system", "SYS"), user({t("T1"), kImg}),
                         text("assistant", "<think>a</think><answer>b</answer>"), text("user", "T2")}),
              "[gMASK]<sop><|system|>\nSYS<|user|>\nT1<|begin_of_image|><|image|><|end_of_image|>"
              "<|assistant|>\n<think>a</think><answer>b</answer><|user|>\nT2<|assistant|>\n");
}

TEST(ChatTemplate, AutoGlmStringFormatPutsPlaceholderFirst) {
    RenderOptions o;
    o.content_format = ContentFormat::kString;
    EXPECT_EQ(render(TemplateStyle::kGlm41v, {user({t("Open WeChat"), kImg})}, o),
              "[gMASK]<sop><|user|>\n<|begin_of_image|><|image|><|end_of_image|>\nOpen WeChat<|assistant|>\n");
}

TEST(ChatTemplate, EnableThinkingIgnoredBy41vUsedBy45) {
    RenderOptions o;
    o.enable_thinking = false;
    EXPECT_EQ(render(TemplateStyle::kGlm41v, {text("user", "x")}, o), "[gMASK]<sop><|user|>\nx<|assistant|>\n");
    EXPECT_EQ(render(TemplateStyle::kGlm45, {text("user", "x")}, o),
              "[gMASK]<sop><|user|>\nx/nothink<|assistant|>\n<think></think>");
}

TEST(ChatTemplate, DetectsStyleFromSource) {
    auto read = [](const char* p) {
        std::ifstream in(p);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    EXPECT_EQ(ChatTemplate::detect(read("tests/fixtures/chat/glm41v.jinja")).style(), TemplateStyle::kGlm41v);
    EXPECT_EQ(ChatTemplate::detect(read("tests/fixtures/chat/glm45v_thinking.jinja")).style(),
              TemplateStyle::kGlm45);
    EXPECT_EQ(ChatTemplate::detect("").style(), TemplateStyle::kGlm41v);
}

TEST(ChatTemplate, Errors) {
    auto r = ChatTemplate::for_style(TemplateStyle::kGlm41v).render({text("wizard", "x")}, {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("wizard"), std::string::npos);
    Message sys{"system", {kImg}, false, ""};
    EXPECT_FALSE(ChatTemplate::for_style(TemplateStyle::kGlm41v).render({sys}, {}).ok());
}

}  // namespace
}  // namespace ag::chat
