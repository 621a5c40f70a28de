// The real GLM chat templates (tests/fixtures/chat/templates/) rendered by our Jinja engine,
// character for character against transformers' apply_chat_template
// (tools/make_template_fixtures.py), including the cases where transformers raises.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>

#include "chat/chat_template.h"

namespace ag::chat {
namespace {

using ojson = nlohmann::ordered_json;
using PT = ContentPart::Type;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::optional<std::string> opt_string(const ojson& m, const char* key) {
    auto it = m.find(key);
    if (it == m.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

// An OpenAI-shaped message as the server's parser builds it.
Message to_message(const ojson& m) {
    Message out;
    out.role = m.at("role").get<std::string>();
    out.metadata = m.value("metadata", "");
    out.name = opt_string(m, "name");
    out.tool_call_id = opt_string(m, "tool_call_id");
    out.reasoning_content = opt_string(m, "reasoning_content");
    if (auto it = m.find("tool_calls"); it != m.end()) out.tool_calls = *it;
    const auto c = m.find("content");
    if (c == m.end() || c->is_null()) return out;
    if (c->is_string()) {
        out.parts.push_back({PT::kText, c->get<std::string>()});
        return out;
    }
    out.content_is_string = false;
    for (const ojson& p : *c) {
        const std::string type = p.at("type").get<std::string>();
        if (type == "text") out.parts.push_back({PT::kText, p.at("text").get<std::string>()});
        else out.parts.push_back({type == "image" ? PT::kImage : PT::kVideo, ""});
    }
    return out;
}

TEST(TemplateFixtures, EveryCaseMatchesTransformers) {
    const ojson data = ojson::parse(read_file("tests/fixtures/chat/template_cases.json"));
    const ojson& cases = data.at("cases");
    ASSERT_GE(cases.size(), 300u) << "no golden cases loaded";
    std::map<std::string, ChatTemplate> templates;
    size_t n_ok = 0, n_err = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const ojson& c = cases[i];
        const std::string tname = c.at("template").get<std::string>();
        if (!templates.count(tname)) {
            Result<ChatTemplate> t = ChatTemplate::from_source(
                read_file("tests/fixtures/chat/templates/" + tname + ".jinja"));
            ASSERT_TRUE(t.ok()) << tname << ": " << t.status().to_string();
            templates.emplace(tname, std::move(t).value());
        }
        const ojson& conv = data.at("conversations").at(c.at("conversation").get<std::string>());
        std::vector<Message> msgs;
        for (const ojson& m : conv.at("messages")) msgs.push_back(to_message(m));
        RenderOptions o;
        o.add_generation_prompt = c.at("add_generation_prompt").get<bool>();
        if (!c.at("enable_thinking").is_null()) o.enable_thinking = c.at("enable_thinking").get<bool>();
        o.content_format = c.at("content_format") == "string" ? ContentFormat::kString
                                                               : ContentFormat::kParts;
        o.tools = conv.at("tools");
        SCOPED_TRACE("case " + std::to_string(i) + ": " + tname + " / " +
                     c.at("conversation").get<std::string>() + " / " +
                     c.at("content_format").get<std::string>() +
                     " thinking=" + c.at("enable_thinking").dump() +
                     " gen=" + c.at("add_generation_prompt").dump());
        Result<std::string> r = templates.at(tname).render(msgs, o);
        if (c.contains("error")) {
            EXPECT_FALSE(r.ok()) << "transformers raised " << c.at("error").get<std::string>();
            ++n_err;
            continue;
        }
        ASSERT_TRUE(r.ok()) << r.status().to_string();
        EXPECT_EQ(*r, c.at("expected").get<std::string>());
        ++n_ok;
    }
    EXPECT_GT(n_ok, 300u);
    EXPECT_GT(n_err, 0u);
    EXPECT_EQ(templates.size(), 5u);
}

}  // namespace
}  // namespace ag::chat
